#pragma once
// cluster_batch: the records of a run of journal entries summed per cluster, the way one
// cluster_apply script adds them to Redis (actors/cluster_shard.cpp aggregates, encodes with
// storage/cluster_apply_args.hpp, applies with storage/shard_store.hpp).
//
// Contract: add() takes records already fingerprinted, in journal order. Per cluster it keeps
// the count, the earliest and latest event time, records per event-time minute, the distinct
// hosts and environments (newlines replaced by spaces: the script splits lists at '\n'), and
// where the newest `samples_kept` records are (sample_ref, oldest first). What the first record
// of a cluster brings stays (service, severity, fingerprint, legacy id), except that a later
// level-3 record with another template (the miner generalised it) replaces template and title.
// Clusters are listed in the order their first record came. Bounded: samples per cluster; the
// number of clusters is bounded by the caller, which stops adding entries once full() (an entry
// is never split, so a batch may end a little over max_clusters). Hosts and environments are not
// bounded here: the script keeps at most 100 of each per cluster.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/fingerprint.hpp"
#include "core/record.hpp"

namespace luffy {

// Where a record is in the caller's run of entries; the caller turns it back into the record's
// JSON when it encodes the batch (only the samples kept need it).
struct sample_ref {
  size_t entry = 0, record = 0;
  friend bool operator==(const sample_ref&, const sample_ref&) = default;
};

struct cluster_sum {
  fingerprint fp;         // the cluster's first record's (level 3: the newest template and title)
  std::string legacy_id;  // core/grouping_v1's id for the first record, "" when none or the same
  std::string service_id, severity;
  uint64_t count = 0;
  int64_t first_us = INT64_MAX, last_us = INT64_MIN;  // event time
  std::map<int64_t, uint64_t> minutes;                // timestamp_us / 60,000,000 -> records
  std::set<std::string> hosts, environments;
  std::vector<sample_ref> samples;  // newest last
};

class cluster_batch {
 public:
  cluster_batch(size_t samples_kept, size_t max_clusters)
      : samples_kept_(samples_kept), max_clusters_(max_clusters) {}

  // True when a record of `cluster_id` was added already (then add() ignores a legacy id).
  bool contains(const std::string& cluster_id) const { return index_.count(cluster_id) != 0; }
  // Adds one record, fingerprinted as `fp`, found at `where`. `legacy_id` is kept when this
  // record opens its cluster.
  void add(fingerprint fp, const log_record& rec, sample_ref where, std::string legacy_id = {});

  // The clusters, in the order their first record was added.
  const std::vector<cluster_sum>& sums() const { return sums_; }
  size_t size() const { return sums_.size(); }
  bool full() const { return sums_.size() >= max_clusters_; }
  size_t records() const { return records_; }  // records added

 private:
  size_t samples_kept_, max_clusters_;
  std::vector<cluster_sum> sums_;
  std::unordered_map<std::string, size_t> index_;  // cluster id -> position in sums_
  size_t records_ = 0;
};

}  // namespace luffy
