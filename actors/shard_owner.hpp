#pragma once
// shard_owner: this node's part in deciding, through Redis, which node applies which virtual
// shard (docs/SCALING.md "Virtual shards and ownership").
//  owns:      this node's heartbeat in <prefix>:nodes and the leases it holds (shard -> lease
//             value, the fence), through one shard_lease_store (storage/shard_lease_store.hpp)
//             whose connection blocks, so it runs detached on its own thread
//  receives:  tick_atom (from itself, every heartbeat): heartbeat, plan (core/shard_ownership),
//             hand over, renew, take; leave_atom (from pipeline::stop on SIGTERM, a request):
//             stops its shards, releases every lease and leaves the node set, then answers and
//             quits, so the new owners start within one heartbeat instead of one lease TTL
//  sends:     shard_assignment to the supervisor: hold (spawn the shard's cluster_shard with the
//             lease value as its fence) or drop (stop it)
//  supervised by: the supervisor, which re-spawns it. A new life adopts the leases still held
//             under this node's name (new epochs, so anything the old life left in flight is
//             fenced off) and the supervisor re-spawns the shards with the new fences.
//
// Safety does not rest on this actor's timing: every counting write a shard makes checks its
// fence inside Redis. The actor only keeps the waste small: a shard whose lease may have expired
// (no successful renewal for lease TTL - one heartbeat) is stopped at once.
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

#include "core/ingest_metrics.hpp"
#include "core/shard_ownership.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct ownership_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  std::string node;     // node.name (resolved: never empty)
  uint32_t shards = 0;  // actors.cluster_shards: the virtual shards of the deployment
  int64_t heartbeat_ms = 1000;
  int64_t node_ttl_ms = luffy::node_ttl_ms;  // a node is live while its heartbeat is younger
  int64_t lease_ttl_ms = 4000;  // renewed every heartbeat: 3 s of margin, ~4 s to take over
  ownership_timing timing;      // minimum hold, takeover step
  std::string advertise;        // host:port of this node's shard_inbox ("" = no fast path)
  std::string fingerprint;      // message_types_fingerprint, advertised with it
};

// Spawns the owner; it reports to `supervisor`.
caf::actor spawn_shard_owner(caf::actor_system& sys, ownership_settings settings,
                             caf::actor supervisor, ingest_metrics* metrics);

// Asks `owner` to hand every shard over and leave (waits at most `timeout_ms`). Returns false
// when it did not answer in time (its leases then expire by themselves).
bool shard_owner_leave(caf::actor_system& sys, const caf::actor& owner, int64_t timeout_ms);

}  // namespace luffy
