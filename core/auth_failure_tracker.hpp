#pragma once
// auth_failure_tracker: failed authentications per client address, for auth.failure_limit.*
// (docs/API.md "Authentication failures").
//
// Contract:
//  - Each address has a leaky bucket: a failure adds 1, the level drains continuously at
//    `limit` per `window` (so K failures spread over the window never trip it, K + 1 in a burst
//    do). `failed` counts one failure and answers the seconds the address should wait (0: under
//    the limit, answer 401 as usual; > 0: answer 429 with that Retry-After). The level is capped
//    at twice the limit so a long flood never waits more than about one window after it stops.
//  - `succeeded` forgets the address: one correct authentication clears its failures.
//  - At most `max_addresses` addresses are tracked (a fixed bound on memory whatever the number of
//    addresses a flood comes from); a new address beyond it evicts the least recently failing one.
//  - Thread-safe (one mutex). `succeeded`, called on every authenticated request, skips the lock
//    while no address is tracked, so the common case costs one atomic load.
//  - Time is passed in (milliseconds, monotonic): deterministic and unit-testable.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace luffy {

class auth_failure_tracker {
 public:
  explicit auth_failure_tracker(size_t max_addresses = 4096);

  // One failed authentication from `address` at `now_ms`. limit <= 0 switches the check off
  // (nothing is tracked, 0 is answered). Returns the seconds to wait (0 = not throttled).
  uint32_t failed(std::string_view address, int64_t now_ms, int64_t limit, int64_t window_ms);
  void succeeded(std::string_view address);
  // Bound of tracked addresses (takes effect as addresses come and go).
  void set_max_addresses(size_t n);
  size_t tracked() const { return tracked_.load(std::memory_order_relaxed); }

 private:
  struct entry {
    double level = 0;
    int64_t at_ms = 0;
    std::list<std::string>::iterator lru;
  };
  void evict_over(size_t bound);

  mutable std::mutex mutex_;
  size_t max_addresses_;
  std::list<std::string> lru_;  // most recently failing first
  std::unordered_map<std::string, entry> entries_;
  std::atomic<size_t> tracked_{0};
};

}  // namespace luffy
