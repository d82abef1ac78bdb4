#pragma once
// Secondary grouping: the cluster id the fingerprint algorithm of commit fd2f299 ("version 1")
// gave a record, so that during a transition window records of known problems keep landing in
// the clusters that version created. Everything under core/grouping_v1/ is a frozen copy of that
// commit's code (see README.md); this is its only public entry point.
//
// Contract: pure and deterministic, the same as fd2f299's compute_fingerprint(r, opt, ...)
// .cluster_id for every record it fingerprinted at level 1 or 2, where opt.top_frames ==
// top_frames and opt.rules holds the two prefix lists. Level-3 ids (no exception) are not
// computed here: they come from the template miner, whose groups are persisted and restored.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/record.hpp"

namespace luffy::grouping_v1 {

inline constexpr int version = 1;

// The cluster id fd2f299 gave this record at level 1 or 2; nullopt when that version would have
// used level 3 (no exception), whose ids continue through the persisted template miner instead.
std::optional<std::string> legacy_cluster_id(const log_record& r,
                                             const std::vector<std::string>& in_app_prefixes,
                                             const std::vector<std::string>& not_in_app_prefixes,
                                             size_t top_frames);

}  // namespace luffy::grouping_v1
