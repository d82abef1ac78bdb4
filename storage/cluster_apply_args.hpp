#pragma once
// The per-cluster argument of storage/lua/cluster_apply.lua: one cluster's sum of records,
// packed as ONE msgpack map (the script reads it with cmsgpack.unpack) instead of twenty
// positional ARGV entries whose order both sides had to keep in step.
//
// Contract: pack_cluster_apply_sum writes exactly the values the positional format carried, so
// the script's Redis writes are unchanged (same keys, fields and values):
//  - count, first_us, last_us go as msgpack integers. Lua numbers are doubles, as tonumber() of
//    the former decimal strings was: exact up to 2^53 either way.
//  - level and ordinal go as strings ("3", "" when the cluster is not level 3), as before.
//  - minutes go as {minute, count} pairs with the minute as the string the former pattern
//    '(%d+):(%d+)' matched: its digits without a sign (events before 1970 are rare but possible).
//  - hosts, environments and samples are split at '\n' and empty pieces dropped, as the former
//    newline-joined arguments were read back.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace luffy {

struct cluster_apply_sum {
  std::string id;
  std::string service_id;
  int level = 0;
  std::string severity, exception_type, title, template_text, culprit, language;
  uint64_t count = 0;
  int64_t first_us = 0, last_us = 0;
  std::vector<std::pair<int64_t, uint64_t>> minutes;  // event-time minute -> records, ascending
  std::vector<std::string> hosts, environments;
  std::vector<std::string> samples;          // record JSON, oldest first
  std::string template_anchor;               // level 3 only
  std::optional<uint64_t> template_ordinal;  // level 3 only
  std::string overflow_id;                   // the service's overflow cluster
  std::string legacy_id;                     // core/grouping_v1's id, "" when not looked up
};

std::string pack_cluster_apply_sum(const cluster_apply_sum& sum);

}  // namespace luffy
