#pragma once
// The ingest pipeline: spawns every actor of the ingest path and holds their handles.
//
//   parser pool (actors.parsers) -> limiter_registry -> service_limiter (one per service)
//   dedup_actor (Redis read) -> journal pool (actors.journal_writers, Redis Lua commit)
//   cluster_shard x actors.cluster_shards, each consuming its journal stream
//
// The HTTP edge (net/ingest_gateway) drives one request through these stages in order; each stage
// answers the request, so no stage holds a batch after it replied. `stop()` sends exit to all of
// them; the actor_system destructor then waits for them.
#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <vector>

#include "core/config.hpp"
#include "core/ingest_metrics.hpp"
#include "net/redis_client.hpp"

namespace luffy {

struct pipeline {
  caf::actor parsers;
  caf::actor limiters;
  caf::actor dedup;
  caf::actor journal;
  std::vector<caf::actor> shards;  // cluster_shard per journal stream (clustering.enabled)

  static pipeline start(caf::actor_system& sys, const luffy_config& cfg,
                        const redis_endpoint& redis, ingest_metrics* metrics);
  void stop();
};

}  // namespace luffy
