#pragma once
// rate_limit_store: the per-service rate-limit buckets shared by every node that uses this Redis
// (rate_limit.shared). One bucket per service, <prefix>:ratelimit:<service> (storage/keys.hpp),
// refilled by Redis's clock inside storage/lua/rate_limit_take.lua; a node leases tokens from it
// in chunks and spends them locally (core/token_bucket.hpp, token_lease), so most requests cost
// no round trip.
//
// Contract: `take` is one round trip (EVALSHA) on this store's own connection. It grants
// min(want, whole tokens in the bucket) and says what is left; the tokens granted are the
// caller's to spend (the bucket has counted them, whether the caller spends them or not).
// per_minute and capacity are the caller's current rates: every call passes them, so a reload
// applies from the next call (nodes should share one rate_limit section). A redis_result that is
// not ok() means Redis did not answer or answered something unexpected; nothing was granted (the
// caller falls back to its local bucket). Not thread-safe: one per actor.
#include <cstdint>
#include <string>

#include "storage/redis_client.hpp"

namespace luffy {

struct rate_grant {
  uint64_t granted = 0;  // tokens now the caller's
  double left = 0;       // tokens left in the shared bucket (fractional)
  int64_t wait_ms = 0;   // until the bucket holds one whole token: 0 now, -1 never (rate 0)
};

class rate_limit_store {
 public:
  explicit rate_limit_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  rate_limit_store(const rate_limit_store&) = delete;
  rate_limit_store& operator=(const rate_limit_store&) = delete;

  // Takes up to `want` tokens from `service`'s bucket (capacity > 0; want 0 only reads it).
  redis_result<rate_grant> take(const std::string& prefix, const std::string& service,
                                int64_t per_minute, int64_t capacity, uint64_t want);

 private:
  redis_client redis_;
};

}  // namespace luffy
