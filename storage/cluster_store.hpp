#pragma once
// cluster_store: the cluster state as the query API (net/cluster_handlers.cpp) reads and changes
// it: listing, one cluster with its parts, resolve and merge. The writes that make clusters are
// the cluster shards' (storage/lua/cluster_apply.lua), not this module's.
//
// Contract: every call is one round trip (a pipeline or a script) on this store's own connection
// and returns a redis_result whose !ok() means Redis could not answer (callers answer 503);
// "no such cluster" is a value, never an error. Key names come from storage/keys.hpp, with the
// prefix passed per call because storage.key_prefix is reloadable.
// Not thread-safe (one redis_client): keep one per HTTP thread.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/redis_client.hpp"

namespace luffy {

// A cluster's hash (field -> value); empty when there is no such cluster.
using cluster_fields = std::map<std::string, std::string>;

struct cluster_detail {
  cluster_fields fields;
  std::vector<std::string> events;                         // JSON objects, newest first
  std::vector<std::pair<std::string, std::string>> hours;  // event-time hour -> records
  std::vector<std::string> samples;                        // record JSON, newest first
  std::vector<std::string> hosts, environments;
  std::vector<std::pair<std::string, std::string>> minutes;  // event-time minute -> records
};

struct merge_outcome {
  bool merged = false;
  // merged: the cluster it went into (the end of the target's merge chain), the target's count
  // after the merge and the records moved.
  std::string target;
  int64_t count = 0, moved = 0;
  // refused: the HTTP status, error code and message the merge script chose.
  int status = 0;
  std::string code, message;
};

class cluster_store {
 public:
  explicit cluster_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  cluster_store(const cluster_store&) = delete;
  cluster_store& operator=(const cluster_store&) = delete;

  const redis_endpoint& endpoint() const { return redis_.endpoint(); }

  // (score, id) of the clusters of `services` (nullopt: every service) in the `sort` order
  // ("count", "last_seen", "first_seen" or "trend"), highest score first; equal scores keep the
  // order of the services and then Redis's. At most the top 10,000 of each index are read.
  // first_seen builds its index first when it misses clusters (ensure_first_seen_index);
  // trend ranks by storage/lua/cluster_trend.lua for the event-time hour `hour` (unix hours).
  redis_result<std::vector<std::pair<double, std::string>>> ranked_ids(
      const std::string& prefix, const std::string& sort,
      const std::optional<std::vector<std::string>>& services, int64_t hour = 0);
  // The upgrade path of the by_first_seen zsets, which cluster_apply.lua writes only for clusters
  // it creates or whose first_seen moves: when the global one holds fewer clusters than
  // by_last_seen, every listed cluster is added to it and to its service's (idempotent). Returns
  // the clusters added.
  redis_result<int64_t> ensure_first_seen_index(const std::string& prefix);
  // The fields of `ids` that the list filters read (HMGET of `fields`, in order; a cluster
  // without a hash gives an empty vector), plus, when `environment` is not empty, a last element
  // "1" or "0": whether the cluster was seen in it.
  redis_result<std::vector<std::vector<std::optional<std::string>>>> filter_fields(
      const std::string& prefix, const std::vector<std::string>& ids,
      const std::vector<std::string>& fields, const std::string& environment);
  // For each of `ids`: records in the event-time hours first_hour .. first_hour + 23 and up to
  // 10 environments.
  redis_result<std::vector<std::pair<std::vector<int64_t>, std::vector<std::string>>>> activity(
      const std::string& prefix, const std::vector<std::string>& ids, int64_t first_hour);
  // The hashes of `ids`, in order (an empty map for an id with no cluster).
  redis_result<std::vector<cluster_fields>> read_clusters(const std::string& prefix,
                                                          const std::vector<std::string>& ids);
  // One cluster with its samples, hosts, environments and per-minute series.
  redis_result<cluster_detail> read_cluster(const std::string& prefix, const std::string& id);
  // service_id and merged_into of a cluster (nullopt where the field, or the cluster, is absent).
  redis_result<std::pair<std::optional<std::string>, std::optional<std::string>>> owner(
      const std::string& prefix, const std::string& id);
  // The service_id of each of `ids` (nullopt where there is no cluster).
  redis_result<std::vector<std::optional<std::string>>> services_of(
      const std::string& prefix, const std::vector<std::string>& ids);
  // Sets status resolved and resolved_at_ms and records a "resolved" event in the cluster's
  // history (the caller checked that the cluster exists).
  redis_result<bool> mark_resolved(const std::string& prefix, const std::string& id,
                                   int64_t now_ms);
  // Sets status open and reopened_at_ms and records a "reopened" event in the cluster's history
  // (an operator's reopen; a record of a resolved cluster reopens it as a "regression" instead).
  redis_result<bool> mark_reopened(const std::string& prefix, const std::string& id,
                                   int64_t now_ms);
  // storage/lua/cluster_merge.lua: folds `id` into `into`, keeping `samples` samples; `cross`
  // allows clusters of two services. An unexpected script reply is an error.
  redis_result<merge_outcome> merge(const std::string& prefix, const std::string& id,
                                    const std::string& into, int64_t now_ms, int64_t samples,
                                    bool cross);

 private:
  redis_client redis_;
};

}  // namespace luffy
