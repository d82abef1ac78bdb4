#pragma once
// A token bucket for per-service rate limits, counted in records.
//
// Contract: the bucket holds at most `capacity` tokens and refills continuously at
// `per_minute / 60` tokens per second. `take(n, now)` admits as many of the n records as there are
// whole tokens (partial admission: a batch larger than what is left is cut, not refused whole)
// and returns how many were admitted. `refund` gives back tokens for records that were admitted
// but then not stored (e.g. Redis refused the batch), never above capacity.
// Time is passed in (microseconds, monotonic) so the bucket is deterministic and unit-testable.
#include <cstdint>

namespace luffy {

class token_bucket {
 public:
  // capacity defaults to one minute's worth: a service may burst its whole per-minute budget.
  explicit token_bucket(uint64_t per_minute = 10000, uint64_t capacity = 0, int64_t now_us = 0);

  uint64_t take(uint64_t n, int64_t now_us);
  void refund(uint64_t n);
  // Changes the rate (hot reload) keeping the current fill level, clamped to the new capacity.
  void reconfigure(uint64_t per_minute, uint64_t capacity, int64_t now_us);

  double available(int64_t now_us);
  // Seconds until at least one token is available (>= 1, for Retry-After).
  uint32_t seconds_until_available(int64_t now_us);
  uint64_t per_minute() const { return per_minute_; }

 private:
  void refill(int64_t now_us);

  uint64_t per_minute_;
  double capacity_;
  double tokens_;
  int64_t last_us_;
};

}  // namespace luffy
