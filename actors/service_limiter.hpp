#pragma once
// service_limiter: the rate limit of one service (a token bucket in records per minute).
//  owns:      one token_bucket
//  receives:  limit_request -> limit_grant (partial admission), limit_refund, limit_config
//  spawned by: limiter_registry on the service's first request; linked to it, so they stop
//             together. Never blocks.
//
// limiter_registry: routes limit messages to the service's limiter, spawning it on first use.
//  owns:      service_id -> service_limiter map, the current rates (default + overrides)
//  receives:  limit_request (delegated, the limiter replies), limit_refund, limit_config
//  supervised by: the supervisor (actors/supervisor.hpp). Never blocks.
#include <caf/fwd.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace luffy {

struct rate_settings {
  int64_t per_minute = 10000;
  int64_t burst = 0;
  std::map<std::string, int64_t> per_service;
  int64_t rate_for(const std::string& service) const {
    auto it = per_service.find(service);
    return it == per_service.end() ? per_minute : it->second;
  }
};

caf::actor spawn_limiter_registry(caf::actor_system& sys, rate_settings settings);

}  // namespace luffy
