#pragma once
// retention_sweeper: keeps Redis from only growing (docs/OPERATIONS.md "Retention").
//  owns:      one retention_store (storage/retention_store.hpp) whose connection blocks, so it
//             runs detached on its own thread, and the current retention_policy
//  receives:  tick_atom from itself every retention.sweep_interval (sooner while a sweep left
//             old clusters behind): one sweep deletes clusters not seen for retention.clusters and
//             resolved ones retention.resolved_clusters after their resolution, and trims the
//             events and dead-letter streams by length and age; retention_policy from
//             pipeline::update_retention on a reload (applies from the next tick)
//  sends:     nothing; counts in ingest_metrics (luffy_ingest_retention_*)
//  spawned by: pipeline::start on nodes that cluster (node.role all or shard), stopped by
//             pipeline::stop; not supervised: it holds no state but the policy, and a failed sweep
//             is counted (luffy_ingest_retention_sweep_failures_total), logged once per outage
//             and tried again at the next interval. Several nodes may sweep at once: every
//             deletion re-checks its cluster inside one script (storage/lua/cluster_forget.lua).
#include <caf/fwd.hpp>

#include <string>

#include "core/ingest_metrics.hpp"
#include "core/retention_policy.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct retention_sweeper_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  retention_policy policy;
};

caf::actor spawn_retention_sweeper(caf::actor_system& sys, retention_sweeper_settings settings,
                                   ingest_metrics* metrics);

}  // namespace luffy
