#pragma once
// dedup_store: the dedup actor's Redis side. Answers which record hashes were already accepted,
// i.e. are in the current or the previous dedup generation (storage/keys.hpp, dedup_set_key).
// It only reads: the journal commit (storage/journal_store.hpp) adds hashes, in the same script
// that journals their records.
//
// Contract: each call is one round trip (a pipeline of two SMISMEMBER) on this store's own
// connection. A redis_result that is not ok() means Redis did not answer or answered something
// unexpected (the caller answers 503). The prefix is passed per call, as journal_store does.
// Not thread-safe: one per actor.
#include <cstdint>
#include <string>
#include <vector>

#include "core/record_hash.hpp"
#include "storage/redis_client.hpp"

namespace luffy {

class dedup_store {
 public:
  explicit dedup_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  dedup_store(const dedup_store&) = delete;
  dedup_store& operator=(const dedup_store&) = delete;

  // Parallel to `hashes`: 1 where the hash is in generation now_s / window_seconds or the one
  // before it, else 0. No round trip when `hashes` is empty.
  redis_result<std::vector<uint8_t>> stored(const std::string& prefix, int64_t window_seconds,
                                            int64_t now_s, const std::vector<record_hash>& hashes);

 private:
  redis_client redis_;
};

}  // namespace luffy
