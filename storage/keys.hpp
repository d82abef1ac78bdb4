#pragma once
// The Redis key schema: every key name the server reads or writes, spelled once, here
// (docs/ARCHITECTURE.md describes what each holds). C++ code builds keys only through these
// functions. The Lua scripts in storage/lua/ receive the prefix (or a key built here) and derive
// the same names from it, because a script cannot call C++: each such name is marked "(Lua)" below
// with the script that spells it, and tests/storage/keys_test.cpp checks the two agree.
//
// Changing any name here orphans the data an existing Redis holds: names are part of the on-disk
// format, not an implementation detail.
//
//   <prefix>:journal:<shard>              stream: accepted records, one entry per batch and shard
//   <prefix>:journal:<shard>:attempts     hash: entry id -> sweeps that tried to apply it
//   <prefix>:dedup:<generation>           set of 16-byte record hashes of one dedup generation
//   <prefix>:dlq                          stream: dead letters (poison records and entries)
//   <prefix>:audit                        stream: admin and state-changing actions (at, actor,
//                                         action, target, result, client), MAXLEN ~
//                                         audit.max_entries (storage/audit_store.hpp)
//   <prefix>:stats                        hash: processed, clusters, dead_lettered
//   <prefix>:events                       stream: new_cluster, regression, spike, merged, ...
//   <prefix>:cluster:<id>                 hash: one cluster (count, first/last seen, status, ...)
//   <prefix>:cluster:<id>:minutes         hash: event-time minute -> records (expires after 25 h)
//   <prefix>:cluster:<id>:hosts           set (at most 100 members)
//   <prefix>:cluster:<id>:environments    set (at most 100 members)
//   <prefix>:cluster:<id>:samples         list: newest sample records first
//   <prefix>:cluster:<id>:merged_from     set: ids folded into this cluster
//   <prefix>:cluster:<id>:hours           hash: event-time hour -> records (expires after 25 h)
//   <prefix>:cluster:<id>:events          list: the cluster's events as JSON, newest first (100)
//   <prefix>:clusters:by_<sort>           zset: every cluster by count, last_seen or first_seen
//   (ms) <prefix>:service:<svc>:by_<sort>      zset: one service's clusters, the same orders
//   <prefix>:clusters:hour:<hour>         zset: cluster -> records in that event-time hour (25 h)
//   <prefix>:clusters:by_received         zset: cluster -> when its last record was applied (the
//                                         shard's wall clock, ms): retention.clusters reads it,
//                                         not last_seen (event time, which agents choose)
//                                         (Lua: cluster_apply, cluster_merge, cluster_forget)
//   <prefix>:retention:adopted            set once every cluster of an older version has a
//                                         by_received entry (Lua: retention_adopt)
//   <prefix>:clusters:resolved            zset: resolved cluster -> when it was resolved (ms);
//                                         left on a regression or reopen (retention.resolved_*)
//                                         (Lua: cluster_apply, cluster_merge, cluster_forget)
//   <prefix>:clusters:by_trend:<hour>     zset: every cluster by trend, cached 10 s (cluster_trend)
//   <prefix>:service:<svc>:by_trend:<hour>  the same for one service
//   <prefix>:service:<svc>:templates      hash: level-3 anchor -> "ordinal\ttemplate"
//   <prefix>:service:<svc>:new_clusters:<minute>  counter of new clusters (Lua: cluster_apply)
//   <prefix>:service:<svc>:explosion      marker of a flood in progress (Lua: cluster_apply)
//   <prefix>:grouping:v1_transition_since_ms  start of the legacy grouping window (ms)
//   <prefix>:nodes                        zset: node name -> last heartbeat (Redis time, ms)
//   <prefix>:shard:<shard>:lease          string "<epoch>:<since_ms>:<node>", PX: who owns a shard
//   <prefix>:shard:<shard>:epoch          counter: the shard's last fencing epoch (never expires)
//   <prefix>:node:<node>                  hash: a node's fast-path address and build fingerprint
//   <prefix>:shards:count                 the deployment's virtual shard count (first node)
//   <prefix>:shards:rebalance             Redis time (ms) of the last rebalance request
//   <prefix>:ratelimit:<svc>              hash: a service's shared rate-limit bucket (tokens, ts
//                                         in Redis µs); expires when it would be full again
//   <prefix>:agent:<id>                   hash: one sending agent (address, user_agent, counters,
//                                         first/last seen in Redis ms, silent flag, hostnames and
//                                         services '\n'-joined); expires agents.retention_hours
//                                         after its last request (Lua: agent_flush, agent_silent)
//   <prefix>:agent:<id>:minutes           hash: arrival minute -> accepted records, the last 60
//                                         minutes; same expiry (Lua: agent_flush)
//   <prefix>:agents:by_last_seen          zset: every agent by last seen (Redis ms), trimmed to
//                                         agents.retention_hours by both agent scripts
//   <prefix>:agents:awake                 zset: the agents not flagged silent, by last seen: the
//                                         silence check reads only its oldest members
//   <prefix>:notifier:cursor              string: id of the last <prefix>:events entry the
//                                         notifier handled (storage/notifier_store.hpp)
//   <prefix>:notifier:lease               string "<node>", PX: the one node posting webhooks
//
// Dedup generations: generation g = floor(unix_seconds / window). A record is a duplicate when
// its hash is in generation g or g-1, so the effective window is between `window` and twice it,
// with two set lookups per record instead of one key per record.
//
// Pure string building, no I/O: usable from any layer above core/ without pulling in hiredis.
#include <cstdint>
#include <string>
#include <string_view>

namespace luffy {

inline std::string journal_stream_key(std::string_view prefix, uint32_t shard) {
  return std::string(prefix) + ":journal:" + std::to_string(shard);
}

// A KEYS/SCAN pattern matching every journal stream of `prefix` (and their :attempts hashes).
inline std::string journal_streams_pattern(std::string_view prefix) {
  return std::string(prefix) + ":journal:*";
}

// Sweep attempts per entry of `stream` (a journal_stream_key). (Lua: cluster_apply,
// dead_letter_entry.)
inline std::string journal_attempts_key(std::string_view stream) {
  return std::string(stream) + ":attempts";
}

inline int64_t dedup_generation(int64_t unix_seconds, int64_t window_seconds) {
  return unix_seconds / window_seconds;
}

inline std::string dedup_set_key(std::string_view prefix, int64_t generation) {
  return std::string(prefix) + ":dedup:" + std::to_string(generation);
}

// (Lua: cluster_apply.)
inline std::string dead_letter_stream_key(std::string_view prefix) {
  return std::string(prefix) + ":dlq";
}

inline std::string audit_stream_key(std::string_view prefix) {
  return std::string(prefix) + ":audit";
}

// (Lua: cluster_apply.)
inline std::string stats_key(std::string_view prefix) {
  return std::string(prefix) + ":stats";
}

inline std::string events_stream_key(std::string_view prefix) {
  return std::string(prefix) + ":events";
}

// (Lua: cluster_apply, cluster_merge.)
inline std::string cluster_key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + ":cluster:" + std::string(id);
}

// The parts of a cluster, beside its hash. (Lua: cluster_apply, cluster_merge.)
inline std::string cluster_minutes_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":minutes";
}
inline std::string cluster_hosts_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":hosts";
}
inline std::string cluster_environments_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":environments";
}
inline std::string cluster_samples_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":samples";
}
inline std::string cluster_merged_from_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":merged_from";
}
inline std::string cluster_hours_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":hours";
}
inline std::string cluster_events_key(std::string_view prefix, std::string_view id) {
  return cluster_key(prefix, id) + ":events";
}

// Records per cluster in one event-time hour (unix hours). (Lua: cluster_apply, cluster_merge.)
inline std::string clusters_hour_key(std::string_view prefix, int64_t hour) {
  return std::string(prefix) + ":clusters:hour:" + std::to_string(hour);
}

// Every cluster by the time its last record was applied (ms): retention.clusters.
inline std::string clusters_received_key(std::string_view prefix) {
  return std::string(prefix) + ":clusters:by_received";
}
inline std::string retention_adopted_key(std::string_view prefix) {
  return std::string(prefix) + ":retention:adopted";
}

// The resolved clusters by resolution time (ms): the retention sweep deletes the old ones.
inline std::string clusters_resolved_key(std::string_view prefix) {
  return std::string(prefix) + ":clusters:resolved";
}

// sort=trend's ranking, cached for a few seconds (storage/lua/cluster_trend.lua receives it).
// An empty service_id: every cluster.
inline std::string clusters_trend_key(std::string_view prefix, std::string_view service_id,
                                      int64_t hour) {
  return (service_id.empty() ? std::string(prefix) + ":clusters"
                             : std::string(prefix) + ":service:" + std::string(service_id)) +
         ":by_trend:" + std::to_string(hour);
}

// The cluster orders the API sorts by: "count", "last_seen" or "first_seen". (Lua: cluster_apply,
// cluster_merge.)
inline std::string clusters_index_key(std::string_view prefix, std::string_view sort) {
  return std::string(prefix) + ":clusters:by_" + std::string(sort);
}

inline std::string service_index_key(std::string_view prefix, std::string_view service_id,
                                     std::string_view sort) {
  return std::string(prefix) + ":service:" + std::string(service_id) + ":by_" + std::string(sort);
}

// (Lua: cluster_apply writes it, the cluster shard reads it on a service's first record.)
inline std::string service_templates_key(std::string_view prefix, std::string_view service_id) {
  return std::string(prefix) + ":service:" + std::string(service_id) + ":templates";
}

// (Lua: cluster_apply only; here so the schema is complete and tests can name them.)
inline std::string service_new_clusters_key(std::string_view prefix, std::string_view service_id,
                                            int64_t wall_minute) {
  return std::string(prefix) + ":service:" + std::string(service_id) +
         ":new_clusters:" + std::to_string(wall_minute);
}
inline std::string service_explosion_key(std::string_view prefix, std::string_view service_id) {
  return std::string(prefix) + ":service:" + std::string(service_id) + ":explosion";
}

inline std::string grouping_transition_key(std::string_view prefix) {
  return std::string(prefix) + ":grouping:v1_transition_since_ms";
}

// Shard ownership across nodes (storage/shard_lease_store.hpp).
inline std::string nodes_key(std::string_view prefix) {
  return std::string(prefix) + ":nodes";
}
inline std::string shard_lease_key(std::string_view prefix, uint32_t shard) {
  return std::string(prefix) + ":shard:" + std::to_string(shard) + ":lease";
}
inline std::string shard_epoch_key(std::string_view prefix, uint32_t shard) {
  return std::string(prefix) + ":shard:" + std::to_string(shard) + ":epoch";
}
inline std::string node_key(std::string_view prefix, std::string_view node) {
  return std::string(prefix) + ":node:" + std::string(node);
}
inline std::string shard_count_key(std::string_view prefix) {
  return std::string(prefix) + ":shards:count";
}
inline std::string rebalance_key(std::string_view prefix) {
  return std::string(prefix) + ":shards:rebalance";
}

// A service's rate-limit bucket shared by every node (storage/rate_limit_store.hpp,
// rate_limit_take.lua, which receives the key).
inline std::string rate_limit_key(std::string_view prefix, std::string_view service_id) {
  return std::string(prefix) + ":ratelimit:" + std::string(service_id);
}

// The sending agents (storage/agent_store.hpp). (Lua: agent_flush, agent_silent derive the
// per-agent keys from the prefix.)
inline std::string agent_key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + ":agent:" + std::string(id);
}
inline std::string agent_minutes_key(std::string_view prefix, std::string_view id) {
  return agent_key(prefix, id) + ":minutes";
}
inline std::string agents_index_key(std::string_view prefix) {
  return std::string(prefix) + ":agents:by_last_seen";
}
inline std::string agents_awake_key(std::string_view prefix) {
  return std::string(prefix) + ":agents:awake";
}

inline std::string notifier_cursor_key(std::string_view prefix) {
  return std::string(prefix) + ":notifier:cursor";
}
inline std::string notifier_lease_key(std::string_view prefix) {
  return std::string(prefix) + ":notifier:lease";
}

}  // namespace luffy
