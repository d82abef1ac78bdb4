#pragma once
// Process-wide ingest counters, updated per batch (never per record) with relaxed atomics, read by
// /api/v1/ingest/metrics, /metrics (Prometheus) and the per-minute summary log line.
// Names follow <ns>_<name>_<unit>_total in the Prometheus rendering (net/metrics_handler.cpp).
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

#include "core/notification.hpp"

namespace luffy {

// Request latency histogram with fixed bucket bounds (seconds), Prometheus-style cumulative
// rendering, and quantiles estimated from the buckets.
class latency_histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
  void observe(double seconds);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6; }
  // Non-cumulative count of bucket i (i == bounds.size() is +Inf).
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  // Upper bound of the bucket holding quantile q (0 when empty).
  double quantile(double q) const;

 private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

struct ingest_metrics {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> rate_limited{0};
  // Shared rate limits (rate_limit.shared): lease round trips to Redis, and limit requests decided
  // by a node's local bucket alone because Redis did not answer (fail open per node).
  std::atomic<uint64_t> rate_limit_redis_calls{0};
  std::atomic<uint64_t> rate_limit_fallbacks{0};
  std::atomic<uint64_t> merged{0};
  std::atomic<uint64_t> processed{0};
  std::atomic<uint64_t> clusters{0};  // clusters created by this process
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<int64_t> in_flight_requests{0};
  std::atomic<int64_t> queued_records{0};  // records inside the pipeline right now
  std::atomic<bool> redis_up{false};
  std::atomic<int64_t> redis_used_memory{0};  // bytes, from INFO memory (the health probe)
  std::atomic<int64_t> redis_maxmemory{0};    // bytes; 0 = no limit
  // Responses by status class; index = status / 100 - 2 for 2xx..5xx plus exact common codes.
  std::atomic<uint64_t> status_202{0}, status_400{0}, status_401{0}, status_403{0}, status_404{0},
      status_405{0}, status_413{0}, status_415{0}, status_429{0}, status_503{0}, status_other{0};
  latency_histogram ingest_latency;
  latency_histogram processing_lag;  // journal entry creation -> applied to its clusters
  // Per cluster shard: age of the oldest entry in its stream, i.e. not applied yet (ms, 0 when
  // caught up; refreshed by the shard's sweep every second), and records journaled for it and not
  // applied yet (added by the journal writers and the sweep, taken off when applied).
  static constexpr size_t max_shards = 1024;
  std::array<std::atomic<int64_t>, max_shards> shard_lag_ms{};
  std::array<std::atomic<int64_t>, max_shards> shard_backlog{};
  std::array<std::atomic<uint64_t>, max_shards> shard_processed{};  // records applied
  std::atomic<uint64_t> dead_lettered{0};                           // records sent to <prefix>:dlq
  // Shard ownership (actors/shard_owner): shards this node holds now, leases it took, handed
  // over and lost, and counting writes Redis refused because the writer's lease was gone.
  std::atomic<int64_t> shards_held{0};
  std::atomic<uint64_t> shard_leases_taken{0}, shard_leases_released{0}, shard_leases_lost{0},
      fenced_writes{0};
  // The journal fast path across nodes: entries this node's journal writers sent to another
  // node's shard_inbox, and entries its shard_inbox took in (handed to a local shard) or dropped
  // (the shard is not here any more, or the sender was refused: the sweep applies them).
  std::atomic<uint64_t> remote_entries_sent{0}, remote_entries_received{0},
      remote_entries_dropped{0};
  // The whole journal seen from Redis (the probe's XLEN of every stream, -1 until read), and the
  // entries and records this node's journal writers committed: a node that does not run every
  // shard estimates the records waiting as entries x records per entry (admission_gates).
  std::atomic<int64_t> journal_entries_waiting{-1};
  // Entries in the dead-letter stream (<prefix>:dlq), read by the Redis probe once a second.
  std::atomic<int64_t> dead_letters{0};
  // The sending agents (actors/agent_tracker): agents known and flagged silent in Redis (read by
  // its flush and silence check; 0 until read), requests whose agent was not tracked (over
  // agents.max_tracked in one flush interval, or a new agent without a valid token while
  // max_tracked are known), and flushes Redis did not take (their deltas are retried).
  std::atomic<int64_t> agents_known{0}, agents_silent{0};
  std::atomic<uint64_t> agents_overflow{0}, agents_flush_failures{0};
  // The audit trail (<prefix>:audit): entries written, and writes Redis did not take (the action
  // went ahead). Requests answered 429 after repeated authentication failures from an address.
  std::atomic<uint64_t> audit_entries{0}, audit_write_failures{0}, auth_throttled{0};
  // Retention (actors/retention_sweeper): clusters deleted for age (open and resolved), entries
  // trimmed off the events and dead-letter streams, sweeps Redis did not finish; clusters
  // deleted by DELETE /api/v1/services/{id}.
  std::atomic<uint64_t> retention_clusters_expired{0}, retention_resolved_expired{0};
  std::atomic<uint64_t> retention_events_trimmed{0}, retention_dead_letters_trimmed{0};
  std::atomic<uint64_t> retention_sweep_failures{0}, retention_sweeps{0};
  std::atomic<uint64_t> services_erased{0}, erased_clusters{0};
  std::atomic<uint64_t> journal_entries_committed{0}, journal_records_committed{0};
  // Webhook notifications (actors/notifier): per (webhook, format) sent, failed, retries,
  // suppressed (de-dup) and digests.
  notification_metrics notifications;
  int64_t journal_records_estimate() const {
    const int64_t waiting = journal_entries_waiting.load(std::memory_order_relaxed);
    const uint64_t entries = journal_entries_committed.load(std::memory_order_relaxed);
    if (waiting <= 0 || entries == 0) {
      return 0;
    }
    const double per_entry =
        static_cast<double>(journal_records_committed.load(std::memory_order_relaxed)) /
        static_cast<double>(entries);
    return static_cast<int64_t>(static_cast<double>(waiting) * per_entry);
  }
  int64_t processing_lag_ms(size_t shards) const {
    int64_t worst = 0;
    for (size_t i = 0; i < shards && i < max_shards; ++i) {
      worst = std::max(worst, shard_lag_ms[i].load(std::memory_order_relaxed));
    }
    return worst;
  }

  void count_status(int status);

  static void add(std::atomic<uint64_t>& c, uint64_t n) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace luffy
