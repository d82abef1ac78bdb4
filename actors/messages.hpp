#pragma once
// Every message that crosses an actor boundary, declared once, each with its inspect() below it,
// and the one type-ID block that registers them (cfg.add_message_types<caf::id_block::luffy>()).
// Cluster shards will run on other hosts, so nothing here may hold a pointer or a handle to
// process-local state: plain values only, all serialisable.
#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/body_decoder.hpp"
#include "core/config.hpp"
#include "core/record.hpp"
#include "core/retention_policy.hpp"

namespace luffy {

// ---- core types that travel in messages -------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_record& x) {
  return f(caf::meta::type_name("log_record"), x.timestamp_us, x.level, x.logger, x.message,
           x.exception_type, x.exception_message, x.stack_trace, x.service_id, x.service_name,
           x.environment, x.hostname, x.file_path, x.metadata_json, x.truncated);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_hash& x) {
  return f(caf::meta::type_name("record_hash"), x.high, x.low);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_error& x) {
  return f(caf::meta::type_name("record_error"), x.index, x.reason);
}

// A record that made a stage throw (a poison record), bound for the dead-letter stream
// <prefix>:dlq with the stage and the error, so it is kept for inspection instead of lost.
struct dead_letter {
  std::string source;  // the stage: parser, cluster_shard
  std::string error;
  std::string record;  // the record as JSON
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter& x) {
  return f(caf::meta::type_name("dead_letter"), x.source, x.error, x.record);
}

// ---- HTTP edge -> parser pool -----------------------------------------------------------------

// Which services the caller's token may write, and the service for records that name none.
struct auth_scope {
  std::string token_name;
  bool all_services = false;
  std::vector<std::string> services;
  std::string default_service;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_scope& x) {
  return f(caf::meta::type_name("auth_scope"), x.token_name, x.all_services, x.services,
           x.default_service);
}

// A decoded body to parse. `media` is a luffy::media_type value.
struct parse_request {
  std::string body;
  uint8_t media = 0;
  bool single = false;
  auth_scope scope;
  int64_t received_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parse_request& x) {
  return f(caf::meta::type_name("parse_request"), x.body, x.media, x.single, x.scope,
           x.received_us);
}

enum class parse_status : uint8_t { ok = 0, malformed = 1, too_many_records = 2, forbidden = 3 };

// The parser's answer: records ready for dedup (service resolved, hash computed) or a refusal.
struct parsed_batch {
  uint8_t status = 0;  // parse_status
  std::string message;
  std::string format;
  uint64_t received = 0;
  uint64_t merged = 0;  // continuation records joined onto the record they continue
  std::vector<log_record> records;
  std::vector<record_hash> hashes;     // parallel to records
  std::vector<uint32_t> source_index;  // parallel to records: position in the body
  std::vector<record_error> errors;
  std::vector<dead_letter> dead_letters;  // poison records (also named in errors)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parsed_batch& x) {
  return f(caf::meta::type_name("parsed_batch"), x.status, x.message, x.format, x.received,
           x.merged, x.records, x.hashes, x.source_index, x.errors, x.dead_letters);
}

// ---- dedup ------------------------------------------------------------------------------------

// Asks which hashes were already accepted within the dedup window.
struct dedup_check {
  std::vector<record_hash> hashes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedup_check& x) {
  return f(caf::meta::type_name("dedup_check"), x.hashes);
}

struct dedup_verdict {
  std::vector<uint8_t> seen;  // parallel to the hashes asked about; 1 = duplicate
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedup_verdict& x) {
  return f(caf::meta::type_name("dedup_verdict"), x.seen);
}

// ---- rate limiting ----------------------------------------------------------------------------

struct limit_request {
  std::string service_id;
  uint64_t count = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_request& x) {
  return f(caf::meta::type_name("limit_request"), x.service_id, x.count);
}

struct limit_grant {
  std::string service_id;
  uint64_t admitted = 0;
  uint32_t retry_after_seconds = 0;  // meaningful when admitted < count
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_grant& x) {
  return f(caf::meta::type_name("limit_grant"), x.service_id, x.admitted, x.retry_after_seconds);
}

// Returns tokens for records that were admitted but not stored (Redis refused the batch).
struct limit_refund {
  std::string service_id;
  uint64_t count = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_refund& x) {
  return f(caf::meta::type_name("limit_refund"), x.service_id, x.count);
}

// Replaces rates (hot reload): per-minute default, burst, per-service overrides.
struct limit_config {
  int64_t per_minute = 0;
  int64_t burst = 0;
  std::vector<std::string> services;
  std::vector<int64_t> per_minute_by_service;  // parallel to services
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_config& x) {
  return f(caf::meta::type_name("limit_config"), x.per_minute, x.burst, x.services,
           x.per_minute_by_service);
}

// service_limiter -> the registry's rate_lease actor (rate_limit.shared): take up to `want` tokens
// from the service's bucket in Redis (storage/rate_limit_store.hpp) at these rates.
struct lease_request {
  std::string service_id;
  int64_t per_minute = 0;
  int64_t capacity = 0;
  uint64_t want = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_request& x) {
  return f(caf::meta::type_name("lease_request"), x.service_id, x.per_minute, x.capacity, x.want);
}

// The shared bucket's answer (an error reply instead when Redis did not answer).
struct lease_grant {
  uint64_t granted = 0;
  int64_t left_milli = 0;  // tokens left in the shared bucket, x 1000
  int64_t wait_ms = 0;     // until it holds one whole token: 0 now, -1 never
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_grant& x) {
  return f(caf::meta::type_name("lease_grant"), x.granted, x.left_milli, x.wait_ms);
}

// ---- journal ----------------------------------------------------------------------------------

// Records to mark as seen and append to the journal, atomically.
struct journal_append {
  std::string task_id;
  std::vector<log_record> records;
  std::vector<record_hash> hashes;        // parallel to records
  std::vector<dead_letter> dead_letters;  // written to <prefix>:dlq before the records
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_append& x) {
  return f(caf::meta::type_name("journal_append"), x.task_id, x.records, x.hashes, x.dead_letters);
}

// What Redis confirmed. `duplicate` marks records another request stored first (a race the
// pre-check could not see); everything else is durably queued.
struct journal_receipt {
  std::vector<uint8_t> duplicate;      // parallel to the records sent
  std::vector<std::string> entry_ids;  // stream entry ids written
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_receipt& x) {
  return f(caf::meta::type_name("journal_receipt"), x.duplicate, x.entry_ids);
}

// ---- supervision ------------------------------------------------------------------------------

// Hot reload: grow or shrink a pool the supervisor owns ("parsers").
struct resize_pool_request {
  std::string group;
  uint32_t size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resize_pool_request& x) {
  return f(caf::meta::type_name("resize_pool_request"), x.group, x.size);
}

// Hot reload of the operator's grouping rules (clustering.in_app_prefixes, not_in_app_prefixes,
// fingerprint_rules, max_new_clusters_per_minute): pipeline -> supervisor, which keeps the latest
// one for the shards it re-spawns and forwards it to every cluster shard. Checked before it is
// sent (check_fingerprint_rules); a shard compiles it and uses it from its next record on.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fingerprint_match& x) {
  return f(caf::meta::type_name("fingerprint_match"), x.field, x.glob);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fingerprint_rule_config& x) {
  return f(caf::meta::type_name("fingerprint_rule_config"), x.match, x.fingerprint, x.title);
}

struct grouping_update {
  std::string in_app_prefixes;      // comma-separated prefixes or globs
  std::string not_in_app_prefixes;  // comma-separated prefixes or globs
  std::vector<fingerprint_rule_config> fingerprint_rules;
  int64_t max_new_clusters_per_minute = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grouping_update& x) {
  return f(caf::meta::type_name("grouping_update"), x.in_app_prefixes, x.not_in_app_prefixes,
           x.fingerprint_rules, x.max_new_clusters_per_minute);
}

// ---- reload -> retention sweeper -------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retention_policy& x) {
  return f(caf::meta::type_name("retention_policy"), x.clusters_ms, x.resolved_clusters_ms,
           x.events_max_entries, x.events_max_age_ms, x.dead_letters_max_entries,
           x.dead_letters_max_age_ms, x.sweep_interval_ms);
}

// ---- journal -> cluster shard (fast path) -----------------------------------------------------

// One journal entry just committed to <prefix>:journal:<shard>, handed to its cluster shard in
// memory so the shard need not read and decode it back. The journal stays the durable source: an
// entry whose message is lost is found by the shard's sweep of its stream (cluster_shard.hpp).
struct journal_committed {
  uint32_t shard = 0;
  std::string entry_id;
  std::vector<log_record> records;
  std::vector<record_hash> hashes;  // parallel to records
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_committed& x) {
  return f(caf::meta::type_name("journal_committed"), x.shard, x.entry_id, x.records, x.hashes);
}

// From the shard_owner to the supervisor: run (hold) or stop (!hold) the cluster shard actor of
// `shard`; its writes carry `fence`, the lease value Redis checks before every counting write.
struct shard_assignment {
  uint32_t shard = 0;
  std::string fence;
  bool hold = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_assignment& x) {
  return f(caf::meta::type_name("shard_assignment"), x.shard, x.fence, x.hold);
}

// Between nodes, before any journal entry crosses: the caller's and then the answerer's name and
// build fingerprint (message_types_fingerprint). A node sends entries only to a peer whose
// fingerprint equals its own, and accepts them only from such a peer.
struct peer_hello {
  std::string node;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_hello& x) {
  return f(caf::meta::type_name("peer_hello"), x.node, x.fingerprint);
}

}  // namespace luffy

CAF_BEGIN_TYPE_ID_BLOCK(luffy, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(luffy, (luffy::auth_scope))
CAF_ADD_TYPE_ID(luffy, (luffy::dead_letter))
CAF_ADD_TYPE_ID(luffy, (luffy::dedup_check))
CAF_ADD_TYPE_ID(luffy, (luffy::dedup_verdict))
CAF_ADD_TYPE_ID(luffy, (luffy::fingerprint_match))
CAF_ADD_TYPE_ID(luffy, (luffy::fingerprint_rule_config))
CAF_ADD_TYPE_ID(luffy, (luffy::grouping_update))
CAF_ADD_TYPE_ID(luffy, (luffy::journal_append))
CAF_ADD_TYPE_ID(luffy, (luffy::journal_committed))
CAF_ADD_TYPE_ID(luffy, (luffy::journal_receipt))
CAF_ADD_TYPE_ID(luffy, (luffy::lease_grant))
CAF_ADD_TYPE_ID(luffy, (luffy::lease_request))
CAF_ADD_TYPE_ID(luffy, (luffy::limit_config))
CAF_ADD_TYPE_ID(luffy, (luffy::limit_grant))
CAF_ADD_TYPE_ID(luffy, (luffy::limit_refund))
CAF_ADD_TYPE_ID(luffy, (luffy::limit_request))
CAF_ADD_TYPE_ID(luffy, (luffy::log_record))
CAF_ADD_TYPE_ID(luffy, (luffy::parse_request))
CAF_ADD_TYPE_ID(luffy, (luffy::parsed_batch))
CAF_ADD_TYPE_ID(luffy, (luffy::peer_hello))
CAF_ADD_TYPE_ID(luffy, (luffy::record_error))
CAF_ADD_TYPE_ID(luffy, (luffy::record_hash))
CAF_ADD_TYPE_ID(luffy, (luffy::resize_pool_request))
CAF_ADD_TYPE_ID(luffy, (luffy::retention_policy))
CAF_ADD_TYPE_ID(luffy, (luffy::shard_assignment))
CAF_END_TYPE_ID_BLOCK(luffy)

namespace luffy {

// The names of every message type in the luffy block, in type-ID order ("a,b,c").
std::string message_type_names();

// What two nodes must share to exchange messages: the build's version and its message types
// (16 hex digits). Also CAF's middleman.app-identifiers, so the middleman's own handshake refuses
// a peer of another build.
std::string message_types_fingerprint(const std::string& version);

}  // namespace luffy
