#pragma once
// Backpressure gates for the HTTP edge: a high and a low watermark over one measured depth, with
// hysteresis. A gate closes when the depth reaches its high watermark and opens again only once it
// has fallen to the low one, so the edge does not flap between 202 and 503 at the boundary.
//
// Thread-safe: many HTTP workers call admit() at once. A race between two callers can only decide
// one request either way near a watermark; the state itself is one atomic flag.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/ingest_metrics.hpp"

namespace luffy {

class watermark_gate {
 public:
  watermark_gate() = default;
  watermark_gate(std::string_view name, int64_t high, int64_t resume_percent) {
    configure(name, high, resume_percent);
  }

  // high <= 0 disables the gate. resume_percent is clamped to [1, 100].
  // The name is set once (before the gate is shared); a reconfigure changes only the watermarks.
  void configure(std::string_view name, int64_t high, int64_t resume_percent) {
    if (name_.empty()) {
      name_ = name;
    }
    high_.store(high, std::memory_order_relaxed);
    const int64_t pct = resume_percent < 1 ? 1 : (resume_percent > 100 ? 100 : resume_percent);
    low_.store(high / 100 * pct + (high % 100) * pct / 100, std::memory_order_relaxed);
  }

  // Feeds the current depth; returns true when a request may be admitted.
  bool admit(int64_t depth) {
    const bool open = update(depth);
    if (!open) {
      refused_.fetch_add(1, std::memory_order_relaxed);
    }
    return open;
  }

  // Feeds the current depth without a request behind it (a metrics read): the state follows
  // the depth, nothing is counted as refused. True when the gate is open.
  bool update(int64_t depth) {
    const int64_t high = high_.load(std::memory_order_relaxed);
    last_.store(depth, std::memory_order_relaxed);
    if (high <= 0) {
      if (closed_.load(std::memory_order_relaxed)) {
        closed_.store(false, std::memory_order_relaxed);  // disabled by a reload while closed
      }
      return true;
    }
    bool closed = closed_.load(std::memory_order_relaxed);
    if (!closed && depth >= high) {
      if (!closed_.exchange(true, std::memory_order_relaxed)) {
        trips_.fetch_add(1, std::memory_order_relaxed);
      }
      closed = true;
    } else if (closed && depth <= low_.load(std::memory_order_relaxed)) {
      closed_.store(false, std::memory_order_relaxed);
      closed = false;
    }
    return !closed;
  }

  std::string_view name() const { return name_; }
  bool closed() const { return closed_.load(std::memory_order_relaxed); }
  int64_t high() const { return high_.load(std::memory_order_relaxed); }
  int64_t low() const { return low_.load(std::memory_order_relaxed); }
  int64_t last_depth() const { return last_.load(std::memory_order_relaxed); }
  uint64_t trips() const { return trips_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::string_view name_;  // a literal: gates are named in code
  std::atomic<int64_t> high_{0}, low_{0}, last_{0};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> trips_{0}, refused_{0};
};

// The edge's three gates (docs/RELIABILITY.md, "Backpressure"):
//  journal       records journaled but not clustered yet, summed over the shards this node runs,
//                or estimated from the journal's length in Redis when other nodes run some of
//                them (the circuit breaker: backpressure.max_queue_depth)
//  pipeline      records inside the ingest stages right now (backpressure.max_pipeline_records)
//  redis_memory  Redis used_memory in percent of its maxmemory, when one is set
struct admission_gates {
  watermark_gate journal, pipeline, redis_memory;

  void configure(const luffy_config& cfg) {
    const auto& b = cfg.backpressure;
    journal.configure("journal", b.max_queue_depth, b.resume_ratio);
    pipeline.configure("pipeline", b.max_pipeline_records, b.resume_ratio);
    // In percent: closes at redis_memory_percent, opens 5 points below.
    redis_memory.configure("redis_memory", b.redis_memory_percent,
                           b.redis_memory_percent <= 5 ? 100 : 100 - 500 / b.redis_memory_percent);
  }

  // Brings every gate's state up to date without a request (metrics and the admin API read it:
  // a gate closed by the last request must not look closed for ever when no request follows).
  void observe(const ingest_metrics& m, size_t shards) {
    journal.update(journal_depth(m, shards));
    pipeline.update(m.queued_records.load(std::memory_order_relaxed));
    redis_memory.update(memory_percent(m));
  }

  // Feeds every gate its current depth; returns why a request must be refused, or nothing.
  std::optional<std::string> refusal(const ingest_metrics& m, size_t shards) {
    const int64_t backlog = journal_depth(m, shards);
    const int64_t memory_pct = memory_percent(m);
    // Evaluate all three so each gate's depth and state stay current for the admin API.
    const bool journal_ok = journal.admit(backlog);
    const bool pipeline_ok = pipeline.admit(m.queued_records.load(std::memory_order_relaxed));
    const bool memory_ok = redis_memory.admit(memory_pct);
    if (!journal_ok) {
      return "clustering is behind: " + std::to_string(backlog) +
             " journaled records are not clustered yet (backpressure.max_queue_depth " +
             std::to_string(journal.high()) + ")";
    }
    if (!pipeline_ok) {
      return "the ingest stages hold " + std::to_string(pipeline.last_depth()) +
             " records (backpressure.max_pipeline_records " + std::to_string(pipeline.high()) + ")";
    }
    if (!memory_ok) {
      return "Redis memory is at " + std::to_string(memory_pct) +
             "% of its maxmemory (backpressure.redis_memory_percent " +
             std::to_string(redis_memory.high()) + ")";
    }
    return std::nullopt;
  }

 private:
  static int64_t journal_depth(const ingest_metrics& m, size_t shards) {
    int64_t backlog = 0;
    for (size_t i = 0; i < shards && i < ingest_metrics::max_shards; ++i) {
      backlog += m.shard_backlog[i].load(std::memory_order_relaxed);
    }
    if (m.shards_held.load(std::memory_order_relaxed) < static_cast<int64_t>(shards)) {
      // Other nodes run some shards (or all: an ingest-only node): their backlog is not counted
      // here, so estimate the whole journal's from Redis (entries x records per entry).
      backlog = std::max(backlog, m.journal_records_estimate());
    }
    return backlog;
  }
  static int64_t memory_percent(const ingest_metrics& m) {
    const int64_t maxmemory = m.redis_maxmemory.load(std::memory_order_relaxed);
    return maxmemory > 0 ? m.redis_used_memory.load(std::memory_order_relaxed) * 100 / maxmemory
                         : 0;
  }
};

}  // namespace luffy
