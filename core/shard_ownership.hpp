#pragma once
// Shard ownership across nodes: which live node should own each virtual shard, and what one node
// should do about it now (take a free shard, hand one over).
//
// Redis decides who owns a shard (a lease per shard with a fencing epoch, storage/); this module
// only decides who *should*, so that every node, given the same view, computes the same answer
// without talking to the others:
//   * desired owners: rendezvous (highest random weight) hashing with bounded loads. Shards are
//     taken in order 0..V-1; each goes to the highest-scoring node below its bound (floor(V/N),
//     or one more for the first V mod N nodes to need it). Every node ends with floor(V/N) or
//     ceil(V/N) shards, and a change of
//     membership moves few shards (about V/N for one node added or removed, where plain modulo
//     moves nearly all).
//   * a plan for one node: take a free shard it should own at once; take a free shard another
//     node should own only after that shard has been free for `takeover_step_ms` times the node's
//     place in the shard's rendezvous order (the desired owner may be slow to start; the
//     fallbacks wait their turn, so two nodes rarely race for one lease); hand over a shard it
//     holds when its desired owner is another live node and it has held the shard at least
//     `min_hold_ms` (ownership does not flap when a node comes and goes).
//
// Contract: pure and deterministic (xxh3-64 of the node name and the shard number, no std::hash,
// no clock: `now_ms` is the caller's, read from Redis so every node uses one clock). Node names
// are compared as bytes; duplicates in `live` are ignored.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace luffy {

// A node is live while its last heartbeat is younger than this (Redis time). Every node must use
// the same value: the shard owner's heartbeat, the start-up name check, the shard router and the
// admin routes all judge liveness with it.
inline constexpr int64_t node_ttl_ms = 3000;

// The rendezvous weight of `node` for `shard`.
uint64_t rendezvous_score(std::string_view node, uint32_t shard);

// `nodes` ordered by their weight for `shard`, highest first (ties by name), duplicates removed.
std::vector<std::string> rendezvous_order(const std::vector<std::string>& nodes, uint32_t shard);

// The desired owner of each of `shards` shards (index = shard), from the `live` nodes; every
// entry is "" when `live` is empty.
std::vector<std::string> desired_owners(const std::vector<std::string>& live, uint32_t shards);

// What one node knows of a shard's lease.
struct shard_lease_view {
  std::string owner;           // "" when no node holds the lease
  int64_t owned_since_ms = 0;  // when the owner took it (meaningful when owner is set)
  int64_t free_since_ms = 0;   // when it was last seen free (meaningful when owner is "")
};

struct ownership_timing {
  int64_t min_hold_ms = 30000;      // a shard is handed over no sooner after it was taken
  int64_t takeover_step_ms = 2000;  // wait per place in the rendezvous order for a free shard
};

struct ownership_plan {
  std::vector<uint32_t> acquire;  // free shards this node should try to lease now
  std::vector<uint32_t> release;  // shards this node holds and should hand over now
};

// The plan for node `me` given the `live` nodes (me included when it is live) and the lease of
// every shard (index = shard). A node that is not in `live` acquires nothing (it is stopping or
// not yet registered) and releases nothing (its leases expire or its stop hands them over).
ownership_plan plan_ownership(std::string_view me, const std::vector<std::string>& live,
                              const std::vector<shard_lease_view>& leases, int64_t now_ms,
                              const ownership_timing& timing);

}  // namespace luffy
