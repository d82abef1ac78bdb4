#pragma once
// journal_store: the journal writer's Redis side. Commits a batch (dedup marks + one stream entry
// per shard, storage/lua/journal_commit.lua) and writes poison records to the dead-letter stream.
//
// Contract: each call is one round trip on this store's own connection. A redis_result that is
// not ok() means Redis did not answer or answered something unexpected; nothing is known to be
// written then (the caller answers 503 and the client retries). Not thread-safe: one per actor.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/redis_client.hpp"

namespace luffy {

// One shard's part of a batch: appended as one entry (fields task, n, enc, records) to
// journal_stream_key(prefix, shard).
struct journal_shard_batch {
  uint32_t shard = 0;
  size_t records = 0;
  std::string payload;  // the records' JSON lines, encoded as the commit's `encoding` says
};

struct journal_commit_reply {
  // Positions (0-based, in the order of `packed_hashes`) already stored in the current or the
  // previous dedup generation. Not empty: nothing was written, drop those and commit again.
  std::vector<int64_t> stored;
  std::vector<std::string> entry_ids;  // when written: one per shard batch, in order
};

struct dead_letter_view {
  std::string_view source, error, record;
};

class journal_store {
 public:
  explicit journal_store(redis_endpoint ep);
  journal_store(const journal_store&) = delete;
  journal_store& operator=(const journal_store&) = delete;

  // Commits, all or nothing: `packed_hashes` holds the 16-byte hashes of every record of
  // `shards`, in shard order; the dedup generation is now_s / window_seconds and the current
  // one expires 2 x window + 60 s after its last write.
  redis_result<journal_commit_reply> commit(const std::string& prefix, int64_t window_seconds,
                                            int64_t now_s, std::string_view task_id,
                                            std::string_view packed_hashes, size_t records,
                                            std::string_view encoding,
                                            const std::vector<journal_shard_batch>& shards);
  // XADDs each record to the dead-letter stream (capped near 100,000) with its source, task and
  // error, and adds their number to dead_lettered in the stats hash, in one pipeline.
  redis_result<bool> write_dead_letters(const std::string& prefix, std::string_view task_id,
                                        const std::vector<dead_letter_view>& letters);

 private:
  redis_client redis_;
  std::string sha1_;
};

}  // namespace luffy
