#pragma once
// One budget for the bytes that requests in flight hold (raw bodies, inflated bodies and the
// decoder's allowance), shared by every HTTP worker (issue 11). Admission and inflation draw from
// it; a request that cannot draw what it needs is refused (503 + Retry-After: Fluent Bit retries)
// instead of growing the process without bound.
//
// Contract: used() never exceeds limit() through try_reserve(); release() gives back exactly what
// was reserved. The limit can be changed at any time (hot reload): holders keep what they have,
// new draws see the new limit. Lock-free (one CAS loop); no I/O.
#include <atomic>
#include <cstdint>

namespace luffy {

class memory_budget {
 public:
  explicit memory_budget(int64_t limit = 0) : limit_(limit) {}
  memory_budget(const memory_budget&) = delete;
  memory_budget& operator=(const memory_budget&) = delete;

  void set_limit(int64_t limit) { limit_.store(limit, std::memory_order_relaxed); }
  int64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  // The most ever held at once, and how many draws were refused (for /metrics).
  int64_t high_water() const { return high_water_.load(std::memory_order_relaxed); }
  uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

  // Takes n bytes when used() + n stays within the limit; false (and nothing taken) otherwise.
  bool try_reserve(int64_t n);
  void release(int64_t n);

 private:
  std::atomic<int64_t> limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> high_water_{0};
  std::atomic<uint64_t> refusals_{0};
};

// What one request holds of a budget; gives it back when destroyed.
class budget_lease {
 public:
  explicit budget_lease(memory_budget& budget) : budget_(budget) {}
  budget_lease(const budget_lease&) = delete;
  budget_lease& operator=(const budget_lease&) = delete;
  ~budget_lease() { budget_.release(held_); }

  // Makes the lease hold exactly `total` bytes: shrinking always succeeds; growing draws the
  // difference and returns false (holding what it held before) when the budget cannot give it.
  bool hold(int64_t total);
  int64_t held() const { return held_; }

 private:
  memory_budget& budget_;
  int64_t held_ = 0;
};

}  // namespace luffy
