#include "actors/agent_tracker.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>

#include "storage/agent_store.hpp"

namespace luffy {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct tracker_state {
  agent_tracker_settings settings;
  std::shared_ptr<agent_tally> tally;
  ingest_metrics* metrics = nullptr;
  std::unique_ptr<agent_store> store;
  int64_t next_check_ms = 0;
  bool warned = false;  // one warning per outage, not one per second
};

using tracker_actor = caf::stateful_actor<tracker_state>;

void publish(tracker_state& st, const agent_counts& c) {
  if (st.metrics != nullptr) {
    st.metrics->agents_known.store(c.known, std::memory_order_relaxed);
    st.metrics->agents_silent.store(c.silent, std::memory_order_relaxed);
  }
}

void failed(tracker_state& st, const char* what, const redis_error& e) {
  if (!st.warned) {
    spdlog::warn("agent tracker: {} failed: {}", what, e.message);
    st.warned = true;
  }
}

void cycle(tracker_state& st) {
  auto& s = st.settings;
  auto drained = st.tally->drain();
  uint64_t overflow = drained.overflow;
  if (!drained.agents.empty()) {
    auto r =
        st.store->flush(s.key_prefix, drained.agents, s.retention_ms, s.max_known_unauthenticated);
    if (r.ok()) {
      overflow += static_cast<uint64_t>(std::max<int64_t>(0, r.value->changed));
      publish(st, *r.value);
      st.warned = false;
    } else {
      if (st.metrics != nullptr) {
        st.metrics->agents_flush_failures.fetch_add(1, std::memory_order_relaxed);
      }
      failed(st, "flush", r.error);
      // Tried again next second, merged with what arrives meanwhile (bounded like the tally).
      st.tally->restore(std::move(drained.agents));
    }
  }
  if (st.metrics != nullptr && overflow > 0) {
    st.metrics->agents_overflow.fetch_add(overflow, std::memory_order_relaxed);
  }
  if (steady_ms() >= st.next_check_ms) {
    // A third of the threshold (1 to 5 s): an agent is flagged at most that late.
    const int64_t every = std::clamp<int64_t>(s.silent_after_ms / 3, 1000, 5000);
    st.next_check_ms = steady_ms() + every;
    auto r = st.store->check_silent(s.key_prefix, s.silent_after_ms, s.max_flag_per_check,
                                    s.retention_ms);
    if (r.ok()) {
      publish(st, *r.value);
      if (r.value->changed > 0) {
        spdlog::info("agent tracker: {} agent(s) silent for {} s", r.value->changed,
                     s.silent_after_ms / 1000);
      }
    } else {
      failed(st, "silence check", r.error);
    }
  }
}

caf::behavior agent_tracker(tracker_actor* self, agent_tracker_settings settings,
                            std::shared_ptr<agent_tally> tally, ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.tally = std::move(tally);
  st.metrics = metrics;
  st.store = std::make_unique<agent_store>(st.settings.redis);
  // pipeline::stop: the last second of counts goes to Redis before the actor quits.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    try {
      cycle(self->state);
    } catch (const std::exception& e) {
      spdlog::error("agent tracker: last flush failed: {}", e.what());
    }
    self->quit(msg.reason);
  });
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        const int64_t started = steady_ms();
        try {
          cycle(s);
        } catch (const std::exception& e) {
          // Never taken down by one bad cycle: the next one starts from an empty tally.
          spdlog::error("agent tracker: cycle failed: {}", e.what());
        }
        const int64_t spent = steady_ms() - started;
        self->delayed_send(
            self, std::chrono::milliseconds(std::max<int64_t>(10, s.settings.flush_ms - spent)),
            tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_agent_tracker(caf::actor_system& sys, agent_tracker_settings settings,
                               std::shared_ptr<agent_tally> tally, ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(agent_tracker, std::move(settings), std::move(tally), metrics);
}

}  // namespace luffy
