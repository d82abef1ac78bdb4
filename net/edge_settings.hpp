#pragma once
// The limits and deadlines the HTTP edge enforces: the server.* keys (read once at start, never
// reloaded; docs/CONFIGURATION.md) and the fixed constants beside them, each with why it exists.
// Shared by the connection gate (net/connection_gate.hpp), the worker pool
// (net/worker_pool.hpp) and the request exchange (net/request_exchange.hpp).
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/http_framing.hpp"

namespace luffy {

using steady = std::chrono::steady_clock;

// Longest request head the gate waits for; Fluent Bit's are well under 1 KiB. Longer: 431.
inline constexpr size_t kMaxHeadBytes = 32 << 10;
// Body bytes the gate waits for (in the kernel buffer) before a request gets a worker: small
// bodies are complete before a thread touches them, large ones have proven some throughput.
inline constexpr size_t kBodyPrefetch = 16 << 10;
// How long a body in a worker may stay below server.min_body_rate while requests wait for a
// worker before it is cut.
inline constexpr auto kSaturatedGrace = std::chrono::milliseconds(500);
// The gate's poll interval: deadlines, held requests and the watchdog are looked at this often.
inline constexpr auto kTick = std::chrono::milliseconds(50);
// A closing connection is read and dropped for at most this long, and this much.
inline constexpr auto kLingerTime = std::chrono::milliseconds(2000);
inline constexpr int64_t kLingerBytes = 1 << 20;
// A body that its route does not read is read and dropped up to this size before the answer;
// a longer one closes the connection after the answer.
inline constexpr size_t kDiscardLimit = 64 << 10;

struct edge_settings {
  steady::duration header_timeout{};     // server.header_timeout_seconds
  steady::duration body_timeout{};       // server.body_timeout_seconds
  steady::duration keepalive_timeout{};  // server.keepalive_timeout_seconds
  steady::duration request_timeout{};    // server.request_timeout_seconds (also the per-read one)
  // A response the client does not read within this closes its connection.
  steady::duration write_timeout{};  // server.write_timeout_seconds
  int64_t min_body_rate = 0;         // server.min_body_rate (bytes/s), when saturated
  int64_t max_body_bytes = 0;        // server.max_body_bytes: a longer declared body is a 413
  // One client address holds at most this many connections (server.max_connections_per_client);
  // 0: no cap.
  int64_t max_per_client = 0;
  // server.max_open_connections, lowered to fit the descriptor limit when it cannot be raised.
  int64_t max_open = 0;
  size_t max_queued = 0;  // server.max_queued: requests with a complete head waiting for a worker
  size_t threads = 0;     // server.threads: workers
  framing_limits limits;  // head limits for core/http_framing (max_head_bytes = kMaxHeadBytes)
};

}  // namespace luffy
