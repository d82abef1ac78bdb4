#include "actors/shard_router.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>

#include <algorithm>
#include <chrono>
#include <map>

#include "actors/messages.hpp"
#include "core/config.hpp"
#include "storage/shard_lease_store.hpp"

namespace luffy {

namespace {

using route_tick_atom = caf::atom_constant<caf::atom("routetick")>;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct peer {
  std::string address;   // host:port it advertised
  caf::actor inbox;      // set once its peer_hello matched
  bool pending = false;  // a dial or a hello is in flight
  int64_t retry_at = 0;  // steady ms before which it is not dialled again
  bool failing = false;  // its last dial failed (logged once per streak)
  bool refused = false;  // another build (logged once per address)
};

struct router_state {
  router_settings settings;
  std::shared_ptr<stage_directory> dir;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<shard_lease_store> store;
  std::map<std::string, peer> peers;
  std::vector<std::string> owners;  // per shard ("" when free)
  static inline const char* name = "shard_router";
};

using router_actor = caf::stateful_actor<router_state>;

void write_routes(router_actor* self) {
  auto& st = self->state;
  for (size_t s = 0; s < st.owners.size(); ++s) {
    caf::actor route;
    const auto& owner = st.owners[s];
    if (!owner.empty() && owner != st.settings.node) {
      if (auto it = st.peers.find(owner); it != st.peers.end()) {
        route = it->second.inbox;
      }
    }
    st.dir->set_remote_shard(s, route);
  }
}

void dial_failed(router_actor* self, const std::string& name, const std::string& why) {
  auto& st = self->state;
  auto it = st.peers.find(name);
  if (it == st.peers.end()) {
    return;
  }
  auto& p = it->second;
  p.pending = false;
  p.retry_at = steady_ms() + 2000;
  if (!p.failing) {
    spdlog::warn(
        "shard_router {}: cannot reach node {} at {} ({}); its shards get entries by "
        "their sweep until it answers",
        st.settings.node, name, p.address, why);
  }
  p.failing = true;
}

void dial(router_actor* self, const std::string& name) {
  auto& st = self->state;
  auto& p = st.peers[name];
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(p.address, host, port)) {
    p.retry_at = steady_ms() + 30000;
    return;
  }
  p.pending = true;
  const auto timeout = std::chrono::milliseconds(st.settings.connect_timeout_ms);
  auto mm = st.settings.tls ? self->system().openssl_manager().actor_handle()
                            : self->system().middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, host, port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr) {
              dial_failed(self, name, "nothing published there");
              return;
            }
            auto inbox = caf::actor_cast<caf::actor>(ptr);
            auto& s = self->state;
            self->request(inbox, timeout, peer_hello{s.settings.node, s.settings.fingerprint})
                .then(
                    [=](peer_hello& answer) {
                      auto& s2 = self->state;
                      auto& q = s2.peers[name];
                      q.pending = false;
                      if (answer.fingerprint != s2.settings.fingerprint) {
                        q.retry_at = steady_ms() + 30000;
                        spdlog::error(
                            "shard_router {}: refusing node {}: it runs another build (message "
                            "types {} here, {} there); run one build on every node",
                            s2.settings.node, name, s2.settings.fingerprint, answer.fingerprint);
                        return;
                      }
                      q.inbox = inbox;
                      q.failing = false;
                      self->monitor(inbox);
                      spdlog::info("shard_router {}: connected to node {} at {}", s2.settings.node,
                                   name, q.address);
                      write_routes(self);
                    },
                    [=](caf::error& e) { dial_failed(self, name, self->system().render(e)); });
          },
          [=](caf::error& e) { dial_failed(self, name, self->system().render(e)); });
}

void tick(router_actor* self) {
  auto& st = self->state;
  const auto& s = st.settings;
  auto view =
      st.store->heartbeat(s.key_prefix, s.node, heartbeat_mode::observe, node_ttl_ms, s.shards);
  if (!view.ok()) {
    return;  // keep the routes: the connections themselves are watched by the middleman
  }
  st.owners.assign(s.shards, std::string{});
  std::vector<std::string> others;
  for (uint32_t i = 0; i < s.shards && i < view.value->leases.size(); ++i) {
    const auto& lease = view.value->leases[i];
    st.owners[i] = lease.held() ? lease.node : std::string{};
    if (lease.held() && lease.node != s.node &&
        std::find(others.begin(), others.end(), lease.node) == others.end()) {
      others.push_back(lease.node);
    }
  }
  auto addrs = st.store->addresses(s.key_prefix, others);
  if (addrs.ok()) {
    for (size_t i = 0; i < others.size(); ++i) {
      const auto& a = (*addrs.value)[i];
      auto& p = st.peers[others[i]];
      if (p.address != a.address) {
        // A new address (or none any more): forget the old connection.
        if (p.inbox) {
          self->demonitor(p.inbox);
        }
        p = peer{};
        p.address = a.address;
      }
      if (p.address.empty()) {
        continue;  // the node runs no fast path: its sweep takes its entries
      }
      if (a.fingerprint != s.fingerprint) {
        if (!p.refused) {
          spdlog::error(
              "shard_router {}: not sending to node {}: it runs another build (message types {} "
              "here, {} there); run one build on every node",
              s.node, others[i], s.fingerprint, a.fingerprint);
        }
        p.refused = true;
        continue;
      }
      if (!p.inbox && !p.pending && steady_ms() >= p.retry_at) {
        dial(self, others[i]);
      }
    }
  }
  write_routes(self);
}

caf::behavior shard_router(router_actor* self, router_settings settings,
                           std::shared_ptr<stage_directory> dir, ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.dir = std::move(dir);
  st.metrics = metrics;
  st.store = std::make_unique<shard_lease_store>(st.settings.redis);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& s = self->state;
    for (auto& [name, p] : s.peers) {
      if (p.inbox && p.inbox.address() == dm.source) {
        spdlog::warn("shard_router {}: lost the connection to node {}", s.settings.node, name);
        p.inbox = caf::actor{};
        p.retry_at = steady_ms() + 1000;
      }
    }
    write_routes(self);
  });
  self->send(self, route_tick_atom::value);
  return {
      [=](route_tick_atom) {
        tick(self);
        self->delayed_send(self, std::chrono::milliseconds(self->state.settings.interval_ms),
                           route_tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_shard_router(caf::actor_system& sys, router_settings settings,
                              std::shared_ptr<stage_directory> dir, ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(shard_router, std::move(settings), std::move(dir), metrics);
}

}  // namespace luffy
