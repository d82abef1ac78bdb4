#pragma once
// The ingest pipeline: starts the supervisor, which spawns every actor of the ingest path and
// keeps them alive, and gives the HTTP edge the stage_directory to find them in.
//
//   parser pool (actors.parsers) -> dedup_actor (Redis read) -> limiter_registry ->
//   service_limiter (one per service) -> journal pool (actors.journal_writers, Redis Lua commit)
//   -> cluster_shard x actors.cluster_shards (fast path in memory; each owns its journal stream)
//
// The HTTP edge (net/ingest_gateway) drives one request through these stages in order; each stage
// answers the request, so no stage holds a batch after it replied. `stop()` stops the supervisor
// first (so nothing is restarted), then every child; the actor_system destructor waits for them.
#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/stage_directory.hpp"
#include "core/agent_tally.hpp"
#include "core/config.hpp"
#include "core/ingest_metrics.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

// One actor group as GET /api/v1/admin/actors shows it.
struct actor_group_stats {
  std::string name;         // parsers, limiters, dedup, journal_writers, cluster_shard_<n>
  int64_t size = 0;         // actors in the group now
  int64_t queue_depth = 0;  // requests waiting in or served by the group now (records for shards)
  int64_t restarts = 0;     // re-spawned by the supervisor since start
  uint64_t processed = 0;   // requests answered (records applied, for shards)
};

struct grouping_update;

// The latest reloaded grouping rules, read by the shard factory when the supervisor re-spawns a
// shard (so a restarted shard never runs older rules than its siblings).
struct latest_grouping {
  std::mutex mutex;
  std::shared_ptr<const grouping_update> update;  // nullptr: the start-up configuration's
};

struct pipeline {
  std::shared_ptr<stage_directory> directory;
  std::shared_ptr<latest_grouping> grouping = std::make_shared<latest_grouping>();
  caf::actor supervisor;
  caf::actor router;  // shard_router (nodes that journal, with clustering on)
  caf::actor inbox;   // shard_inbox (nodes that run shards); published by app/serve.cpp
  // The sending agents (agents.enabled, nodes that ingest): the HTTP ingest handler counts every
  // request in `agents`, actors/agent_tracker drains it into Redis once per second. nullptr when
  // agents are not tracked.
  std::shared_ptr<agent_tally> agents;
  caf::actor agent_tracker;
  caf::actor retention_sweeper;  // nodes that cluster (node.role all or shard)
  caf::actor notifier;           // actors/notifier (notifications.webhooks set, role all or shard)
  ingest_metrics* metrics = nullptr;
  caf::actor_system* system = nullptr;

  // `fingerprint`: this build's message_types_fingerprint (nodes exchange entries only with
  // nodes of the same build). `advertise`: host:port where this node's shard_inbox is published
  // ("" = it is not).
  static pipeline start(caf::actor_system& sys, const luffy_config& cfg,
                        const redis_endpoint& redis, ingest_metrics* metrics,
                        const std::string& fingerprint = {}, const std::string& advertise = {});
  void stop();

  // Hot reload (SIGHUP, POST /api/v1/admin/reload) of what can change live: rate limits (sent to
  // the limiter registry) and the parser and journal pool sizes (the supervisor grows or shrinks
  // them). Everything
  // else in `next` is ignored here; the caller has validated it and refused changes that need a
  // restart.
  void reconfigure(const luffy_config& next);

  // Hot reload of the grouping rules (clustering.in_app_prefixes, not_in_app_prefixes,
  // fingerprint_rules, max_new_clusters_per_minute): sent to every cluster shard, and kept for
  // the shards the supervisor re-spawns later.
  void update_grouping(const luffy_config& next);

  // Hot reload of retention.*: the sweeper applies the new policy from its next sweep.
  void update_retention(const luffy_config& next);

  // A snapshot of every actor group (thread-safe; reads atomics only). Shards this node does not
  // hold show size 0.
  std::vector<actor_group_stats> group_stats() const;

  // True while the supervisor sees more restarts than its intensity limit allows.
  bool degraded() const { return directory && directory->degraded(); }
};

}  // namespace luffy
