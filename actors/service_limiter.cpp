#include "actors/service_limiter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include "actors/messages.hpp"
#include "core/ingest_metrics.hpp"
#include "core/token_bucket.hpp"
#include "storage/rate_limit_store.hpp"

namespace luffy {

namespace {

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void count(ingest_metrics* m, std::atomic<uint64_t> ingest_metrics::*counter) {
  if (m != nullptr) {
    (m->*counter).fetch_add(1, std::memory_order_relaxed);
  }
}

// ---- rate_lease: the shared buckets' Redis side (detached) --------------------------------------

struct lease_state {
  std::unique_ptr<rate_limit_store> store;
  std::string prefix;
  ingest_metrics* metrics = nullptr;
  std::chrono::steady_clock::time_point open_until{};  // after a failure: answer errors until then
  bool failing = false;
  std::chrono::steady_clock::time_point last_warning{};
  static inline const char* name = "rate_lease";
};

caf::behavior rate_lease(caf::stateful_actor<lease_state>* self, redis_endpoint redis,
                         std::string prefix, ingest_metrics* metrics) {
  redis.timeout = std::min(redis.timeout, kLeaseTimeout);
  self->state.store = std::make_unique<rate_limit_store>(std::move(redis));
  self->state.prefix = std::move(prefix);
  self->state.metrics = metrics;
  return {
      [=](const lease_request& req) -> caf::result<lease_grant> {
        auto& st = self->state;
        const auto now = std::chrono::steady_clock::now();
        if (now < st.open_until) {
          return caf::make_error(caf::sec::runtime_error, "rate limit: Redis unavailable");
        }
        count(st.metrics, &ingest_metrics::rate_limit_redis_calls);
        auto r = st.store->take(st.prefix, req.service_id, req.per_minute, req.capacity, req.want);
        if (!r.ok()) {
          st.open_until = now + std::chrono::seconds(1);
          // Logged once per outage (and at most once a minute if Redis flaps), not per request.
          if (!st.failing && now - st.last_warning > std::chrono::minutes(1)) {
            spdlog::warn(
                "rate limit: the shared buckets in Redis did not answer ({}); this node limits "
                "alone until they do (up to N x rate_limit with N nodes)",
                r.error.message);
            st.last_warning = now;
          }
          st.failing = true;
          return caf::make_error(caf::sec::runtime_error, "rate limit: " + r.error.message);
        }
        if (st.failing) {
          spdlog::info("rate limit: the shared buckets in Redis answer again");
          st.failing = false;
        }
        lease_grant g;
        g.granted = r.value->granted;
        g.left_milli = static_cast<int64_t>(r.value->left * 1000.0);
        g.wait_ms = r.value->wait_ms;
        return g;
      },
  };
}

// ---- service_limiter
// ------------------------------------------------------------------------------

struct limiter_state {
  // Local mode: the limit. Shared mode: the fallback when Redis does not answer; it is also
  // charged for what the lease admits, so a fallback starts from this node's recent use instead
  // of a full bucket.
  token_bucket bucket;
  token_lease lease;
  std::string service;
  caf::actor lease_actor;  // null: local mode
  ingest_metrics* metrics = nullptr;
  static inline const char* name = "service_limiter";
};

limit_grant local_grant(limiter_state& st, std::string service, uint64_t n, int64_t now) {
  limit_grant g;
  g.service_id = std::move(service);
  g.admitted = st.bucket.take(n, now);
  if (g.admitted < n) {
    g.retry_after_seconds = st.bucket.seconds_until_available(now);
  }
  return g;
}

limit_grant leased_grant(limiter_state& st, std::string service, uint64_t n, int64_t now) {
  limit_grant g;
  g.service_id = std::move(service);
  g.admitted = st.lease.take(n);
  st.bucket.take(g.admitted, now);
  if (g.admitted < n) {
    g.retry_after_seconds = st.lease.seconds_until_available(now);
  }
  return g;
}

caf::behavior service_limiter(caf::stateful_actor<limiter_state>* self, std::string service,
                              int64_t per_minute, int64_t burst, caf::actor lease_actor,
                              ingest_metrics* metrics) {
  auto& st = self->state;
  st.bucket =
      token_bucket(static_cast<uint64_t>(per_minute), static_cast<uint64_t>(burst), monotonic_us());
  st.lease = token_lease(static_cast<uint64_t>(per_minute), static_cast<uint64_t>(burst),
                         static_cast<uint64_t>(monotonic_us()) ^ std::hash<std::string>{}(service));
  st.service = std::move(service);
  st.lease_actor = std::move(lease_actor);
  st.metrics = metrics;
  return {
      [=](limit_request& req) -> caf::result<limit_grant> {
        auto& st = self->state;
        const int64_t now = monotonic_us();
        if (!st.lease_actor) {
          return local_grant(st, std::move(req.service_id), req.count, now);
        }
        const uint64_t ask = st.lease.to_ask(req.count, now);
        if (ask == 0) {  // the lease covers it, or the shared bucket is empty and on hold
          return leased_grant(st, std::move(req.service_id), req.count, now);
        }
        // Short: take a chunk from Redis. `await` keeps this service's other requests queued
        // behind the answer (they would need it too); the thread is not blocked.
        auto rp = self->make_response_promise<limit_grant>();
        const uint64_t n = req.count;
        const auto rate = static_cast<int64_t>(st.lease.per_minute());
        const auto cap = static_cast<int64_t>(st.lease.capacity());
        self->request(st.lease_actor, kLeaseTimeout + std::chrono::milliseconds(250),
                      lease_request{st.service, rate, cap, ask})
            .await(
                [=](const lease_grant& lg) mutable {
                  auto& st = self->state;
                  const int64_t t = monotonic_us();
                  st.lease.granted(ask, lg.granted, static_cast<double>(lg.left_milli) / 1000.0,
                                   lg.wait_ms, t);
                  rp.deliver(leased_grant(st, st.service, n, t));
                },
                [=](caf::error&) mutable {
                  // Fail open per node: when Redis does not answer, this node's own bucket
                  // decides, as without sharing. A rate limit protects the pipeline and Redis
                  // from a noisy service; refusing every service's logs because the limiter's
                  // bookkeeping is unreachable would turn a Redis hiccup into data loss upstream,
                  // while the journal (which needs Redis anyway) answers 503 if Redis is really
                  // gone. The cost is a limit of up to N x per_minute while it lasts; the
                  // rate_lease actor logs it once and ingest_metrics counts it.
                  auto& st = self->state;
                  count(st.metrics, &ingest_metrics::rate_limit_fallbacks);
                  rp.deliver(local_grant(st, st.service, n, monotonic_us()));
                });
        return rp;
      },
      [=](limit_refund& r) {
        auto& st = self->state;
        st.bucket.refund(r.count);
        if (st.lease_actor) {
          st.lease.refund(r.count);
        }
      },
      [=](int64_t per_min, int64_t new_burst) {
        auto& st = self->state;
        st.bucket.reconfigure(static_cast<uint64_t>(per_min), static_cast<uint64_t>(new_burst),
                              monotonic_us());
        // A changed rate drops the lease: tokens leased at the old rate must not outlive it (the
        // shared bucket applies the new rate from the next lease on).
        st.lease.reconfigure(static_cast<uint64_t>(per_min), static_cast<uint64_t>(new_burst));
      },
  };
}

// ---- limiter_registry ---------------------------------------------------------------------------

struct registry_state {
  rate_settings settings;
  std::unordered_map<std::string, caf::actor> limiters;
  caf::actor lease_actor;  // null: local limits only
  ingest_metrics* metrics = nullptr;
  static inline const char* name = "limiter_registry";
};

caf::actor& limiter_for(caf::stateful_actor<registry_state>* self, const std::string& service) {
  auto it = self->state.limiters.find(service);
  if (it == self->state.limiters.end()) {
    auto a = self->spawn<caf::linked>(
        service_limiter, service, self->state.settings.rate_for(service),
        self->state.settings.burst, self->state.lease_actor, self->state.metrics);
    it = self->state.limiters.emplace(service, std::move(a)).first;
  }
  return it->second;
}

caf::behavior limiter_registry(caf::stateful_actor<registry_state>* self, rate_settings settings,
                               std::optional<redis_endpoint> redis, ingest_metrics* metrics) {
  self->state.settings = std::move(settings);
  self->state.metrics = metrics;
  if (self->state.settings.shared && redis) {
    self->state.lease_actor = self->spawn<caf::linked + caf::detached>(
        rate_lease, *redis, self->state.settings.key_prefix, metrics);
  }
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
  return sys.spawn(limiter_registry, std::move(settings), std::optional<redis_endpoint>{},
                   static_cast<ingest_metrics*>(nullptr));
}

caf::actor spawn_limiter_registry(caf::actor_system& sys, rate_settings settings,
                                  const redis_endpoint& redis, ingest_metrics* metrics) {
  return sys.spawn(limiter_registry, std::move(settings), std::optional<redis_endpoint>{redis},
                   metrics);
}

}  // namespace luffy
