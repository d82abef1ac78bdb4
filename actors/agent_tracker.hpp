#pragma once
// agent_tracker: moves this node's view of the sending agents into Redis (docs/API.md "Agents").
//  owns:      one agent_store (storage/agent_store.hpp) whose connection blocks, so it runs
//             detached on its own thread
//  receives:  tick_atom from itself, every second: drains the agent_tally (core/agent_tally.hpp)
//             the HTTP ingest handler fills, and adds the deltas to Redis in ONE agent_flush.lua
//             call; every check interval (a third of agents.silent_after_seconds, 1 to 5 s) runs
//             agent_silent.lua, which flags silent agents and emits their agent_silent events.
//             Both scripts answer how many agents are known and silent: the gauges
//             luffy_ingest_agents_known / _silent.
//  sends:     nothing
//  spawned by: pipeline::start, stopped by pipeline::stop; not supervised: it holds no state but
//             the tally (owned by the pipeline, so it survives the actor) and every cycle catches
//             its own failures (a failed flush is counted in luffy_ingest_agents_flush_failures
//             and its deltas go back into the tally, merged and bounded, for the next second;
//             the ingest path never waits for it). On exit it flushes once more, so a stop
//             loses at most what Redis does not take then.
//
// Why a tally behind a lock rather than a message per request: see core/agent_tally.hpp.
#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "core/agent_tally.hpp"
#include "core/ingest_metrics.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct agent_tracker_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  int64_t flush_ms = 1000;
  int64_t silent_after_ms = 300000;
  int64_t retention_ms = 168LL * 3600 * 1000;
  int64_t max_known_unauthenticated = 10000;  // agents.max_tracked
  int64_t max_flag_per_check = 1000;
};

caf::actor spawn_agent_tracker(caf::actor_system& sys, agent_tracker_settings settings,
                               std::shared_ptr<agent_tally> tally, ingest_metrics* metrics);

}  // namespace luffy
