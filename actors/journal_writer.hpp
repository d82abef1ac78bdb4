#pragma once
// journal_writer: makes accepted records durable. A pool of actors.journal_writers of them (round
// robin), each with its own Redis connection, so one batch's round trip overlaps another's.
//  owns:      one Redis connection (blocking hiredis: detached, its own thread)
//  receives:  journal_append -> journal_receipt, or an error (-> 503, nothing acknowledged)
//  supervised by: the pipeline.
// One Lua script per batch does, atomically: for each record, skip it if its hash is in the
// current or previous dedup generation (or earlier in the batch), else add the hash to the current
// generation and the record to its shard's buffer; then XADD one entry per shard
// (<prefix>:journal:<shard>, fields task, n, records = newline-separated JSON records).
// So a record is marked seen exactly when it is journaled, and a failed request leaves no mark.
#include <caf/fwd.hpp>

#include <string>

#include "core/journal_codec.hpp"
#include "net/redis_client.hpp"

namespace luffy {

struct journal_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  int64_t window_seconds = 3600;
  uint32_t shards = 4;
  journal_encoding encoding = journal_encoding::zstd;
};

caf::actor spawn_journal_pool(caf::actor_system& sys, size_t writers, journal_settings settings);

}  // namespace luffy
