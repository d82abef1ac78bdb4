#pragma once
// stage_directory: where the pipeline's actors are right now.
//
// The supervisor replaces an actor that died and writes its successor here; the HTTP edge and the
// journal writers look a handle up for each use instead of keeping one, so nobody keeps talking to
// a dead actor after a restart. It also holds each group's counters for GET /api/v1/admin/actors
// and the supervisor's verdict (`degraded`: restarts beyond the intensity limit -> /ready 503).
//
// Process-local wiring, not a message: it never crosses an actor boundary. Thread-safe: handles
// under a mutex (one lookup per stage per request), counters are atomics.
#include <caf/actor.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace luffy {

enum class stage : uint8_t { parsers = 0, limiters, dedup, journal };
inline constexpr size_t stage_count = 4;

struct group_counters {
  std::atomic<int64_t> size{0};        // actors in the group now
  std::atomic<int64_t> in_flight{0};   // requests sent to the group and not answered yet
  std::atomic<int64_t> restarts{0};    // re-spawned by the supervisor
  std::atomic<uint64_t> processed{0};  // requests answered (records applied, for shards)
};

class stage_directory {
 public:
  explicit stage_directory(size_t shards)
      : shards_(shards), remote_shards_(shards), shard_counters_(shards) {}

  caf::actor get(stage s) const {
    std::lock_guard<std::mutex> lock(mu_);
    return stages_[static_cast<size_t>(s)];
  }
  void set(stage s, caf::actor a) {
    std::lock_guard<std::mutex> lock(mu_);
    stages_[static_cast<size_t>(s)] = std::move(a);
  }
  size_t shard_count() const { return shards_.size(); }
  caf::actor shard(size_t i) const {
    std::lock_guard<std::mutex> lock(mu_);
    return i < shards_.size() ? shards_[i] : caf::actor{};
  }
  void set_shard(size_t i, caf::actor a) {
    std::lock_guard<std::mutex> lock(mu_);
    if (i < shards_.size()) {
      shards_[i] = std::move(a);
    }
  }

  // Where to send a committed entry of shard `i` held by another node: that node's shard_inbox
  // (CAF middleman), set by the shard_router; null when the owner runs no fast path, is not
  // connected, or is this node.
  caf::actor remote_shard(size_t i) const {
    std::lock_guard<std::mutex> lock(mu_);
    return i < remote_shards_.size() ? remote_shards_[i] : caf::actor{};
  }
  void set_remote_shard(size_t i, caf::actor a) {
    std::lock_guard<std::mutex> lock(mu_);
    if (i < remote_shards_.size()) {
      remote_shards_[i] = std::move(a);
    }
  }

  // The shard_owner (null on nodes that run no shards): pipeline::stop asks it to hand over.
  caf::actor owner() const {
    std::lock_guard<std::mutex> lock(mu_);
    return owner_;
  }
  void set_owner(caf::actor a) {
    std::lock_guard<std::mutex> lock(mu_);
    owner_ = std::move(a);
  }

  group_counters& counters(stage s) { return counters_[static_cast<size_t>(s)]; }
  const group_counters& counters(stage s) const { return counters_[static_cast<size_t>(s)]; }
  group_counters& shard_counters(size_t i) { return shard_counters_.at(i); }
  const group_counters& shard_counters(size_t i) const { return shard_counters_.at(i); }

  // Set by the supervisor while restarts exceed its intensity limit.
  bool degraded() const { return degraded_.load(std::memory_order_relaxed); }
  std::string degraded_reason() const {
    std::lock_guard<std::mutex> lock(mu_);
    return degraded_reason_;
  }
  void set_degraded(bool on, std::string reason) {
    std::lock_guard<std::mutex> lock(mu_);
    degraded_reason_ = std::move(reason);
    degraded_.store(on, std::memory_order_relaxed);
  }

 private:
  mutable std::mutex mu_;
  caf::actor stages_[stage_count];
  std::deque<caf::actor> shards_;  // null where another node (or nobody) holds the shard
  std::deque<caf::actor> remote_shards_;
  caf::actor owner_;
  group_counters counters_[stage_count];
  std::deque<group_counters> shard_counters_;
  std::atomic<bool> degraded_{false};
  std::string degraded_reason_;
};

// Counts a request to a group while it is outstanding (in_flight) and once answered (processed).
class stage_call {
 public:
  explicit stage_call(group_counters& c) : c_(c) { c_.in_flight.fetch_add(1); }
  ~stage_call() {
    c_.in_flight.fetch_sub(1);
    c_.processed.fetch_add(1, std::memory_order_relaxed);
  }
  stage_call(const stage_call&) = delete;
  stage_call& operator=(const stage_call&) = delete;

 private:
  group_counters& c_;
};

}  // namespace luffy
