#pragma once
// The connection gate's decisions that touch no socket, apart so that they can be tested alone:
// which parked connection makes room at the connection cap, how much of a body the gate waits
// for before a worker gets the request, and the bytes of a refusal the gate sends itself.
// Pure functions; no I/O.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_framing.hpp"
#include "net/edge_settings.hpp"

namespace luffy {

// What eviction looks at in a parked connection.
struct eviction_rank {
  int64_t client_open = 0;   // open connections of its client address (0 when not counted)
  bool idle = false;         // kept alive between requests
  uint64_t requests = 0;     // served on it
  steady::time_point since;  // when it started waiting in the gate
};

// True when `a` is closed before `b` to make room at server.max_open_connections: first from the
// address holding the most connections (one client cannot crowd out the others), then idle
// kept-alive connections before those still sending a request, among idle ones the one that served
// the fewest requests (an agent's busy connection goes last), then the one waiting longest.
bool evicted_before(const eviction_rank& a, const eviction_rank& b);

// Body bytes the gate waits for (in the kernel buffer) before a request with this head gets a
// worker: the whole body up to kBodyPrefetch (large bodies then stream through a worker under
// the minimum-rate rule); none for a chunked body, or one the client sends only after a
// 100 Continue.
int64_t prefetch_wanted(const request_head& h);

// A complete HTTP/1.1 response with a JSON error body (net/ingest_gateway.hpp error_body) and
// Connection: close, as the gate sends it when it refuses a request or a connection itself.
std::string refusal_response(int status, std::string_view code, std::string_view message);

}  // namespace luffy
