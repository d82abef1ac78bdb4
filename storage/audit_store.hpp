#pragma once
// audit_store: the audit trail (<prefix>:audit), one stream entry per admin or state-changing
// action (config reload by route or SIGHUP, resolve, reopen, merge, dead-letter retry, shard
// rebalance), allowed or refused, appended by net/audit_log.cpp.
//
// Entry fields: at (Unix ms, this host's clock), actor (token name, "jwt:<sub>", or "signal"),
// action (e.g. "cluster.resolve"), target (cluster id, dead-letter id, or ""), result ("ok" or the
// error code answered), client (the peer address, "" for a signal). The stream is trimmed with
// MAXLEN ~ audit.max_entries on every append, so it stays bounded without a sweeper.
//
// Contract: one round trip per append on this store's own connection; !ok() means Redis did not
// take the entry. Not thread-safe (one redis_client): keep one per thread.
#include <cstdint>
#include <string>
#include <utility>

#include "storage/dead_letter_store.hpp"  // dead_letter_page: a page of a stream, newest first
#include "storage/redis_client.hpp"

namespace luffy {

struct audit_entry {
  int64_t at_ms = 0;
  std::string actor, action, target, result, client;
};

class audit_store {
 public:
  explicit audit_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  audit_store(const audit_store&) = delete;
  audit_store& operator=(const audit_store&) = delete;

  // XADD <prefix>:audit MAXLEN ~ max_entries; the new entry's id.
  redis_result<std::string> append(const std::string& prefix, const audit_entry& e,
                                   int64_t max_entries);
  // At most `limit` entries older than `before` (a stream id; "" = from the newest), newest first.
  redis_result<dead_letter_page> page(const std::string& prefix, const std::string& before,
                                      int64_t limit);

 private:
  redis_client redis_;
};

}  // namespace luffy
