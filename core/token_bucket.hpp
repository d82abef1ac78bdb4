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

// The local side of a bucket shared by several nodes (rate_limit.shared; the bucket itself is in
// Redis, storage/rate_limit_store.hpp). A node leases tokens from the shared bucket in chunks and
// spends them here, so most requests cost no round trip.
//
// Contract: `take` spends leased tokens only. `to_ask(n)` says how many tokens to ask the shared
// bucket for before admitting n: 0 when the lease covers n, or while asking is on hold; otherwise
// the shortfall plus one chunk ahead. `granted` records the answer: the tokens join the lease, and
// when the shared bucket could not give all that was asked (it is empty), asking is put on hold
// until it has refilled about one chunk (between 1 ms and 1 s, times a random 0.5 to 1.5 so that
// nodes do not fall into step), so a service over its limit costs
// at most one round trip per hold, not one per request. After admitting a request the lease holds
// at most one chunk (refunds are capped there too), so N nodes together hold at most N chunks that
// the shared bucket has already counted: the tolerance (docs/SCALING.md).
// The chunk is a tenth of the capacity (at least 1). A change of rate or capacity drops the lease.
class token_lease {
 public:
  // `seed` drives the jitter of the hold (nodes must not all use the same one).
  explicit token_lease(uint64_t per_minute = 10000, uint64_t capacity = 0,
                       uint64_t seed = 0x9E3779B97F4A7C15ULL);

  static uint64_t chunk_for(uint64_t capacity) { return capacity / 10 > 0 ? capacity / 10 : 1; }

  uint64_t take(uint64_t n);
  uint64_t to_ask(uint64_t n, int64_t now_us) const;
  // `left` is what the shared bucket holds after the grant (tokens, fractional); `wait_ms` the
  // time until it holds one whole token (-1: never, the rate is 0).
  void granted(uint64_t asked, uint64_t got, double left, int64_t wait_ms, int64_t now_us);
  void refund(uint64_t n);
  // Returns true when the rate or capacity changed (the lease and the hold were dropped).
  bool reconfigure(uint64_t per_minute, uint64_t capacity);
  // Retry-After for a request this lease could not cover: from the shared bucket's last answer.
  uint32_t seconds_until_available(int64_t now_us) const;

  uint64_t held() const { return held_; }
  uint64_t chunk() const { return chunk_; }
  uint64_t per_minute() const { return per_minute_; }
  uint64_t capacity() const { return capacity_; }
  bool on_hold(int64_t now_us) const { return now_us < hold_until_us_; }

 private:
  uint64_t per_minute_;
  uint64_t capacity_;
  uint64_t chunk_;
  uint64_t held_ = 0;
  int64_t hold_until_us_ = 0;
  int64_t available_at_us_ = 0;  // when the shared bucket has one token again (last answer)
  uint64_t rng_;                 // xorshift64 state for the hold's jitter
};

}  // namespace luffy
