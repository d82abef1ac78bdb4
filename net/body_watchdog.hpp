#pragma once
// The watchdog's rule for a request body a worker is reading (net/worker_pool.hpp watch()): when
// it is cut. Pure; no I/O.
#include <cstdint>

#include "net/edge_settings.hpp"

namespace luffy {

struct body_progress {
  steady::duration elapsed{};  // since the gate saw the head (the body clock)
  int64_t read = 0;            // body bytes taken from the socket so far
  int64_t expected = -1;       // Content-Length; -1 when unknown (chunked)
  int64_t prefetched = 0;      // bytes that were already in the kernel buffer at hand-over
};

// True when the body is to be cut: it is not complete and either past
// server.body_timeout_seconds, or - while requests wait for a worker (`saturated`) - below
// server.min_body_rate after kSaturatedGrace. Prefetched bytes do not count towards the rate.
bool body_overdue(const body_progress& p, const edge_settings& s, bool saturated);

}  // namespace luffy
