#pragma once
// sentinel: finds the current Redis primary through Redis Sentinel (hiredis 0.14 has no Sentinel
// support; this follows the Sentinel client guidelines,
// https://redis.io/docs/reference/sentinel-clients/).
//
// discover_primary asks the sentinels of an endpoint (from a sentinel:// URL), in order, for the
// address of its master (SENTINEL get-master-addr-by-name), and confirms the answer on that
// server itself (AUTH with the endpoint's user and password, then ROLE must say "master"): a
// sentinel can answer with a stale primary during a failover, and a demoted primary answers ROLE
// with "slave". The first confirmed answer wins; when none is confirmed the error names what each
// sentinel said.
//
// Contract: blocking, at most the endpoint's timeout per connection attempt and per reply, so at
// most about 2 x sentinels x timeout in all; no state kept between calls (redis_client discovers
// again at every connect, and drops its connection on an I/O error or a -READONLY reply). Never
// puts the password in an error. The sentinels themselves are asked without a password.
#include <chrono>

#include "core/redis_url.hpp"
#include "storage/redis_client.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

// `ep.sentinels` and `ep.master` must be set.
redis_result<redis_host> discover_primary(const redis_endpoint& ep);

}  // namespace luffy
