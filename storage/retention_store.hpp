#pragma once
// retention_store: deletes what the server no longer keeps (docs/OPERATIONS.md "Retention" and
// "Deletion"): the retention sweep (old clusters, old resolved clusters, the events and
// dead-letter streams past their caps) and the erasure of one service.
//
// Contract: deletions run as scripts (storage/lua/cluster_forget.lua, stream_forget_service.lua)
// that re-check each cluster inside Redis, so a record that reached a cluster after it was picked
// keeps it; every call is safe to repeat and to run on several nodes at once. A !ok() result
// means Redis could not answer; what was deleted before the failure stays deleted (each batch is
// atomic, a whole sweep is not). Key names come from storage/keys.hpp.
// Not thread-safe (one redis_client): one per actor or HTTP thread.
#include <cstdint>
#include <string>

#include "core/retention_policy.hpp"
#include "storage/redis_client.hpp"

namespace luffy {

struct sweep_result {
  int64_t clusters_expired = 0;  // not seen for retention.clusters
  int64_t resolved_expired = 0;  // resolved for retention.resolved_clusters
  int64_t events_trimmed = 0;
  int64_t dead_letters_trimmed = 0;
  bool more = false;    // the batch budget ran out with old clusters left (the next sweep goes on)
  int64_t adopted = 0;  // clusters of an older version given a by_received entry (first sweep)
};

struct service_erasure {
  int64_t clusters = 0;      // clusters deleted with all their keys
  int64_t events = 0;        // entries deleted from the events stream
  int64_t dead_letters = 0;  // record dead letters of the service deleted
  int64_t keys = 0;          // the service's own keys deleted (templates, limits, markers)
};

class retention_store {
 public:
  explicit retention_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  retention_store(const retention_store&) = delete;
  retention_store& operator=(const retention_store&) = delete;

  // One sweep at `now_ms` (unix ms): first, once per Redis, dates the clusters of an older
  // version (storage/lua/retention_adopt.lua); then deletes at most `max_clusters` clusters per
  // rule, in batches of 200, oldest first, and trims both streams by length and age. A cluster's
  // age is the time its last record was applied (<prefix>:clusters:by_received), not its event
  // time.
  redis_result<sweep_result> sweep(const std::string& prefix, int64_t now_ms,
                                   const retention_policy& policy, int64_t max_clusters = 10000);

  // Deletes every cluster of `service` (through its last_seen index, to the end), its template
  // miner state, rate-limit bucket and flood markers, and its entries in the events and
  // dead-letter streams.
  redis_result<service_erasure> forget_service(const std::string& prefix,
                                               const std::string& service);

 private:
  redis_client redis_;
};

}  // namespace luffy
