#pragma once
// The sending agents as the receiving side sees them (GET /api/v1/agents, docs/API.md "Agents"):
// one agent = (client address, User-Agent header), id = 16 hex digits of xxh3-64 of both. Each
// ingest request adds one report to this node's tally; actors/agent_tracker.hpp drains the tally
// once per second and adds the deltas to Redis in one script call (storage/agent_store.hpp).
//
// Why a lock-protected map and not a message per request to the tracker: a report is a handful of
// counters; a CAF message per request would allocate and enqueue on every ingest request, and an
// actor's mailbox has no bound of its own, so a flood of requests (or of distinct User-Agents)
// would grow it without limit while Redis is slow. Here the bound is checked where the memory is
// taken: at most `max_tracked` agents per flush interval, every further agent's report goes to a
// counted overflow. The lock is held for one hash lookup and a few additions per request.
//
// Contract: thread-safe. Every string stored is bounded (address 64 bytes, User-Agent, hostnames
// and service ids 256 bytes each), valid UTF-8 and free of control characters (they reach JSON,
// events and the console as text); hostnames are at most 10 and services at most 20 per agent.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace luffy {

inline constexpr size_t kAgentMaxHostnames = 10;
inline constexpr size_t kAgentMaxServices = 20;
inline constexpr size_t kAgentMaxText = 256;    // User-Agent, hostname, service id (bytes)
inline constexpr size_t kAgentMaxAddress = 64;  // an IPv6 address text is at most 45
inline constexpr size_t kAgentMaxMinutes = 4;   // arrival minutes one delta may span

// The body formats counted per agent; the index into agent_delta::formats.
enum class agent_format : uint8_t { json = 0, json_lines = 1, msgpack = 2, gzip = 3 };
inline constexpr std::array<std::string_view, 4> kAgentFormatNames = {"json", "json_lines",
                                                                      "msgpack", "gzip"};

// What one status means for the agent (Fluent Bit drops a chunk on any 4xx but 408 and 429, and
// retries 408, 429 and 5xx).
enum class agent_outcome : uint8_t {
  accepted,     // 2xx
  refused_4xx,  // a 4xx but 408/429: the agent dropped the chunk (401 included)
  throttled,    // 429: the data waits in the agent's buffer
  unavailable,  // 503: the data waits in the agent's buffer
  other,        // 408, other 5xx: counted as a request only
};
agent_outcome classify_agent_status(int status);

// 16 lower-case hex digits of xxh3-64(address '\0' user_agent), the bounded forms of both.
std::string agent_id(std::string_view address, std::string_view user_agent);

// `text` cut to `max` bytes on a UTF-8 boundary, invalid sequences repaired and control
// characters replaced by spaces.
std::string agent_text(std::string_view text, size_t max);

// One request, as the ingest handler saw it answered.
struct agent_report {
  std::string address;
  std::string user_agent;
  int status = 0;
  bool authenticated = false;  // the token was valid (401s are not)
  int64_t arrival_ms = 0;      // this node's clock
  uint64_t records = 0;        // stored (accepted) records
  uint64_t duplicates = 0;     // records already stored: the agent's retries
  int format = -1;             // agent_format of the body's media type; -1 unknown
  bool gzip = false;
  std::vector<std::string> hostnames;  // distinct, from the request's records (at most 10 used)
  std::vector<std::string> services;   // distinct, from the request's records (at most 20 used)
};

// What one agent did during one flush interval.
struct agent_delta {
  std::string id;
  std::string address;
  std::string user_agent;
  bool authenticated = false;  // at least one request with a valid token
  uint64_t requests = 0, records = 0, duplicates = 0, refused_4xx = 0, throttled_429 = 0,
           unavailable_503 = 0;
  int last_status = 0;
  std::array<uint64_t, 4> formats{};  // by agent_format
  std::vector<std::string> hostnames;
  std::vector<std::string> services;
  std::map<int64_t, uint64_t> minutes;  // arrival minute (unix minutes) -> accepted records
};

// Adds `r` to `d` (the bounds of the lists and the minutes held).
void add_report(agent_delta& d, const agent_report& r);
// Adds the older delta `older` of the same agent to `d` (the bounds of the lists and the minutes
// held; `d`'s last_status kept).
void merge_older(agent_delta& d, const agent_delta& older);

class agent_tally {
 public:
  explicit agent_tally(size_t max_tracked) : max_tracked_(max_tracked) {}

  // Counts one request. Beyond max_tracked distinct agents in this interval the report is counted
  // in the overflow instead.
  void record(const agent_report& r);

  struct drained {
    std::vector<agent_delta> agents;
    uint64_t overflow = 0;  // reports not tracked since the last drain
  };
  // Everything since the last drain; the tally starts empty again.
  drained drain();
  // Puts back the deltas of a flush Redis did not take, merged under what arrived since (which is
  // newer: its last_status wins), within the same bound (beyond it: the overflow). So a Redis
  // outage delays the counts instead of losing them, and costs no more memory than the bound.
  void restore(std::vector<agent_delta> deltas);

  size_t max_tracked() const { return max_tracked_; }

 private:
  std::mutex mutex_;
  size_t max_tracked_;
  std::unordered_map<std::string, agent_delta> agents_;  // by id
  uint64_t overflow_ = 0;
};

}  // namespace luffy
