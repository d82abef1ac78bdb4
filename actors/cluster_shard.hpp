#pragma once
// cluster_shard: turns one journal stream into cluster state, exactly once.
//  owns:      the clusters of the services routed to its shard (shard_for(service_id)), one
//             template miner per service (level-3 fingerprints), one Redis connection
//  receives:  poll_atom (from itself: read the next entries)
//  sends:     nothing to other actors; writes cluster state and events to Redis
//  supervised by: the pipeline (spawned detached: hiredis blocks).
//
// It reads <prefix>:journal:<shard> through the consumer group `luffy-clusterers` as consumer
// `shard-<n>`: first its own pending entries (delivered before a crash, never acknowledged), then
// new ones. For each entry it decodes the records, fingerprints them (core/fingerprint), sums them
// per cluster, and applies the sums with one Lua script that also XACKs the entry, after checking
// the entry is still pending: a record's effect on its cluster and the acknowledgement happen
// together or not at all, so a SIGKILL at any moment leaves every count exact (docs/CLUSTERING.md).
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

#include "core/fingerprint.hpp"
#include "core/ingest_metrics.hpp"
#include "net/redis_client.hpp"

namespace luffy {

struct cluster_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  uint32_t shard = 0;
  uint32_t samples = 5;           // samples kept per cluster
  double spike_multiplier = 5.0;  // minute count > multiplier x baseline ...
  int64_t spike_minimum = 50;     // ... and >= minimum
  uint32_t batch_entries = 16;    // entries read per XREADGROUP
  clustering_options clustering;
};

caf::actor spawn_cluster_shard(caf::actor_system& sys, cluster_settings settings,
                               ingest_metrics* metrics);

}  // namespace luffy
