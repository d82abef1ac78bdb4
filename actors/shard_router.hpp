#pragma once
// shard_router: keeps, for every virtual shard another node holds, a connection to that node's
// shard_inbox, so the journal writers can hand it committed entries at once (the fast path across
// hosts) instead of leaving them to its sweep.
//  owns:      one CAF middleman connection per peer node (dialled with a timeout, monitored), and
//             a shard_lease_store it reads the leases and the peers' advertised addresses with
//             (blocking, so it runs detached)
//  receives:  its own tick every second: reads who holds each shard and where that node listens,
//             dials the peers it lacks, says peer_hello (a peer of another build is refused with
//             a log line, and never sent anything), and writes the routes into the
//             stage_directory (remote_shard); down_msg (a peer's connection died, detected by
//             the middleman's heartbeat) -> its routes are cleared and it is dialled again
//  sends:     connect requests to the middleman, peer_hello to peers
//  supervised by: nobody: it holds only routes, which it rebuilds every second; spawned by
//             pipeline::start on nodes that journal (role all or ingest) and stopped by
//             pipeline::stop.
#include <caf/fwd.hpp>

#include <memory>
#include <string>

#include "actors/stage_directory.hpp"
#include "core/ingest_metrics.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct router_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  std::string node;         // this node's name (its own shards go through the local directory)
  std::string fingerprint;  // message_types_fingerprint of this build
  uint32_t shards = 0;
  int64_t interval_ms = 1000;
  int64_t connect_timeout_ms = 2000;
  bool tls = false;  // dial through CAF's OpenSSL manager (node.tls.*), not the plain middleman
};

caf::actor spawn_shard_router(caf::actor_system& sys, router_settings settings,
                              std::shared_ptr<stage_directory> dir, ingest_metrics* metrics);

}  // namespace luffy
