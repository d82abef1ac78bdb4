#pragma once
// shard_store: one cluster shard's Redis side (actors/cluster_shard.cpp). Reads its journal stream
// <prefix>:journal:<shard> back, applies entries to the clusters with storage/lua/cluster_apply.lua
// (which also deletes them from the stream: the acknowledgement), counts sweep attempts per entry
// in <stream>:attempts, moves a poison entry to the dead-letter stream
// (storage/lua/dead_letter_entry.lua), reads a service's saved level-3 templates and the start of
// the legacy grouping window.
//
// Contract: each call is one round trip (a command, a pipeline or a script) on this store's own
// connection. A redis_result that is not ok() means Redis did not answer or answered something
// unexpected: nothing is known to be written then, and the shard leaves the entries in the
// journal for a later sweep. Key names come from storage/keys.hpp. The prefix and the shard are
// fixed at construction: storage.key_prefix needs a restart (core/config_keys.cpp), and a shard
// owns one stream for its whole life. Not thread-safe: one per actor.
//
// Fencing (docs/SCALING.md): a store made with a fence, the value of the shard's lease
// "<epoch>:<since_ms>:<node>" (storage/shard_lease_store.hpp) its owner holds, makes its two
// counting writes, apply() and dead_letter_entry(), check inside their scripts that
// <prefix>:shard:<shard>:lease still holds exactly that value, and write nothing when it does
// not (the lease expired, or a newer epoch holds it). A fenced answer is final for this store:
// the lease is not ours any more, so the owner stops the shard and drops the store; a new lease
// means a new store. The fence is fixed for the store's life. An empty fence (the default) checks
// nothing: a single-process deployment and the tools, which hold no leases. The other calls
// (reads, attempt counts) are not fenced: they decide nothing about counts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/redis_client.hpp"

namespace luffy {

// A level-3 template saved by the apply script in <prefix>:service:<svc>:templates
// (anchor -> "ordinal\ttemplate").
struct saved_template {
  uint64_t ordinal = 0;
  std::string anchor, text;
};

// A journal entry read back from the stream (fields task, n, enc, records).
struct journal_entry {
  std::string id;
  std::string encoding = "json";  // `enc`; entries written before it existed hold JSON
  std::string payload;            // `records`: the records' JSON lines, encoded as `encoding` says
};

// A record that could not be fingerprinted, bound for <prefix>:dlq through the apply script.
struct poison_record {
  std::string entry, error, record;
};

// The arguments of one cluster_apply run (storage/lua/cluster_apply.lua says what each means).
struct cluster_apply_call {
  int64_t max_new_clusters_per_minute = 0;  // per service; 0 = no bound
  int64_t now_ms = 0;                       // wall clock
  uint32_t samples = 0;                     // samples kept per cluster
  double spike_multiplier = 0;
  int64_t spike_minimum = 0;
  size_t records = 0;                  // records in the entries, poison records left out
  std::vector<std::string> entry_ids;  // the entries applied (and deleted) together
  std::vector<std::string> clusters;   // one pack_cluster_apply_sum per cluster
  std::vector<poison_record> dead;
};

struct cluster_apply_reply {
  bool applied = false;
  // not applied because the store's fence no longer holds the shard (nothing was written); then
  // `holder` is the lease's current value ("" when it expired) and `gone` is empty.
  bool fenced = false;
  std::string holder;
  // not applied because an older entry precedes them in the stream (nothing was written): the
  // caller applies the stream from its head first (cluster_apply.lua keeps journal order).
  bool behind = false;
  // applied: clusters created, and the services that went over their new-cluster bound.
  int64_t new_clusters = 0;
  std::vector<std::string> overflowed;
  // not applied and not fenced (nothing was written): the entries no longer in the stream
  // (applied before).
  std::vector<std::string> gone;
};

class shard_store {
 public:
  // What dead_letter_entry() returns when the fence did not hold: nothing was written.
  static constexpr int64_t fenced_out = -1;

  // `fence`: the lease value the owner holds for `shard`, "" for none (see the top of this file).
  shard_store(redis_endpoint ep, std::string prefix, uint32_t shard, std::string fence = {});
  shard_store(const shard_store&) = delete;
  shard_store& operator=(const shard_store&) = delete;

  // The templates saved for `service_id`, in the order they were made (ordinal, then anchor);
  // values without a tab are skipped. Empty when there are none.
  redis_result<std::vector<saved_template>> read_templates(const std::string& service_id);
  // The start (wall clock, ms) of the legacy grouping window: recorded as `now_ms` by the first
  // call against this Redis (SET NX), read back by every call.
  redis_result<int64_t> legacy_window_start(int64_t now_ms);
  // Runs cluster_apply over the shard's stream and the events stream, fenced by the store's
  // fence. A Lua error is an error. Exactly one of: applied, fenced (holder set), or gone named.
  redis_result<cluster_apply_reply> apply(const cluster_apply_call& call);
  // Up to `count` entries from the start of the stream (oldest first). Stops before the first
  // entry that is not an (id, fields) pair.
  redis_result<std::vector<journal_entry>> read_entries(uint32_t count);
  // The id of the oldest entry in the stream; nullopt when the stream is empty.
  redis_result<std::optional<std::string>> oldest_entry_id();
  // Adds one to the sweep attempts of entry `id` and returns the new count.
  redis_result<int64_t> count_attempt(const std::string& id);
  // Takes one attempt back (a sweep that failed because Redis did, not because the shard died).
  redis_result<int64_t> uncount_attempt(const std::string& id);
  // Moves entry `id` whole to the dead-letter stream with `error`, drops its attempts and adds
  // its records to dead_lettered in the stats hash, fenced by the store's fence. Returns its
  // record count (>= 0): 0 when it was gone already, and also when the script answered with a
  // Redis error (then the shard moves on as it did before this module existed; the entry stays
  // and the next sweep tries again). Returns fenced_out (-1), having written nothing, when the
  // fence did not hold; only a store with a fence gets it, so a caller that passes one must test
  // for it before using the value as a count.
  redis_result<int64_t> dead_letter_entry(const std::string& id, const std::string& error);
  // Whether the lease key still holds the fence (always true for an empty fence, without asking
  // Redis). Advisory only: the answer can be stale on arrival; the scripts' own check is the fence.
  redis_result<bool> still_holds();

  const std::string& stream() const { return stream_; }
  const std::string& fence() const { return fence_; }

 private:
  redis_client redis_;
  std::string prefix_, stream_, events_, attempts_, lease_, fence_;
  std::string apply_sha1_, dead_letter_sha1_;
};

}  // namespace luffy
