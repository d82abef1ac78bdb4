#pragma once
// dedup_actor: answers "which of these record hashes were already accepted?" from Redis.
//  owns:      one dedup_store (storage/dedup_store.hpp): a blocking Redis connection, so the
//             actor runs detached on its own thread
//  receives:  dedup_check (from the HTTP edge, net/ingest_gateway) -> dedup_verdict, or an error
//             when Redis cannot answer (-> 503)
//  sends:     nothing but its replies
//  supervised by: the supervisor (actors/supervisor.cpp); it holds no state, the window is in
//             Redis.
// It only reads. Marking a hash as seen happens in journal_writer, in the same Lua script that
// appends the record to the journal: a record is never marked seen unless it is durably queued.
// The window is generational (storage/keys.hpp): generation g and g-1 are consulted.
#include <caf/fwd.hpp>

#include <string>

#include "storage/redis_endpoint.hpp"

namespace luffy {

struct dedup_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  int64_t window_seconds = 3600;
};

caf::actor spawn_dedup_actor(caf::actor_system& sys, dedup_settings settings);

}  // namespace luffy
