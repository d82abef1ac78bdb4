#pragma once
// supervisor: keeps the pipeline's actors alive, like an Erlang/OTP one_for_one supervisor.
//  owns:      every pipeline actor it spawned: the parser pool and its workers, the limiter
//             registry, the dedup actor, the journal pool and its writers, the shard_owner and
//             the cluster shards of the shards this node holds
//  receives:  down_msg (a child died) -> spawns its successor and records it in the
//             stage_directory; resize_pool_request (hot reload) -> grows or shrinks the parser
//             or journal pool;
//             shard_assignment (from the shard_owner) -> spawns or stops a shard's cluster_shard;
//             from itself: respawn and calm-down checks
//  sends:     ('SYS','PUT'|'DELETE', worker) to its pools; exit to workers it removes
//  supervised by: nobody; pipeline::stop() stops it first, then its children.
//
// Restart intensity: at most `max_restarts` restarts within `window_seconds`. Beyond that the
// pipeline is `degraded` (stage_directory::degraded(): /ready and ingest answer 503) and each
// further restart waits a second; once a whole window passes without a restart it is healthy
// again. OTP would give up and stop; here Kubernetes' readiness probe takes the pod out of the
// service instead, and the pod recovers by itself when the fault was transient.
//
// What a restarted actor starts from: parsers and journal writers hold no state; the dedup window
// is in Redis; a limiter registry starts with full buckets (one burst of leniency); a cluster
// shard's journal entries are still in its stream, and its first sweep applies them.
#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/stage_directory.hpp"
#include "core/ingest_metrics.hpp"

namespace luffy {

struct supervision_settings {
  int64_t max_restarts = 5;
  int64_t window_seconds = 60;
};

// How to make each kind of child. Pools are made by the supervisor from the worker factories.
struct child_factories {
  std::function<caf::actor()> parser;
  std::function<caf::actor()> limiters;
  std::function<caf::actor()> dedup;
  std::function<caf::actor()> journal_writer;
  // A cluster shard for (shard, fence): spawned when the shard_owner takes the shard's lease.
  std::function<caf::actor(uint32_t, std::string)> shard;
  // The shard_owner, reporting to the given supervisor; empty on nodes that run no shards
  // (node.role ingest, clustering off).
  std::function<caf::actor(caf::actor)> owner;
  size_t parsers = 1;
  size_t journal_writers = 1;
};

// Spawns every child, records it in `directory`, and returns the supervisor. The directory is
// complete when this returns.
caf::actor spawn_supervisor(caf::actor_system& sys, child_factories factories,
                            supervision_settings settings,
                            std::shared_ptr<stage_directory> directory, ingest_metrics* metrics);

}  // namespace luffy
