#pragma once
// Fingerprints: which cluster a record belongs to. See docs/CLUSTERING.md for examples.
//
//   level 1  a stack trace with frames: root-cause exception type + the root cause's in-app call
//            path, crash site first, as "module.function" (never line numbers, columns or file
//            paths): every in-app frame of the root cause (continued into the enclosing
//            exceptions' frames where the runtime prints a partial stack per link), recursion
//            collapsed, at most `top_frames`; so one helper failing under two entry points is two
//            clusters. When no frame is in-app: the top 5 frames whatever they are.
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

#include "core/record.hpp"
#include "core/stack_trace.hpp"
#include "core/template_miner.hpp"
#include "core/trace_cache.hpp"

namespace luffy {

struct clustering_options {
  size_t top_frames = 50;             // at most this many in-app frames enter a level-1 key
  frame_rules rules;                  // clustering.in_app_prefixes / not_in_app_prefixes
  double miner_similarity = 0.5;      // template_miner similarity threshold for level 3
  size_t trace_cache_entries = 2048;  // per generation of a shard's trace_cache; 0 disables it
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

// miner may be nullptr: then level 3 uses the parameterised message as the template.
// cache (optional, built with opt.rules) memoises the parse of r.stack_trace: same result.
fingerprint compute_fingerprint(const log_record& r, const clustering_options& opt,
                                template_miner* miner, trace_cache* cache = nullptr);

// Levels 1 and 2 only, from an already extracted exception; nullopt when level 3 applies
// (no exception type and no frames). Lets a router decide before it needs a miner.
std::optional<fingerprint> exception_fingerprint(const log_record& r, const exception_info& ex,
                                                 const clustering_options& opt);

// Level 3 from the record's message.
fingerprint template_fingerprint(const log_record& r, template_miner* miner);

// 32 hex chars of xxh3-128 over the length-framed service_id and key.
std::string cluster_id_for(std::string_view service_id, std::string_view key);

}  // namespace luffy
