#pragma once
// shard_inbox: where other nodes' journal writers deliver committed entries for the shards this
// node holds (the fast path across hosts; published on node.cluster_listen by CAF's middleman).
//  owns:      the set of peer nodes whose build matched (peer_hello), by CAF node id
//  receives:  peer_hello (from a peer's shard_router) -> answers with this node's name and build
//             fingerprint, and accepts the peer when the fingerprints are equal;
//             journal_committed (from an accepted peer's journal writers) -> hands it to this
//             node's cluster_shard of that shard, counted in its backlog
//  sends:     journal_committed to the local cluster_shard
//  supervised by: nobody; it holds no state a restart would need, and it is published once by
//             app/serve.cpp and stopped by pipeline::stop.
//
// It stays a fast path: an entry for a shard this node no longer holds, or from a peer that was
// not accepted, is dropped (counted); it is in the shard's journal stream, and the holder's sweep
// applies it within a second.
#include <caf/fwd.hpp>

#include <memory>
#include <string>

#include "actors/stage_directory.hpp"
#include "core/ingest_metrics.hpp"

namespace luffy {

caf::actor spawn_shard_inbox(caf::actor_system& sys, std::shared_ptr<stage_directory> dir,
                             std::string node, std::string fingerprint, ingest_metrics* metrics);

}  // namespace luffy
