#pragma once
// service_limiter: the rate limit of one service (a token bucket in records per minute).
//  owns:      one token_bucket; with rate_limit.shared also a token_lease: tokens leased from the
//             service's bucket in Redis, shared by every node (docs/SCALING.md)
//  receives:  limit_request -> limit_grant (partial admission), limit_refund, limit_config
//  sends:     lease_request to the registry's rate_lease actor when its lease cannot cover a
//             request (one round trip per chunk of a tenth of the capacity); it waits for that
//             answer (other messages queue behind it), never blocks a thread
//  spawned by: limiter_registry on the service's first request; linked to it, so they stop
//             together.
//
// limiter_registry: routes limit messages to the service's limiter, spawning it on first use.
//  owns:      service_id -> service_limiter map, the current rates (default + overrides), and
//             with rate_limit.shared one rate_lease actor (linked)
//  receives:  limit_request (delegated, the limiter replies), limit_refund, limit_config
//  supervised by: the supervisor (actors/supervisor.hpp). Never blocks.
//
// rate_lease: the shared buckets' Redis side.
//  owns:      one rate_limit_store (storage/rate_limit_store.hpp): a blocking Redis connection, so
//             it runs detached on its own thread
//  receives:  lease_request -> lease_grant, or an error when Redis did not answer; after a failure
//             it answers errors at once for 1 s without trying Redis (a hung Redis costs one
//             timeout per second, not one per request)
//  spawned by: limiter_registry, linked.
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "storage/redis_endpoint.hpp"

namespace luffy {

struct ingest_metrics;

struct rate_settings {
  int64_t per_minute = 10000;
  int64_t burst = 0;
  std::map<std::string, int64_t> per_service;
  // rate_limit.shared: one bucket per service in Redis (key_prefix's <prefix>:ratelimit:<svc>),
  // leased in chunks; false (or no Redis given to the registry): each node limits alone.
  bool shared = false;
  std::string key_prefix = "luffy";
  int64_t rate_for(const std::string& service) const {
    auto it = per_service.find(service);
    return it == per_service.end() ? per_minute : it->second;
  }
};

// The Redis the shared buckets live in. A lease round trip is on a request's path (only when a
// lease runs short), so its timeout is storage.timeout_ms capped at kLeaseTimeout.
constexpr std::chrono::milliseconds kLeaseTimeout{250};

// Local limits only (rate_limit.shared ignored).
caf::actor spawn_limiter_registry(caf::actor_system& sys, rate_settings settings);
// Shared limits in `redis` when settings.shared; `metrics` (may be null) counts lease round trips
// and local fallbacks.
caf::actor spawn_limiter_registry(caf::actor_system& sys, rate_settings settings,
                                  const redis_endpoint& redis, ingest_metrics* metrics);

}  // namespace luffy
