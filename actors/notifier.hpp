#pragma once
// notifier: posts cluster events to the configured webhooks (notifications.webhooks; docs/
// OPERATIONS.md "Notifications").
//  owns:      a notifier_store (storage/notifier_store.hpp: the lease, the cursor and the reads of
//             <prefix>:events) whose connection blocks, so the actor runs detached on its own
//             thread; one delivery worker thread per webhook with a bounded queue (HTTP posts,
//             timeouts, retries with backoff), so a slow or hanging receiver never delays the
//             others, the poll, ingest or clustering; the de-dup windows (core/notification.hpp).
//  receives:  tick_atom from itself every 500 ms: holds (takes or renews) <prefix>:notifier:lease,
//             and only while it holds it reads the events after <prefix>:notifier:cursor (XREAD,
//             no BLOCK), filters them per webhook (events, services), drops repeats within
//             notifications.dedup_seconds, turns more than digest_threshold into one digest,
//             queues the messages and moves the cursor (fenced by the lease). A first start (no
//             cursor) begins at the stream's end: history is not replayed.
//  sends:     nothing (HTTP POSTs from its workers; counters in ingest_metrics::notifications)
//  spawned by: pipeline::start when webhooks are configured and the node clusters (role all or
//             shard); stopped by pipeline::stop. Not supervised, like agent_tracker: its state is
//             in Redis (cursor, lease) and every cycle catches its own failures. On exit it gives
//             its workers up to 2 s to post what is queued (no retries then) and releases the
//             lease so another node takes over at once.
//
// Delivery is at most once per event across a crash (the cursor moves when messages are queued,
// not when they are delivered): a crash loses what was queued, a restart never resends.
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/ingest_metrics.hpp"
#include "storage/redis_endpoint.hpp"

namespace luffy {

struct notifier_settings {
  redis_endpoint redis;
  std::string key_prefix = "luffy";
  std::string node;  // lease holder name (node.name)
  std::vector<webhook_config> webhooks;
  int64_t dedup_ms = 3600 * 1000;
  int64_t digest_threshold = 10;
  int64_t max_attempts = 5;
  int64_t timeout_ms = 5000;
  int64_t poll_ms = 500;
  int64_t lease_ttl_ms = 10000;
  int64_t batch = 500;        // events read per poll
  size_t queue_limit = 1000;  // messages waiting per webhook; beyond: counted failed
  int64_t retry_base_ms = 1000;
  int64_t retry_cap_ms = 60000;
};

notifier_settings notifier_settings_from(const luffy_config& cfg, const redis_endpoint& redis);

caf::actor spawn_notifier(caf::actor_system& sys, notifier_settings settings,
                          ingest_metrics* metrics);

}  // namespace luffy
