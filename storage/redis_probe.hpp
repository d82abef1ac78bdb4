#pragma once
// redis_probe: pings Redis once a second from its own connection and its own thread. /ready, the
// redis_up gauge, the per-minute summary and the redis_memory backpressure gate read what it
// stores in `ingest_metrics` (redis_up, redis_used_memory, redis_maxmemory); ingest requests
// never wait on it.
//
// Contract: Redis counts as down after three missed pings in a row (each with a 500 ms timeout),
// up again at the first answer; used_memory/maxmemory are refreshed after each answered ping.
// The destructor stops the thread within about 100 ms plus one round trip. `m` must outlive the
// probe. Not copyable or movable (the thread holds `this`).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/ingest_metrics.hpp"
#include "storage/redis_client.hpp"

namespace luffy {

// "" unless Redis refuses the endpoint's credentials (a wrong password, or none where one is
// required): then what Redis said, for a start-up error. Redis being down is not a credentials
// problem: the server starts, and /ready answers 503 until Redis is back.
std::string credentials_problem(const redis_endpoint& ep);

class redis_probe {
 public:
  // `journal_streams`: the journal stream keys whose total length (XLEN) it stores in
  // m.journal_entries_waiting after each answered ping (none: not read).
  // `dead_letter_stream`: its length goes to ingest_metrics::dead_letters ("" = not read).
  redis_probe(redis_endpoint ep, ingest_metrics& m, std::vector<std::string> journal_streams = {},
              std::string dead_letter_stream = "");
  ~redis_probe();
  redis_probe(const redis_probe&) = delete;
  redis_probe& operator=(const redis_probe&) = delete;

 private:
  void run(redis_endpoint ep, ingest_metrics& m, const std::vector<std::string>& streams,
           const std::string& dead_letter_stream);

  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once stop_ exists
};

}  // namespace luffy
