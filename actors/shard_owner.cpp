#include "actors/shard_owner.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <memory>

#include "actors/messages.hpp"
#include "storage/shard_lease_store.hpp"

namespace luffy {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct owner_state {
  ownership_settings settings;
  caf::actor supervisor;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<shard_lease_store> store;
  std::map<uint32_t, std::string> held;    // shard -> our lease value (its fence)
  std::map<uint32_t, int64_t> free_since;  // shard -> Redis time it was first seen free
  int64_t renewed_at = 0;  // steady clock when the last successful renewal was *sent*
  bool redis_down = false;
  bool left = false;
  static inline const char* name = "shard_owner";
};

using owner_actor = caf::stateful_actor<owner_state>;

void set_held_gauge(owner_state& st) {
  if (st.metrics != nullptr) {
    st.metrics->shards_held.store(static_cast<int64_t>(st.held.size()), std::memory_order_relaxed);
  }
}

// Stops the local shard first, then forgets the lease (the caller releases it or lost it).
void drop(owner_actor* self, uint32_t shard) {
  auto& st = self->state;
  if (st.held.erase(shard) > 0) {
    self->send(st.supervisor, shard_assignment{shard, {}, false});
  }
  set_held_gauge(st);
}

void drop_all(owner_actor* self) {
  auto& st = self->state;
  while (!st.held.empty()) {
    drop(self, st.held.begin()->first);
  }
}

// The leases as core/shard_ownership sees them. A lease under our own name that we do not hold
// belongs to a previous life of this node (the owner was re-spawned, or the process restarted):
// it counts as ours to adopt, so it is "free" for the plan and taken with a new epoch.
std::vector<shard_lease_view> lease_views(owner_state& st, const deployment_view& view,
                                          std::vector<bool>& adopt) {
  const auto& s = st.settings;
  std::vector<shard_lease_view> out(view.leases.size());
  adopt.assign(view.leases.size(), false);
  for (uint32_t i = 0; i < view.leases.size(); ++i) {
    const auto& lease = view.leases[i];
    auto& v = out[i];
    const auto mine = st.held.find(i);
    const bool previous_life = lease.held() && lease.node == s.node &&
                               (mine == st.held.end() || mine->second != lease.value);
    if (!lease.held() || previous_life) {
      v.free_since_ms = st.free_since.emplace(i, view.now_ms).first->second;
      adopt[i] = previous_life;
      continue;
    }
    st.free_since.erase(i);
    v.owner = lease.node;
    v.owned_since_ms = lease.since_ms;
    if (view.rebalance_ms > lease.since_ms) {
      // An operator asked for a rebalance after this lease was taken: its hold is over.
      v.owned_since_ms = std::min(lease.since_ms, view.now_ms - s.timing.min_hold_ms);
    }
  }
  return out;
}

// Our leases may expire before we can renew them (Redis does not answer, or refuses the
// renewal script): stop applying a heartbeat before that. The fence would refuse the writes
// anyway; this keeps the shards from working for nothing.
void drop_if_stale(owner_actor* self) {
  auto& st = self->state;
  const auto& s = st.settings;
  if (!st.held.empty() && steady_ms() - st.renewed_at > s.lease_ttl_ms - s.heartbeat_ms) {
    spdlog::error("shard_owner {}: no lease renewal for {} ms; stopping its {} shards", s.node,
                  steady_ms() - st.renewed_at, st.held.size());
    if (st.metrics != nullptr) {
      st.metrics->shard_leases_lost.fetch_add(st.held.size(), std::memory_order_relaxed);
    }
    drop_all(self);
  }
}

void tick(owner_actor* self) {
  auto& st = self->state;
  const auto& s = st.settings;
  auto hb =
      st.store->heartbeat(s.key_prefix, s.node, heartbeat_mode::join, s.node_ttl_ms, s.shards);
  if (!hb.ok()) {
    if (!st.redis_down) {
      spdlog::warn("shard_owner {}: Redis did not answer the heartbeat ({})", s.node,
                   hb.error.message);
      st.redis_down = true;
    }
    drop_if_stale(self);
    return;
  }
  if (st.redis_down) {
    spdlog::info("shard_owner {}: Redis answers again", s.node);
    st.redis_down = false;
  }
  const deployment_view& view = *hb.value;
  if (!s.advertise.empty()) {
    // Where other nodes' journal writers reach this node's shards (best effort: without it they
    // leave the entries to the sweep).
    st.store->advertise(s.key_prefix, s.node, s.advertise, s.fingerprint, 30 * s.node_ttl_ms);
  }
  // Leases we hold that Redis shows with another value (or none) are lost.
  for (auto it = st.held.begin(); it != st.held.end();) {
    const auto shard = it->first;
    const bool still = shard < view.leases.size() && view.leases[shard].value == it->second;
    ++it;
    if (!still) {
      spdlog::warn("shard_owner {}: lost the lease of shard {}", s.node, shard);
      if (st.metrics != nullptr) {
        st.metrics->shard_leases_lost.fetch_add(1, std::memory_order_relaxed);
      }
      drop(self, shard);
    }
  }
  std::vector<bool> adopt;
  const auto views = lease_views(st, view, adopt);
  const auto plan = plan_ownership(s.node, view.live, views, view.now_ms, s.timing);

  // Hand over: stop the shard here first; the release then lets its desired owner take it at
  // that node's next heartbeat. (An apply still running here is refused by its fence.)
  std::vector<std::pair<uint32_t, std::string>> handing;
  for (uint32_t shard : plan.release) {
    if (auto it = st.held.find(shard); it != st.held.end()) {
      handing.emplace_back(shard, it->second);
      drop(self, shard);
    }
  }
  if (!handing.empty()) {
    auto r = st.store->release(s.key_prefix, handing);
    if (st.metrics != nullptr) {
      st.metrics->shard_leases_released.fetch_add(handing.size(), std::memory_order_relaxed);
    }
    spdlog::info("shard_owner {}: handed over {} shard(s){}", s.node, handing.size(),
                 r.ok() ? "" : " (release failed: their leases expire instead)");
  }

  // Renew what we hold.
  if (!st.held.empty()) {
    std::vector<std::pair<uint32_t, std::string>> mine(st.held.begin(), st.held.end());
    const int64_t sent = steady_ms();
    auto r = st.store->renew(s.key_prefix, mine, s.lease_ttl_ms);
    if (!r.ok()) {
      drop_if_stale(self);
    } else {
      st.renewed_at = sent;
      for (size_t i = 0; i < mine.size(); ++i) {
        if (!(*r.value)[i]) {
          spdlog::warn("shard_owner {}: lease of shard {} was gone at renewal", s.node,
                       mine[i].first);
          if (st.metrics != nullptr) {
            st.metrics->shard_leases_lost.fetch_add(1, std::memory_order_relaxed);
          }
          drop(self, mine[i].first);
        }
      }
    }
  } else {
    st.renewed_at = steady_ms();
  }

  // Take what the plan says.
  size_t taken = 0;
  for (uint32_t shard : plan.acquire) {
    const int64_t sent = steady_ms();
    auto r = st.store->acquire(s.key_prefix, shard, s.node, s.lease_ttl_ms, adopt[shard]);
    if (!r.ok()) {
      break;  // Redis failed: the next heartbeat tries again
    }
    if (!r.value->taken) {
      continue;  // another node was quicker
    }
    if (st.held.empty()) {
      st.renewed_at = sent;
    }
    st.held[shard] = r.value->lease.value;
    st.free_since.erase(shard);
    ++taken;
    self->send(st.supervisor, shard_assignment{shard, r.value->lease.value, true});
  }
  if (taken > 0) {
    spdlog::info("shard_owner {}: took {} shard(s); holds {} of {} ({} live nodes)", s.node, taken,
                 st.held.size(), s.shards, view.live.size());
    if (st.metrics != nullptr) {
      st.metrics->shard_leases_taken.fetch_add(taken, std::memory_order_relaxed);
    }
  }
  set_held_gauge(st);
}

void leave(owner_actor* self) {
  auto& st = self->state;
  const auto& s = st.settings;
  std::vector<std::pair<uint32_t, std::string>> mine(st.held.begin(), st.held.end());
  drop_all(self);
  if (!mine.empty()) {
    auto r = st.store->release(s.key_prefix, mine);
    if (st.metrics != nullptr && r.ok()) {
      st.metrics->shard_leases_released.fetch_add(mine.size(), std::memory_order_relaxed);
    }
  }
  auto r = st.store->heartbeat(s.key_prefix, s.node, heartbeat_mode::leave, s.node_ttl_ms, 0);
  spdlog::info("shard_owner {}: handed over {} shard(s) and left{}", s.node, mine.size(),
               r.ok() ? "" : " (Redis did not answer: the leases expire instead)");
  st.left = true;
}

caf::behavior shard_owner(owner_actor* self, ownership_settings settings, caf::actor supervisor,
                          ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.supervisor = std::move(supervisor);
  st.metrics = metrics;
  st.store = std::make_unique<shard_lease_store>(st.settings.redis);
  st.renewed_at = steady_ms();
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        if (s.left) {
          return;
        }
        const int64_t started = steady_ms();
        tick(self);
        const int64_t spent = steady_ms() - started;
        self->delayed_send(
            self, std::chrono::milliseconds(std::max<int64_t>(10, s.settings.heartbeat_ms - spent)),
            tick_atom::value);
      },
      [=](leave_atom) {
        leave(self);
        self->quit();
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_shard_owner(caf::actor_system& sys, ownership_settings settings,
                             caf::actor supervisor, ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(shard_owner, std::move(settings), std::move(supervisor), metrics);
}

bool shard_owner_leave(caf::actor_system& sys, const caf::actor& owner, int64_t timeout_ms) {
  if (!owner) {
    return true;
  }
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(owner, std::chrono::milliseconds(timeout_ms), leave_atom::value)
      .receive([&](bool) { answered = true; }, [&](caf::error&) {});
  return answered;
}

}  // namespace luffy
