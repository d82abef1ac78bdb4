#pragma once
// journal_writer: makes accepted records durable. A pool of actors.journal_writers of them (round
// robin), each with its own Redis connection, so one batch's round trip overlaps another's.
//  owns:      one Redis connection (blocking hiredis: detached, its own thread)
//  receives:  journal_append -> journal_receipt, or an error (-> 503, nothing acknowledged)
//  sends:     journal_committed to the cluster_shard of each stream it appended to (fast path)
//  supervised by: the supervisor (actors/supervisor.hpp).
// One Lua script per batch does, atomically: for each record, skip it if its hash is in the
// current or previous dedup generation (or earlier in the batch), else add the hash to the current
// generation and the record to its shard's buffer; then XADD one entry per shard
// (<prefix>:journal:<shard>, fields task, n, records = newline-separated JSON records).
// So a record is marked seen exactly when it is journaled, and a failed request leaves no mark.
#include <caf/fwd.hpp>

#include <memory>
#include <string>

#include "actors/stage_directory.hpp"
#include "core/ingest_metrics.hpp"
#include "core/journal_codec.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct journal_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  int64_t window_seconds = 3600;
  uint32_t shards = 4;
  journal_encoding encoding = journal_encoding::zstd;
};

// One writer; the supervisor puts actors.journal_writers of them behind a round-robin pool.
// `dir` names the cluster shard of each stream to hand committed entries to (none when
// clustering is off). `metrics` may be null.
caf::actor spawn_journal_writer(caf::actor_system& sys, const journal_settings& settings,
                                std::shared_ptr<stage_directory> dir, ingest_metrics* metrics);

}  // namespace luffy
