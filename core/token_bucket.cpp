#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace luffy {

token_bucket::token_bucket(uint64_t per_minute, uint64_t capacity, int64_t now_us)
    : per_minute_(per_minute),
      capacity_(static_cast<double>(capacity ? capacity : per_minute)),
      tokens_(capacity_),
      last_us_(now_us) {}

void token_bucket::refill(int64_t now_us) {
  if (now_us <= last_us_) {
    return;
  }
  const double rate_per_us = static_cast<double>(per_minute_) / 60e6;
  tokens_ = std::min(capacity_, tokens_ + rate_per_us * static_cast<double>(now_us - last_us_));
  last_us_ = now_us;
}

uint64_t token_bucket::take(uint64_t n, int64_t now_us) {
  refill(now_us);
  const auto whole = static_cast<uint64_t>(std::floor(tokens_));
  const uint64_t admitted = std::min(n, whole);
  tokens_ -= static_cast<double>(admitted);
  return admitted;
}

void token_bucket::refund(uint64_t n) {
  tokens_ = std::min(capacity_, tokens_ + static_cast<double>(n));
}

void token_bucket::reconfigure(uint64_t per_minute, uint64_t capacity, int64_t now_us) {
  refill(now_us);
  per_minute_ = per_minute;
  capacity_ = static_cast<double>(capacity ? capacity : per_minute);
  tokens_ = std::min(tokens_, capacity_);
}

double token_bucket::available(int64_t now_us) {
  refill(now_us);
  return tokens_;
}

uint32_t token_bucket::seconds_until_available(int64_t now_us) {
  refill(now_us);
  if (tokens_ >= 1.0 || per_minute_ == 0) {
    return per_minute_ == 0 ? 60 : 1;
  }
  const double missing = 1.0 - tokens_;
  const double secs = missing / (static_cast<double>(per_minute_) / 60.0);
  return static_cast<uint32_t>(std::max(1.0, std::ceil(secs)));
}

token_lease::token_lease(uint64_t per_minute, uint64_t capacity, uint64_t seed)
    : per_minute_(per_minute),
      capacity_(capacity ? capacity : per_minute),
      chunk_(chunk_for(capacity_)),
      rng_(seed ? seed : 1) {}

uint64_t token_lease::take(uint64_t n) {
  const uint64_t got = std::min(n, held_);
  held_ -= got;
  return got;
}

uint64_t token_lease::to_ask(uint64_t n, int64_t now_us) const {
  if (n <= held_ || on_hold(now_us) || capacity_ == 0) {
    return 0;
  }
  return n - held_ + chunk_;
}

void token_lease::granted(uint64_t asked, uint64_t got, double left, int64_t wait_ms,
                          int64_t now_us) {
  held_ += got;
  available_at_us_ = wait_ms < 0 ? INT64_MAX : now_us + wait_ms * 1000;
  if (got >= asked) {
    hold_until_us_ = 0;
    return;
  }
  // The shared bucket is empty (it gives every whole token it has). Ask again once it has
  // refilled about a chunk: sooner would find it nearly empty again, later wastes nothing (it
  // keeps refilling up to capacity) but delays this node.
  if (per_minute_ == 0) {
    hold_until_us_ = now_us + 1000000;
    return;
  }
  const double rate_per_us = static_cast<double>(per_minute_) / 60e6;
  const double missing = std::max(0.0, static_cast<double>(chunk_) - left);
  const double wait_us = std::clamp(missing / rate_per_us, 1000.0, 1000000.0);
  // Jitter (x 0.5 .. 1.5): nodes whose holds end together stay in step otherwise, and the one
  // that asks first takes every refill (measured: 16k against 4k logs/s between two nodes).
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const double jitter = 0.5 + static_cast<double>(rng_ >> 11) / 9007199254740992.0;
  hold_until_us_ = now_us + static_cast<int64_t>(wait_us * jitter);
}

void token_lease::refund(uint64_t n) {
  held_ = std::min(chunk_, held_ + n);
}

bool token_lease::reconfigure(uint64_t per_minute, uint64_t capacity) {
  const uint64_t cap = capacity ? capacity : per_minute;
  if (per_minute == per_minute_ && cap == capacity_) {
    return false;
  }
  per_minute_ = per_minute;
  capacity_ = cap;
  chunk_ = chunk_for(cap);
  held_ = 0;
  hold_until_us_ = 0;
  available_at_us_ = 0;
  return true;
}

uint32_t token_lease::seconds_until_available(int64_t now_us) const {
  if (per_minute_ == 0 || available_at_us_ == INT64_MAX) {
    return 60;
  }
  const int64_t wait_us = std::max<int64_t>(available_at_us_, hold_until_us_) - now_us;
  return static_cast<uint32_t>(std::max<int64_t>(1, (wait_us + 999999) / 1000000));
}

}  // namespace luffy
