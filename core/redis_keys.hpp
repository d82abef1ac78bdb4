#pragma once
// Names of every Redis key the server writes, in one place (docs/ARCHITECTURE.md lists them).
//
//   <prefix>:journal:<shard>      stream: accepted records, one entry per batch and shard
//   <prefix>:dedup:<generation>   set of 16-byte record hashes accepted in one dedup generation
//
// Dedup generations: generation g = floor(unix_seconds / window). A record is a duplicate when
// its hash is in generation g or g-1, so the effective window is between `window` and twice it,
// with two set lookups per record instead of one key per record.
#include <cstdint>
#include <string>
#include <string_view>

namespace luffy {

inline std::string journal_stream_key(std::string_view prefix, uint32_t shard) {
  return std::string(prefix) + ":journal:" + std::to_string(shard);
}

inline int64_t dedup_generation(int64_t unix_seconds, int64_t window_seconds) {
  return unix_seconds / window_seconds;
}

inline std::string dedup_set_key(std::string_view prefix, int64_t generation) {
  return std::string(prefix) + ":dedup:" + std::to_string(generation);
}

}  // namespace luffy
