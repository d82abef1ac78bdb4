#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace luffy
