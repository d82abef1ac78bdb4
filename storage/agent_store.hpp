#pragma once
// agent_store: the sending agents' state in Redis (storage/keys.hpp agent_key, agent_minutes_key,
// agents_index_key, agents_awake_key; docs/API.md "Agents").
//
// Contract: `flush` and `check_silent` are one script call each (storage/lua/agent_flush.lua,
// agent_silent.lua), atomic, so with several nodes every silent/back transition is emitted once.
// `page` reads the index newest last_seen first, from a cursor, in pipelined batches, and scans at
// most `scan_budget` agents per call: a page may hold fewer than `limit` agents while its
// next_cursor is set. A redis_result that is not ok() means Redis did not answer or answered
// something unexpected. Not thread-safe: one per actor or HTTP thread.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/agent_tally.hpp"
#include "storage/redis_client.hpp"

namespace luffy {

struct agent_counts {
  int64_t changed = 0;  // flush: deltas dropped by the unauthenticated bound; check: flagged
  int64_t known = 0;    // agents in the index
  int64_t silent = 0;   // of them flagged silent
  int64_t now_ms = 0;   // Redis time
};

// One agent as stored: its hash and its per-minute counts.
struct agent_row {
  std::string id;
  std::map<std::string, std::string> fields;
  std::map<int64_t, uint64_t> minutes;  // unix minute -> accepted records
};

struct agent_query {
  size_t limit = 100;
  // Resume after this (last_seen ms, id); nullopt = from the newest.
  std::optional<std::pair<int64_t, std::string>> after;
  std::optional<bool> silent;  // only agents with this flag
  bool all_services = true;    // else only agents that sent one of `services` ...
  std::vector<std::string> services;
  bool any_service = false;   // ... or, with this, any service at all (a "*" token)
  size_t scan_budget = 2000;  // agents examined per call
};

struct agent_page {
  std::vector<agent_row> agents;
  std::optional<std::pair<int64_t, std::string>> next;  // cursor of the next page, if any
};

class agent_store {
 public:
  explicit agent_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  agent_store(const agent_store&) = delete;
  agent_store& operator=(const agent_store&) = delete;

  // Adds `deltas` (one flush interval of this node). `max_known`: a delta with no valid token
  // may create a new agent only while fewer are known.
  redis_result<agent_counts> flush(const std::string& prefix,
                                   const std::vector<agent_delta>& deltas, int64_t retention_ms,
                                   int64_t max_known);

  // Flags (at most `max_flag`) agents silent for `silent_ms` and emits their agent_silent events.
  redis_result<agent_counts> check_silent(const std::string& prefix, int64_t silent_ms,
                                          int64_t max_flag, int64_t retention_ms);

  redis_result<agent_page> page(const std::string& prefix, const agent_query& q);

 private:
  redis_client redis_;
};

}  // namespace luffy
