#include "actors/retention_sweeper.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "storage/retention_store.hpp"

namespace luffy {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct sweeper_state {
  retention_sweeper_settings settings;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<retention_store> store;
  bool warned = false;  // one warning per outage
};

using sweeper_actor = caf::stateful_actor<sweeper_state>;

// One sweep; true when old clusters are left for the next one (the budget ran out).
bool sweep(sweeper_state& st) {
  auto r = st.store->sweep(st.settings.key_prefix, unix_ms(), st.settings.policy);
  if (!r.ok()) {
    if (st.metrics != nullptr) {
      st.metrics->retention_sweep_failures.fetch_add(1, std::memory_order_relaxed);
    }
    if (!st.warned) {
      spdlog::warn("retention sweep failed: {}", r.error.message);
      st.warned = true;
    }
    return false;
  }
  st.warned = false;
  const auto& s = *r.value;
  if (st.metrics != nullptr) {
    auto add = [](std::atomic<uint64_t>& c, int64_t n) {
      c.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    };
    add(st.metrics->retention_clusters_expired, s.clusters_expired);
    add(st.metrics->retention_resolved_expired, s.resolved_expired);
    add(st.metrics->retention_events_trimmed, s.events_trimmed);
    add(st.metrics->retention_dead_letters_trimmed, s.dead_letters_trimmed);
    add(st.metrics->retention_sweeps, 1);
  }
  if (s.clusters_expired + s.resolved_expired > 0) {
    spdlog::info("retention: deleted {} cluster(s) not seen for {} s and {} resolved for {} s",
                 s.clusters_expired, st.settings.policy.clusters_ms / 1000, s.resolved_expired,
                 st.settings.policy.resolved_clusters_ms / 1000);
  }
  return s.more;
}

caf::behavior retention_sweeper(sweeper_actor* self, retention_sweeper_settings settings,
                                ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.metrics = metrics;
  st.store = std::make_unique<retention_store>(st.settings.redis);
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        bool more = false;
        try {
          more = sweep(s);
        } catch (const std::exception& e) {
          spdlog::error("retention sweep failed: {}", e.what());
        }
        // A backlog (the first sweep after an upgrade, a lowered retention) is worked off in
        // bounded sweeps a second apart instead of one long one.
        const int64_t next = more ? 1000 : s.settings.policy.sweep_interval_ms;
        self->delayed_send(self, std::chrono::milliseconds(next), tick_atom::value);
      },
      [=](const retention_policy& policy) { self->state.settings.policy = policy; },
  };
}

}  // namespace

caf::actor spawn_retention_sweeper(caf::actor_system& sys, retention_sweeper_settings settings,
                                   ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(retention_sweeper, std::move(settings), metrics);
}

}  // namespace luffy
