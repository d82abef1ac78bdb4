#pragma once
// dead_letter_store: the dead-letter stream (<prefix>:dlq) as the admin API reads and retries it
// (GET /api/v1/admin/dead_letters, POST /api/v1/admin/dead_letters/{id}/retry).
//
// Entry shapes (who writes them): the parser's poison records (storage/journal_store.cpp:
// source=parser, task, error, record), the cluster shard's records that could not be
// fingerprinted (storage/lua/cluster_apply.lua: source=cluster_shard, entry, error, record) and
// whole journal entries that kept taking a shard down (storage/lua/dead_letter_entry.lua:
// source=cluster_shard, entry, error, the entry's task, n, enc, records, then stream). Only the
// last kind can be retried.
//
// Contract: one round trip per call on this store's own connection; !ok() means Redis could not
// answer. Not thread-safe (one redis_client): keep one per HTTP thread.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/redis_client.hpp"

namespace luffy {

struct dead_letter_item {
  std::string id;                                           // stream id "<ms>-<seq>"
  std::vector<std::pair<std::string, std::string>> fields;  // in stream order
  // The value of `name`, nullptr when absent.
  const std::string* field(std::string_view name) const;
  // A whole journal entry that dead_letter_entry.lua moved and that names its stream.
  bool retryable() const;
};

struct dead_letter_page {
  std::vector<dead_letter_item> letters;  // newest first
  int64_t total = 0;                      // entries in the stream
  bool more = false;                      // older entries follow the last one
};

struct retry_outcome {
  enum class kind { requeued, not_found, not_retryable } result = kind::not_found;
  std::string new_id, stream, reason;
};

// True for a Redis stream id: "<digits>-<digits>", at most 20 digits each.
bool is_stream_id(std::string_view id);

class dead_letter_store {
 public:
  explicit dead_letter_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  dead_letter_store(const dead_letter_store&) = delete;
  dead_letter_store& operator=(const dead_letter_store&) = delete;

  const redis_endpoint& endpoint() const { return redis_.endpoint(); }

  // At most `limit` entries older than `before` (a stream id; "" = from the newest), newest first.
  redis_result<dead_letter_page> page(const std::string& prefix, const std::string& before,
                                      int64_t limit);
  // storage/lua/dead_letter_retry.lua on dead letter `id`.
  redis_result<retry_outcome> retry(const std::string& prefix, const std::string& id);

 private:
  redis_client redis_;
};

}  // namespace luffy
