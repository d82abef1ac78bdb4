#include "core/memory_budget.hpp"

namespace luffy {

bool memory_budget::try_reserve(int64_t n) {
  if (n <= 0) {
    return true;
  }
  int64_t cur = used_.load(std::memory_order_relaxed);
  for (;;) {
    if (cur + n > limit()) {
      refusals_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed)) {
      break;
    }
  }
  int64_t hw = high_water_.load(std::memory_order_relaxed);
  while (cur + n > hw && !high_water_.compare_exchange_weak(hw, cur + n)) {
  }
  return true;
}

void memory_budget::release(int64_t n) {
  if (n > 0) {
    used_.fetch_sub(n, std::memory_order_relaxed);
  }
}

bool budget_lease::hold(int64_t total) {
  if (total < 0) {
    total = 0;
  }
  if (total <= held_) {
    budget_.release(held_ - total);
    held_ = total;
    return true;
  }
  if (!budget_.try_reserve(total - held_)) {
    return false;
  }
  held_ = total;
  return true;
}

}  // namespace luffy
