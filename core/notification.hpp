#pragma once
// Webhook notifications of cluster events (actors/notifier.cpp posts them; docs/OPERATIONS.md
// "Notifications"): the pure part. An event of the <prefix>:events stream as a struct, the bodies
// posted for each webhook format, which events a webhook wants, the de-duplication window, the
// retry schedule, the redaction of webhook URLs for logs, and the per-webhook counters.
//
// Why here and not in the actor: formatting, filtering, de-dup and backoff are where the rules
// live, and core/ is unit-tested without Redis, CAF or a network.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace luffy {

// One entry of <prefix>:events (storage/lua/cluster_apply.lua, agent_silent.lua): the common
// fields, and every other field (first_seen_us, minute, count, baseline, limit, records, ...) in
// stream order.
struct notification_event {
  std::string stream_id;  // "1712345678901-0"
  std::string type;       // new_cluster, regression, spike, cluster_explosion, merged, ...
  std::string cluster_id;
  std::string service_id;
  std::string title;
  int64_t at_ms = 0;
  std::vector<std::pair<std::string, std::string>> fields;
};

// A stream entry's field/value pairs into an event (unknown fields go to `fields`).
notification_event event_from_fields(std::string stream_id,
                                     const std::vector<std::pair<std::string, std::string>>& kv);

enum class webhook_format { json, slack, google_chat };
std::optional<webhook_format> parse_webhook_format(std::string_view name);
std::string_view webhook_format_name(webhook_format f);

// Event types a webhook gets when its `events` is empty.
const std::vector<std::string>& default_notification_events();
// Every event type the events stream carries (validate() refuses others in `events`).
const std::vector<std::string>& known_notification_events();

// Whether `hook` wants `ev`: its type is in hook.events (or the defaults) and its service matches
// one of hook.services (globs, core/glob.hpp; empty = every service).
bool webhook_wants(const webhook_config& hook, const notification_event& ev);

// "https://hooks.slack.com/services/T/B/XXXX" -> "https://hooks.slack.com/…": scheme and host
// (with port) only, because the path and query of a webhook URL are its secret. Userinfo is
// dropped too. Text that is no URL becomes "…".
std::string redact_url(std::string_view url);

// One line a human reads: "[checkout] new cluster: NullPointerException in Cart.add (id ...)".
std::string event_text(const notification_event& ev);

// The body POSTed for one event:
//  json:        {"kind":"event","event":{"type":...,"cluster_id":...,...every field}}
//  slack:       {"text": <event_text>}
//  google_chat: {"text": <event_text>}
std::string event_body(webhook_format f, const notification_event& ev);

// The body for a burst of events in one poll (more than notifications.digest_threshold): one
// message saying how many, per type, counts per service and the first titles (at most
// `top_titles`).
//  json: {"kind":"digest","count":N,"by_type":{...},"by_service":{...},"events":[...first 50]}
std::string digest_body(webhook_format f, const std::vector<notification_event>& events,
                        size_t top_titles = 10);
std::string digest_text(const std::vector<notification_event>& events, size_t top_titles = 10);

// At most one notification per (event type, cluster) within `window_ms`: admit() answers false
// for a repeat inside the window. Bounded: beyond `max_entries` the oldest entries go first
// (a forgotten key can only cause one extra notification, never a lost one).
class notification_dedup {
 public:
  explicit notification_dedup(int64_t window_ms, size_t max_entries = 100000)
      : window_ms_(window_ms), max_entries_(max_entries) {}
  bool admit(std::string_view type, std::string_view cluster_id, int64_t now_ms);
  size_t size() const { return last_.size(); }

 private:
  void prune(int64_t now_ms);
  int64_t window_ms_;
  size_t max_entries_;
  std::unordered_map<std::string, int64_t> last_;  // "type\tcluster" -> admitted at (ms)
};

// The retry schedule of a delivery: whether an HTTP status is worth another attempt (5xx, 429,
// and 0 = a network error or timeout), and the pause before attempt `attempt` + 1 after
// `attempt` failed ones: 1 s, 2 s, 4 s ... capped at `cap_ms`; a Retry-After (seconds) given
// by a 429/503 replaces it, capped the same.
bool retryable_status(int status);
int64_t retry_delay_ms(int attempt, std::optional<int64_t> retry_after_seconds,
                       int64_t base_ms = 1000, int64_t cap_ms = 60000);
// A Retry-After header in delta-seconds form; nullopt for an HTTP date or garbage.
std::optional<int64_t> parse_retry_after(std::string_view header);

// Counters per webhook (name, format), for /metrics and /api/v1/ingest/metrics. Thread-safe: the
// delivery thread and the poller update it, the metrics routes read snapshots.
struct webhook_counters {
  uint64_t sent = 0, failed = 0, retries = 0, suppressed = 0, digests = 0;
};
class notification_metrics {
 public:
  enum class counter { sent, failed, retries, suppressed, digests };
  void add(const std::string& webhook, std::string_view format, counter c, uint64_t n = 1);
  // (webhook, format) -> counters, sorted by webhook name.
  std::map<std::pair<std::string, std::string>, webhook_counters> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, webhook_counters> counters_;
};

}  // namespace luffy
