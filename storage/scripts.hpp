#pragma once
// The Lua scripts the server runs in Redis, one per storage/lua/<name>.lua, embedded verbatim at
// build time (storage/embed_lua.cmake) as `<name>_lua`. Each file opens with its contract: KEYS,
// ARGV, the reply, and what it writes. The store modules (storage/*_store.hpp) run them with
// redis_client::eval and script_sha1(text).
//
// Why files: a script is code, so it gets a file that editors, luajit -bl (ctest "storage: lua
// compiles") and tests/storage/*_test.cpp can read, instead of a string inside C++.
//
// The texts are namespace-scope objects defined in another translation unit: use them at run
// time (inside functions), never to initialise another namespace-scope object.
#include <string>

namespace luffy {

// journal_writer, through journal_store::commit: dedup + append one batch to the journal streams
// (storage/lua/journal_commit.lua).
extern const std::string journal_commit_lua;
// cluster_shard, through shard_store::apply: applies journal entries to the clusters and
// acknowledges them (storage/lua/cluster_apply.lua). Per-cluster arguments:
// storage/cluster_apply_args.hpp.
extern const std::string cluster_apply_lua;
// cluster_shard, through shard_store::dead_letter_entry: moves a poison journal entry to the
// dead-letter stream (storage/lua/dead_letter_entry.lua).
extern const std::string dead_letter_entry_lua;
// POST /api/v1/clusters/{id}/merge (storage/lua/cluster_merge.lua).
extern const std::string cluster_merge_lua;
// GET /api/v1/clusters?sort=trend (storage/lua/cluster_trend.lua).
extern const std::string cluster_trend_lua;
// Shard ownership across nodes (storage/shard_lease_store.hpp): storage/lua/node_heartbeat.lua,
// shard_lease_acquire.lua, shard_lease_renew.lua.
extern const std::string node_heartbeat_lua;
extern const std::string shard_lease_acquire_lua;
extern const std::string shard_lease_renew_lua;
// Shared per-service rate limits (storage/rate_limit_store.hpp): storage/lua/rate_limit_take.lua.
extern const std::string rate_limit_take_lua;
// The sending agents (storage/agent_store.hpp): storage/lua/agent_flush.lua (a node's deltas),
// agent_silent.lua (the silence check and its events).
extern const std::string agent_flush_lua;
extern const std::string agent_silent_lua;
// Retention and erasure (storage/retention_store.hpp): storage/lua/cluster_forget.lua deletes
// clusters with all their keys, stream_forget_service.lua one service's entries of a stream.
extern const std::string cluster_forget_lua;
extern const std::string stream_forget_service_lua;
// Once per Redis: clusters of an older version enter the retention index (retention_adopt.lua).
extern const std::string retention_adopt_lua;
// POST /api/v1/admin/dead_letters/{id}/retry (storage/dead_letter_store.hpp):
// storage/lua/dead_letter_retry.lua.
extern const std::string dead_letter_retry_lua;

}  // namespace luffy
