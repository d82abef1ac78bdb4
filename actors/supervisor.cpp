#include "actors/supervisor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "actors/messages.hpp"

namespace luffy {

namespace {

using respawn_atom = caf::atom_constant<caf::atom("respawn")>;
using calm_atom = caf::atom_constant<caf::atom("calm")>;
using owner_atom = caf::atom_constant<caf::atom("owner")>;

enum class child_kind : uint8_t {
  parser_worker,
  parser_pool,
  limiters,
  dedup,
  journal_worker,
  journal_pool,
  shard,
  owner
};

const char* kind_name(child_kind k) {
  switch (k) {
    case child_kind::parser_worker:
      return "parser";
    case child_kind::parser_pool:
      return "parser pool";
    case child_kind::limiters:
      return "limiter registry";
    case child_kind::dedup:
      return "dedup actor";
    case child_kind::journal_worker:
      return "journal writer";
    case child_kind::journal_pool:
      return "journal pool";
    case child_kind::shard:
      return "cluster shard";
    case child_kind::owner:
      return "shard owner";
  }
  return "actor";
}

struct child_ref {
  child_kind kind = child_kind::parser_worker;
  size_t index = 0;
};

// A pool (stable handle for its users) and the workers the supervisor put into it.
struct pool_group {
  caf::actor pool;
  std::vector<caf::actor> workers;
};

struct supervisor_state {
  child_factories make;
  supervision_settings settings;
  std::shared_ptr<stage_directory> dir;
  ingest_metrics* metrics = nullptr;
  pool_group parsers, journal;
  // The cluster shards this node runs now (the shard_owner holds their leases): shard -> actor
  // and the fence it was spawned with.
  std::map<uint32_t, std::pair<caf::actor, std::string>> shards;
  caf::actor owner;
  std::map<caf::actor_addr, child_ref> children;
  std::set<caf::actor_addr> retiring;  // workers removed on purpose (pool shrink)
  std::deque<int64_t> restarts_ms;     // within the intensity window
  static inline const char* name = "supervisor";
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

caf::actor make_pool(caf::actor_system& sys) {
  return caf::actor_pool::make(sys.dummy_execution_unit(), caf::actor_pool::round_robin());
}

void put_worker(const caf::actor& pool, const caf::actor& worker) {
  // The pool handles system messages while they are enqueued: the worker is in when this returns.
  caf::anon_send(pool, caf::sys_atom::value, caf::put_atom::value, worker);
}

// Everything spawned before the supervisor exists, so the directory is complete at once.
struct initial_children {
  pool_group parsers, journal;
  caf::actor limiters, dedup;
};

pool_group build_pool(caf::actor_system& sys, const std::function<caf::actor()>& make, size_t n) {
  pool_group g;
  g.pool = make_pool(sys);
  for (size_t i = 0; i < n; ++i) {
    g.workers.push_back(make());
    put_worker(g.pool, g.workers.back());
  }
  return g;
}

void watch(caf::stateful_actor<supervisor_state>* self, const caf::actor& a, child_ref ref) {
  self->state.children[a.address()] = ref;
  self->monitor(a);
}

void watch_pool(caf::stateful_actor<supervisor_state>* self, pool_group& g, child_kind pool_kind,
                child_kind worker_kind) {
  watch(self, g.pool, {pool_kind, 0});
  for (auto& w : g.workers) {
    watch(self, w, {worker_kind, 0});
  }
}

// Records a restart; returns true while within the intensity limit.
bool count_restart(supervisor_state& st) {
  const int64_t now = now_ms();
  st.restarts_ms.push_back(now);
  while (!st.restarts_ms.empty() &&
         st.restarts_ms.front() <= now - st.settings.window_seconds * 1000) {
    st.restarts_ms.pop_front();
  }
  return static_cast<int64_t>(st.restarts_ms.size()) <= st.settings.max_restarts;
}

group_counters& counters_of(supervisor_state& st, const child_ref& ref) {
  switch (ref.kind) {
    case child_kind::parser_worker:
    case child_kind::parser_pool:
      return st.dir->counters(stage::parsers);
    case child_kind::limiters:
      return st.dir->counters(stage::limiters);
    case child_kind::dedup:
      return st.dir->counters(stage::dedup);
    case child_kind::journal_worker:
    case child_kind::journal_pool:
      return st.dir->counters(stage::journal);
    case child_kind::shard:
    case child_kind::owner:
      break;
  }
  return st.dir->shard_counters(ref.kind == child_kind::owner ? 0 : ref.index);
}

void reset_shard_gauges(supervisor_state& st, size_t shard) {
  if (st.metrics != nullptr && shard < ingest_metrics::max_shards) {
    st.metrics->shard_backlog[shard].store(0, std::memory_order_relaxed);
    st.metrics->shard_lag_ms[shard].store(0, std::memory_order_relaxed);
  }
}

// Spawns the successor of a dead child and puts it where its users find it.
void respawn(caf::stateful_actor<supervisor_state>* self, child_ref ref) {
  auto& st = self->state;
  auto& sys = self->system();
  switch (ref.kind) {
    case child_kind::parser_worker:
    case child_kind::journal_worker: {
      auto& g = ref.kind == child_kind::parser_worker ? st.parsers : st.journal;
      const auto& make =
          ref.kind == child_kind::parser_worker ? st.make.parser : st.make.journal_writer;
      auto w = make();
      g.workers.push_back(w);
      watch(self, w, ref);
      put_worker(g.pool, w);
      break;
    }
    case child_kind::parser_pool:
    case child_kind::journal_pool: {
      // The pool quit (it does when its last worker dies): a new pool with a full set of workers.
      const bool parsers = ref.kind == child_kind::parser_pool;
      auto& g = parsers ? st.parsers : st.journal;
      const size_t n = std::max<size_t>(1, g.workers.size());
      for (auto& w : g.workers) {
        st.retiring.insert(w.address());
        caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
      }
      g = build_pool(sys, parsers ? st.make.parser : st.make.journal_writer, n);
      watch_pool(self, g, ref.kind,
                 parsers ? child_kind::parser_worker : child_kind::journal_worker);
      st.dir->set(parsers ? stage::parsers : stage::journal, g.pool);
      break;
    }
    case child_kind::limiters: {
      auto a = st.make.limiters();
      watch(self, a, ref);
      st.dir->set(stage::limiters, a);
      break;
    }
    case child_kind::dedup: {
      auto a = st.make.dedup();
      watch(self, a, ref);
      st.dir->set(stage::dedup, a);
      break;
    }
    case child_kind::shard: {
      // Its buffered fast-path entries died with it; they are still in its stream, and the new
      // shard's first sweep counts and applies them. Only while this node still holds the shard.
      auto it = st.shards.find(static_cast<uint32_t>(ref.index));
      if (it == st.shards.end()) {
        break;
      }
      reset_shard_gauges(st, ref.index);
      it->second.first = st.make.shard(it->first, it->second.second);
      watch(self, it->second.first, ref);
      st.dir->set_shard(ref.index, it->second.first);
      break;
    }
    case child_kind::owner: {
      st.owner = st.make.owner(caf::actor_cast<caf::actor>(self));
      watch(self, st.owner, ref);
      st.dir->set_owner(st.owner);
      break;
    }
  }
}

// Starts (hold) or stops the cluster shard of `a.shard`, as the shard_owner says.
void assign_shard(caf::stateful_actor<supervisor_state>* self, const shard_assignment& a) {
  auto& st = self->state;
  if (a.shard >= st.dir->shard_count()) {
    return;
  }
  auto it = st.shards.find(a.shard);
  if (it != st.shards.end()) {
    if (a.hold && it->second.second == a.fence) {
      return;
    }
    // Stopped on purpose: a lease handed over or lost, or re-taken with a new fence.
    st.retiring.insert(it->second.first.address());
    caf::anon_send_exit(it->second.first, caf::exit_reason::user_shutdown);
    st.shards.erase(it);
    st.dir->set_shard(a.shard, {});
    st.dir->shard_counters(a.shard).size = 0;
    reset_shard_gauges(st, a.shard);
  }
  if (a.hold) {
    auto shard = st.make.shard(a.shard, a.fence);
    st.shards[a.shard] = {shard, a.fence};
    watch(self, shard, {child_kind::shard, a.shard});
    st.dir->set_shard(a.shard, shard);
    st.dir->shard_counters(a.shard).size = 1;
  }
}

void resize_pool(caf::stateful_actor<supervisor_state>* self, pool_group& g,
                 const std::function<caf::actor()>& make, child_kind worker_kind, size_t n,
                 group_counters& counters) {
  auto& st = self->state;
  n = std::max<size_t>(1, n);
  while (g.workers.size() < n) {
    auto w = make();
    g.workers.push_back(w);
    watch(self, w, {worker_kind, 0});
    put_worker(g.pool, w);
  }
  while (g.workers.size() > n) {
    // Out of the pool first, so no new request reaches it; it finishes what it holds, then exits.
    auto w = g.workers.back();
    g.workers.pop_back();
    st.retiring.insert(w.address());
    caf::anon_send(g.pool, caf::sys_atom::value, caf::delete_atom::value, w);
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }
  counters.size.store(static_cast<int64_t>(g.workers.size()));
}

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, child_factories make,
                         supervision_settings settings, std::shared_ptr<stage_directory> dir,
                         ingest_metrics* metrics, initial_children kids) {
  auto& st = self->state;
  st.make = std::move(make);
  st.settings = settings;
  st.dir = std::move(dir);
  st.metrics = metrics;
  st.parsers = std::move(kids.parsers);
  st.journal = std::move(kids.journal);
  watch_pool(self, st.parsers, child_kind::parser_pool, child_kind::parser_worker);
  watch_pool(self, st.journal, child_kind::journal_pool, child_kind::journal_worker);
  watch(self, kids.limiters, {child_kind::limiters, 0});
  watch(self, kids.dedup, {child_kind::dedup, 0});
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& s = self->state;
    auto it = s.children.find(dm.source);
    if (it == s.children.end()) {
      return;
    }
    const child_ref ref = it->second;
    s.children.erase(it);
    if (s.retiring.erase(dm.source) > 0) {
      return;  // removed on purpose
    }
    if (ref.kind == child_kind::owner && dm.reason == caf::exit_reason::normal) {
      return;  // it handed its shards over and left (pipeline::stop): the node is stopping
    }
    if (ref.kind == child_kind::shard && dm.reason == caf::exit_reason::normal) {
      // A shard quits normally only when Redis refused its fence: its lease is gone. The owner
      // sees that at its next heartbeat; nothing to restart.
      s.shards.erase(static_cast<uint32_t>(ref.index));
      s.dir->set_shard(ref.index, {});
      s.dir->shard_counters(ref.index).size = 0;
      reset_shard_gauges(s, ref.index);
      return;
    }
    if (ref.kind == child_kind::parser_worker || ref.kind == child_kind::journal_worker) {
      auto& g = ref.kind == child_kind::parser_worker ? s.parsers : s.journal;
      g.workers.erase(std::remove_if(g.workers.begin(), g.workers.end(),
                                     [&](const caf::actor& w) { return w.address() == dm.source; }),
                      g.workers.end());
    }
    counters_of(s, ref).restarts.fetch_add(1);
    const bool calm = count_restart(s);
    spdlog::error("{} {} died ({}); restarting it", kind_name(ref.kind),
                  ref.kind == child_kind::shard ? std::to_string(ref.index) : std::string{},
                  self->system().render(dm.reason));
    if (!calm && !s.dir->degraded()) {
      const std::string why = std::to_string(s.restarts_ms.size()) + " actor restarts within " +
                              std::to_string(s.settings.window_seconds) +
                              " s (supervision.max_restarts " +
                              std::to_string(s.settings.max_restarts) + ")";
      spdlog::error("pipeline degraded: {}; /ready answers 503 until a window passes calmly", why);
      s.dir->set_degraded(true, why);
    }
    if (s.dir->degraded()) {
      self->delayed_send(self, std::chrono::seconds(1), respawn_atom::value,
                         static_cast<uint8_t>(ref.kind), static_cast<uint64_t>(ref.index));
      self->delayed_send(self, std::chrono::seconds(s.settings.window_seconds), calm_atom::value);
    } else {
      respawn(self, ref);
    }
  });
  return {
      [=](respawn_atom, uint8_t kind, uint64_t index) {
        respawn(self, {static_cast<child_kind>(kind), static_cast<size_t>(index)});
      },
      [=](calm_atom) {
        auto& s = self->state;
        const int64_t now = now_ms();
        while (!s.restarts_ms.empty() &&
               s.restarts_ms.front() <= now - s.settings.window_seconds * 1000) {
          s.restarts_ms.pop_front();
        }
        if (s.dir->degraded() && s.restarts_ms.empty()) {
          spdlog::info("pipeline healthy again: no actor restart for {} s",
                       s.settings.window_seconds);
          s.dir->set_degraded(false, {});
        }
      },
      [=](shard_assignment& a) { assign_shard(self, a); },
      [=](owner_atom, caf::actor& owner) {
        // The first shard_owner, spawned by spawn_supervisor once this supervisor's handle
        // existed (a monitor on an actor that died already delivers its down_msg at once).
        self->state.owner = owner;
        watch(self, owner, {child_kind::owner, 0});
      },
      [=](resize_pool_request& r) {
        auto& s = self->state;
        if (r.group == "parsers") {
          resize_pool(self, s.parsers, s.make.parser, child_kind::parser_worker, r.size,
                      s.dir->counters(stage::parsers));
        } else if (r.group == "journal_writers") {
          // A writer removed finishes the commit it holds (the pool sends it nothing new).
          resize_pool(self, s.journal, s.make.journal_writer, child_kind::journal_worker, r.size,
                      s.dir->counters(stage::journal));
        }
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, child_factories make,
                            supervision_settings settings, std::shared_ptr<stage_directory> dir,
                            ingest_metrics* metrics) {
  initial_children kids;
  kids.parsers = build_pool(sys, make.parser, std::max<size_t>(1, make.parsers));
  kids.journal = build_pool(sys, make.journal_writer, std::max<size_t>(1, make.journal_writers));
  kids.limiters = make.limiters();
  kids.dedup = make.dedup();
  dir->set(stage::parsers, kids.parsers.pool);
  dir->set(stage::journal, kids.journal.pool);
  dir->set(stage::limiters, kids.limiters);
  dir->set(stage::dedup, kids.dedup);
  dir->counters(stage::parsers).size = static_cast<int64_t>(kids.parsers.workers.size());
  dir->counters(stage::journal).size = static_cast<int64_t>(kids.journal.workers.size());
  dir->counters(stage::limiters).size = 1;
  dir->counters(stage::dedup).size = 1;
  auto make_owner = make.owner;
  auto directory = dir;
  auto sup =
      sys.spawn(supervisor, std::move(make), settings, std::move(dir), metrics, std::move(kids));
  if (make_owner) {
    // Spawned here, not in the supervisor's first behaviour run: the directory must name the
    // owner when this returns, or a stop right after start (pipeline::stop) would miss it and
    // the actor system would wait for it forever.
    auto owner = make_owner(sup);
    directory->set_owner(owner);
    caf::anon_send(sup, owner_atom::value, owner);
  }
  return sup;
}

}  // namespace luffy
