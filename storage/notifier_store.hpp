#pragma once
// notifier_store: what the notifier (actors/notifier.cpp) keeps in Redis.
//  - <prefix>:notifier:lease, "<node>" with a TTL: the one node of a deployment that posts
//    webhooks, so N nodes reading the same <prefix>:events stream send each message once. Taken
//    with SET NX semantics and renewed by its holder (one Lua round trip).
//  - <prefix>:notifier:cursor: the id of the last events entry handled, so a restart (or another
//    node taking the lease over) neither resends nor skips. Written only while the writer still
//    holds the lease (checked in the same script), so a node that lost it cannot move it back.
// Reads <prefix>:events with XREAD without BLOCK: the caller polls on its own tick.
//
// Contract: every call is one round trip on this store's own connection; !ok() means Redis did
// not answer. Not thread-safe (one redis_client): one per actor.
#include <cstdint>
#include <string>
#include <vector>

#include "core/notification.hpp"
#include "storage/redis_client.hpp"

namespace luffy {

class notifier_store {
 public:
  explicit notifier_store(redis_endpoint ep) : redis_(std::move(ep)) {}
  notifier_store(const notifier_store&) = delete;
  notifier_store& operator=(const notifier_store&) = delete;

  // Takes the lease when free or renews it when `node` holds it (PX ttl_ms); true: held now.
  redis_result<bool> hold_lease(const std::string& prefix, const std::string& node, int64_t ttl_ms);
  // Gives the lease up when `node` holds it (a clean stop: another node takes over at once).
  redis_result<bool> release_lease(const std::string& prefix, const std::string& node);
  // The stored cursor; "" when there is none (first start).
  redis_result<std::string> cursor(const std::string& prefix);
  // The id of the newest entry of the events stream ("0-0" when it is empty): where a first start
  // begins, so history is not replayed.
  redis_result<std::string> stream_end(const std::string& prefix);
  // Stores the cursor if `node` still holds the lease; false when it does not.
  redis_result<bool> store_cursor(const std::string& prefix, const std::string& node,
                                  const std::string& id);
  // At most `count` entries after `after`, oldest first.
  redis_result<std::vector<notification_event>> read_after(const std::string& prefix,
                                                           const std::string& after, int64_t count);

 private:
  redis_client redis_;
};

}  // namespace luffy
