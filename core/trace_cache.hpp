#pragma once
// Memo of parse_trace() by trace text, for the cluster shards' hot path.
//
// Why: real error floods repeat the same few traces with different messages (ids, times), and
// parsing a trace (splitting lines, parsing frames, reducing paths, classifying in-app) is the
// largest part of fingerprinting. The parse is a pure function of the text and the frame rules,
// so its result can be reused. compute_fingerprint() uses it for `stack_trace` fields only: a trace
// merged into `message` usually starts with a line holding a timestamp, so that text rarely
// repeats.
//
// Contract: parse(text) returns exactly what parse_trace(text, rules) returns for the rules the
// cache was built with (texts are compared in full, not by hash alone). Memory is bounded: two
// generations of at most `capacity` entries each; when the young one fills, the old one is
// dropped and the young one becomes old (an entry used in the old generation moves back to the
// young one). capacity 0 disables caching. Not thread-safe: one per shard actor.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/stack_trace.hpp"

namespace luffy {

class trace_cache {
 public:
  trace_cache(frame_rules rules, size_t capacity);

  // parse_trace(text, rules), from the cache when this text was parsed before. The result stays
  // valid while the caller holds the pointer (entries are shared, never mutated).
  std::shared_ptr<const std::optional<exception_info>> parse(std::string_view text);

  const frame_rules& rules() const { return rules_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  size_t size() const { return young_.size() + old_.size(); }

 private:
  struct text_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  using entry = std::shared_ptr<const std::optional<exception_info>>;
  using generation = std::unordered_map<std::string, entry, text_hash, std::equal_to<>>;

  frame_rules rules_;
  size_t capacity_;
  generation young_, old_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace luffy
