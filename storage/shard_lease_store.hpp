#pragma once
// shard_lease_store: shard ownership across nodes, decided by Redis. A node heartbeats into
// <prefix>:nodes and reads every shard's lease in the same round trip (storage/lua/
// node_heartbeat.lua); it takes a free shard with a new fencing epoch (shard_lease_acquire.lua)
// and renews or releases what it holds (shard_lease_renew.lua). core/shard_ownership.hpp decides
// which shards a node should try to take or hand over; this store only carries that out.
//
// A lease's value, "<epoch>:<since_ms>:<node>", is its fence: every write a holder makes for its
// shard checks, inside Redis, that the lease key still holds exactly that value. A node paused or
// cut off past its lease finds, when it wakes, that its renewal and its writes are refused (the
// lease expired or a newer epoch holds it), so it never counts a record twice.
//
// Contract: every call is one round trip on this store's own connection; times are Redis's
// (TIME inside the scripts), never the caller's clock. A redis_result that is not ok() means Redis
// did not answer: the caller knows nothing new (it must treat its leases as lost once their TTL
// has passed since its last successful renewal). Not thread-safe: one per actor.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/shard_ownership.hpp"  // node_ttl_ms
#include "storage/redis_client.hpp"

namespace luffy {

struct shard_lease {
  std::string value;  // "<epoch>:<since_ms>:<node>" ("" when nobody holds the shard)
  uint64_t epoch = 0;
  int64_t since_ms = 0;  // Redis time when the holder took it
  std::string node;

  bool held() const { return !value.empty(); }
  // Parses a lease value; a malformed one yields a lease with only `value` set.
  static shard_lease parse(std::string value);
};

struct deployment_view {
  int64_t now_ms = 0;               // Redis time of this heartbeat
  std::vector<std::string> live;    // nodes whose last heartbeat is younger than the TTL
  std::vector<shard_lease> leases;  // one per shard, in shard order
  int64_t rebalance_ms = 0;         // Redis time of the last rebalance request (0: none)
};

// What GET /api/v1/admin/shards shows: every node seen lately and every shard.
struct deployment_overview {
  int64_t now_ms = 0;
  std::vector<std::pair<std::string, int64_t>> nodes;  // name -> last heartbeat (ms), oldest first
  std::vector<shard_lease> leases;                     // per shard
  std::vector<int64_t> journal_entries;                // per shard: XLEN of its journal stream
};

// Where a node takes journal entries from other nodes (its fast path), as it advertised it.
struct node_address {
  std::string address;      // "host:port" ("" when the node advertised none)
  std::string fingerprint;  // its build's message_types_fingerprint
};

// The outcome of recording the deployment's shard count.
struct shard_count_claim {
  bool agreed = false;   // Redis holds (now) the caller's count
  int64_t recorded = 0;  // the count Redis holds
};

struct lease_claim {
  bool taken = false;  // true: `lease` is ours, with a new epoch
  shard_lease lease;   // ours when taken, else the holder's (possibly an older one of ours:
                       // a restarted node does not adopt the lease of its previous life)
};

enum class heartbeat_mode { join, observe, leave };

class shard_lease_store {
 public:
  explicit shard_lease_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  shard_lease_store(const shard_lease_store&) = delete;
  shard_lease_store& operator=(const shard_lease_store&) = delete;

  // Records (join), skips (observe) or removes (leave) `node`'s heartbeat, and returns the live
  // nodes and the leases of shards 0..shards-1.
  redis_result<deployment_view> heartbeat(const std::string& prefix, const std::string& node,
                                          heartbeat_mode mode, int64_t node_ttl_ms,
                                          uint32_t shards);
  // Takes `shard` when nobody holds it, or, with `adopt`, when a lease under `node`'s own name
  // holds it (a previous life of this node: the caller must have made sure that no live process
  // heartbeats under the name).
  redis_result<lease_claim> acquire(const std::string& prefix, uint32_t shard,
                                    const std::string& node, int64_t ttl_ms, bool adopt = false);
  // Extends each held lease by `ttl_ms` (0: releases them). Returns, per lease in order, whether
  // it was still ours.
  redis_result<std::vector<bool>> renew(const std::string& prefix,
                                        const std::vector<std::pair<uint32_t, std::string>>& held,
                                        int64_t ttl_ms);
  redis_result<std::vector<bool>> release(
      const std::string& prefix, const std::vector<std::pair<uint32_t, std::string>>& held) {
    return renew(prefix, held, 0);
  }

  // Asks every node to skip the minimum hold once: leases taken before now (Redis time) may be
  // handed to their desired owners at the next heartbeat. Returns the marker's time.
  redis_result<int64_t> request_rebalance(const std::string& prefix);
  // The deployment as GET /api/v1/admin/shards shows it (nodes heartbeating within 100 TTLs).
  redis_result<deployment_overview> overview(const std::string& prefix, uint32_t shards);
  // Publishes `node`'s fast-path address and build fingerprint in <prefix>:node:<node> for
  // `ttl_ms` (refreshed with every heartbeat, so a node gone for long is forgotten).
  redis_result<bool> advertise(const std::string& prefix, const std::string& node,
                               const std::string& address, const std::string& fingerprint,
                               int64_t ttl_ms);
  // The advertised addresses of `nodes`, in order (empty fields for a node that advertised none).
  redis_result<std::vector<node_address>> addresses(const std::string& prefix,
                                                    const std::vector<std::string>& nodes);
  // Records `shards` as the deployment's virtual shard count unless one is recorded already
  // (SET NX), and says whether Redis holds the caller's count.
  redis_result<shard_count_claim> claim_shard_count(const std::string& prefix, int64_t shards);

 private:
  redis_client redis_;
};

}  // namespace luffy
