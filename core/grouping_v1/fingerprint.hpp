#pragma once
// grouping_v1: frozen copy of core/fingerprint.hpp at fd2f299. Never edit (see README.md).
// Fingerprints: which cluster a record belongs to. See docs/CLUSTERING.md for examples.
//
//   level 1  a stack trace with frames: root-cause exception type + the top `top_frames` in-app
//            frames of the root cause, crash site first, as "module.function" (never line numbers,
//            columns or file paths); when no frame is in-app, the top frames whatever they are.
//   level 2  an exception without usable frames: root-cause type + parameterised message.
//   level 3  no exception: the template miner's group of the parameterised message (or the
//            parameterised message itself when no miner is given). The key is the group's anchor
//            (its template when born), so a template that generalises keeps its cluster id.
//
// Contract: cluster_id = 32 lowercase hex chars of xxh3-128 (seed 0) over the length-framed
// service_id and key, so the same problem in two services is two clusters, and an id means the
// same thing in every process and after restarts. compute_fingerprint is pure apart from the
// miner it is given (level 3 adds the message to it). Level 1 and 2 ids do not depend on input
// order; level 3 ids depend on the miner's history, which the cluster shard persists and restores
// (template_miner::restore), so they too survive restarts.
#include <cstdint>
#include <optional>
#include <string>

#include "core/grouping_v1/stack_trace.hpp"
#include "core/record.hpp"

namespace luffy::grouping_v1 {

struct clustering_options {
  size_t top_frames = 5;  // frames of the root cause that enter a level-1 key
  frame_rules rules;      // clustering.in_app_prefixes / not_in_app_prefixes
};

struct fingerprint {
  int level = 0;               // 1 stack frames, 2 type + parameterised message, 3 template miner
  std::string key;             // canonical text that was hashed (for debugging and docs)
  std::string cluster_id;      // 32 hex chars of xxh3-128 over service_id + key
  std::string title;           // "IllegalStateException: Order <num> not found in repository"
  std::string culprit;         // top in-app frame of the root cause "module.function", or ""
  std::string exception_type;  // root-cause type as printed, "" at level 3
  std::string template_text;   // level 1/2: parameterised root-cause message; level 3: template
  std::string language;        // the trace's language, "" when there was no trace
  // Level 3 only: the miner group's anchor (hashed into cluster_id) and ordinal, which the shard
  // persists with template_text so that a restarted miner restores the group.
  std::string template_anchor;
  uint64_t template_ordinal = 0;
};

// Levels 1 and 2 only, from an already extracted exception; nullopt when level 3 applies
// (no exception type and no frames). Lets a router decide before it needs a miner.
std::optional<fingerprint> exception_fingerprint(const log_record& r, const exception_info& ex,
                                                 const clustering_options& opt);

// 32 hex chars of xxh3-128 over the length-framed service_id and key.
std::string cluster_id_for(std::string_view service_id, std::string_view key);

}  // namespace luffy::grouping_v1
