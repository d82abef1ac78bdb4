#pragma once
// cluster_shard: turns one journal stream into cluster state, exactly once.
//  owns:      the clusters of the services routed to its shard (shard_for(service_id)), one
//             template miner per service (level-3 fingerprints), and its Redis side: one
//             shard_store (storage/shard_store.hpp) over its stream <prefix>:journal:<shard>,
//             whose connection blocks, so the shard runs detached on its own thread
//  receives:  journal_committed (from the journal writers: the fast path, in memory);
//             grouping_update (from pipeline::update_grouping on a hot reload: new in-app and
//             fingerprint rules, explosion bound); flush_atom and sweep_atom (from itself)
//  sends:     nothing to other actors; writes cluster state and events to Redis
//  supervised by: the supervisor (actors/supervisor.cpp), which re-spawns it with the latest
//             grouping rules; a new shard's first sweep applies what the old one left.
//
// Its stream holds exactly the entries not applied yet. Entries arrive in memory right after
// their commit; the shard applies a run of up to batch_entries entries in four steps:
//  aggregate: fingerprints each record (core/fingerprint) and sums the records per cluster
//             (core/cluster_batch), up to 2048 clusters per run;
//  encode:    packs each cluster's sum (storage/cluster_apply_args) into the script's arguments;
//  apply:     shard_store::apply runs storage/lua/cluster_apply.lua, which first checks every
//             entry is still in the stream, then updates the clusters and deletes the entries;
//  reply:     drops the applied entries (or the ones applied before, then tries the rest again)
//             and notes the services over their new-cluster bound.
// A record's effect on its cluster and its acknowledgement (the deletion) happen together or not
// at all, so a SIGKILL at any moment leaves every count exact (docs/CLUSTERING.md).
// A sweep reads the stream back at start-up and every second for entries older than the
// sweep's own message whose fast-path message never came (an earlier process, a lost message, a
// failed apply) and applies them the same way; a race with the fast path is settled by the script.
// The sweep counts attempts per entry and moves one that keeps taking the shard down to the
// dead-letter stream (shard_store::dead_letter_entry).
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

#include "core/fingerprint.hpp"
#include "core/grouping_rules.hpp"
#include "core/ingest_metrics.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct cluster_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  uint32_t shard = 0;
  std::string fence;     // the lease value Redis checks before each counting write ("" = none)
  uint32_t samples = 5;  // samples kept per cluster
  double spike_multiplier = 5.0;  // minute count > multiplier x baseline ...
  int64_t spike_minimum = 50;     // ... and >= minimum
  uint32_t batch_entries = 16;    // entries applied per script
  int64_t max_attempts = 3;       // crashes per entry before the dead-letter stream
  bool fault_injection = false;   // testing.fault_injection
  clustering_options clustering;
  // Operator rules (reloadable: grouping_update replaces them in a running shard).
  std::vector<fingerprint_rule_config> fingerprint_rules;
  int64_t max_new_clusters_per_minute = 0;  // per service; 0 = no bound
  int64_t legacy_grouping_days = 0;         // secondary grouping window; 0 = off
  size_t legacy_top_frames = 5;             // top_frames of the previous version's ids
};

struct grouping_update;

// Puts a reloaded rule set into shard settings (the in-app rules, the fingerprint rules and the
// new-cluster bound; everything else is kept).
void apply_grouping(cluster_settings& settings, const grouping_update& update);

caf::actor spawn_cluster_shard(caf::actor_system& sys, cluster_settings settings,
                               ingest_metrics* metrics);

}  // namespace luffy
