#include "actors/service_limiter.hpp"

#include <chrono>
#include <unordered_map>

#include "actors/messages.hpp"
#include "core/token_bucket.hpp"

namespace luffy {

namespace {

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct limiter_state {
  token_bucket bucket;
  static inline const char* name = "service_limiter";
};

caf::behavior service_limiter(caf::stateful_actor<limiter_state>* self, int64_t per_minute,
                              int64_t burst) {
  self->state.bucket =
      token_bucket(static_cast<uint64_t>(per_minute), static_cast<uint64_t>(burst), monotonic_us());
  return {
      [=](limit_request& req) -> limit_grant {
        const int64_t now = monotonic_us();
        limit_grant g;
        g.service_id = std::move(req.service_id);
        g.admitted = self->state.bucket.take(req.count, now);
        if (g.admitted < req.count) {
          g.retry_after_seconds = self->state.bucket.seconds_until_available(now);
        }
        return g;
      },
      [=](limit_refund& r) { self->state.bucket.refund(r.count); },
      [=](int64_t per_min, int64_t new_burst) {
        self->state.bucket.reconfigure(static_cast<uint64_t>(per_min),
                                       static_cast<uint64_t>(new_burst), monotonic_us());
      },
  };
}

struct registry_state {
  rate_settings settings;
  std::unordered_map<std::string, caf::actor> limiters;
  static inline const char* name = "limiter_registry";
};

caf::actor& limiter_for(caf::stateful_actor<registry_state>* self, const std::string& service) {
  auto it = self->state.limiters.find(service);
  if (it == self->state.limiters.end()) {
    auto a = self->spawn<caf::linked>(service_limiter, self->state.settings.rate_for(service),
                                      self->state.settings.burst);
    it = self->state.limiters.emplace(service, std::move(a)).first;
  }
  return it->second;
}

caf::behavior limiter_registry(caf::stateful_actor<registry_state>* self, rate_settings settings) {
  self->state.settings = std::move(settings);
  return {
      [=](limit_request& req) {
        auto& dst = limiter_for(self, req.service_id);
        return self->delegate(dst, std::move(req));
      },
      [=](limit_refund& r) {
        auto it = self->state.limiters.find(r.service_id);
        if (it != self->state.limiters.end()) {
          self->send(it->second, std::move(r));
        }
      },
      [=](limit_config& c) {
        self->state.settings.per_minute = c.per_minute;
        self->state.settings.burst = c.burst;
        self->state.settings.per_service.clear();
        for (size_t i = 0; i < c.services.size() && i < c.per_minute_by_service.size(); ++i) {
          self->state.settings.per_service[c.services[i]] = c.per_minute_by_service[i];
        }
        for (auto& [service, limiter] : self->state.limiters) {
          self->send(limiter, self->state.settings.rate_for(service), c.burst);
        }
      },
  };
}

}  // namespace

caf::actor spawn_limiter_registry(caf::actor_system& sys, rate_settings settings) {
  return sys.spawn(limiter_registry, std::move(settings));
}

}  // namespace luffy
