#include "core/auth_failure_tracker.hpp"

#include <algorithm>
#include <cmath>

namespace luffy {

auth_failure_tracker::auth_failure_tracker(size_t max_addresses)
    : max_addresses_(std::max<size_t>(1, max_addresses)) {}

void auth_failure_tracker::set_max_addresses(size_t n) {
  std::lock_guard lock(mutex_);
  max_addresses_ = std::max<size_t>(1, n);
  evict_over(max_addresses_);
}

void auth_failure_tracker::evict_over(size_t bound) {
  while (entries_.size() > bound) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  tracked_.store(entries_.size(), std::memory_order_relaxed);
}

uint32_t auth_failure_tracker::failed(std::string_view address, int64_t now_ms, int64_t limit,
                                      int64_t window_ms) {
  if (limit <= 0) {
    return 0;
  }
  window_ms = std::max<int64_t>(1, window_ms);
  const double drain_per_ms = static_cast<double>(limit) / static_cast<double>(window_ms);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    evict_over(max_addresses_ - 1);  // room for this one
    lru_.emplace_front(address);
    it = entries_.emplace(lru_.front(), entry{0, now_ms, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  tracked_.store(entries_.size(), std::memory_order_relaxed);
  entry& e = it->second;
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - e.at_ms));
  e.level = std::max(0.0, e.level - elapsed * drain_per_ms) + 1.0;
  e.level = std::min(e.level, 2.0 * static_cast<double>(limit));
  e.at_ms = now_ms;
  if (e.level <= static_cast<double>(limit)) {
    return 0;
  }
  // Until the level has drained to limit - 1: the next failure after that is a 401 again.
  const double over = e.level - static_cast<double>(limit) + 1.0;
  const double wait_s = std::ceil(over / drain_per_ms / 1000.0);
  return static_cast<uint32_t>(std::max(1.0, wait_s));
}

void auth_failure_tracker::succeeded(std::string_view address) {
  if (tracked_.load(std::memory_order_relaxed) == 0) {
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    return;
  }
  lru_.erase(it->second.lru);
  entries_.erase(it);
  tracked_.store(entries_.size(), std::memory_order_relaxed);
}

}  // namespace luffy
