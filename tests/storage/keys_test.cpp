// The key schema (storage/keys.hpp) spells the names an existing Redis holds: changing one
// orphans data, so each is pinned here.
#include <catch2/catch.hpp>

#include "storage/keys.hpp"

using namespace luffy;

TEST_CASE("keys: every name of the schema", "[storage]") {
  CHECK(journal_stream_key("luffy", 3) == "luffy:journal:3");
  CHECK(journal_attempts_key(journal_stream_key("luffy", 3)) == "luffy:journal:3:attempts");
  CHECK(dedup_generation(7200, 3600) == 2);
  CHECK(dedup_set_key("luffy", 2) == "luffy:dedup:2");
  CHECK(dead_letter_stream_key("luffy") == "luffy:dlq");
  CHECK(stats_key("luffy") == "luffy:stats");
  CHECK(events_stream_key("luffy") == "luffy:events");
  CHECK(cluster_key("luffy", "c1") == "luffy:cluster:c1");
  CHECK(cluster_minutes_key("luffy", "c1") == "luffy:cluster:c1:minutes");
  CHECK(cluster_hosts_key("luffy", "c1") == "luffy:cluster:c1:hosts");
  CHECK(cluster_environments_key("luffy", "c1") == "luffy:cluster:c1:environments");
  CHECK(cluster_samples_key("luffy", "c1") == "luffy:cluster:c1:samples");
  CHECK(cluster_merged_from_key("luffy", "c1") == "luffy:cluster:c1:merged_from");
  CHECK(clusters_index_key("luffy", "count") == "luffy:clusters:by_count");
  CHECK(clusters_index_key("luffy", "last_seen") == "luffy:clusters:by_last_seen");
  CHECK(clusters_resolved_key("luffy") == "luffy:clusters:resolved");
  CHECK(clusters_received_key("luffy") == "luffy:clusters:by_received");
  CHECK(retention_adopted_key("luffy") == "luffy:retention:adopted");
  CHECK(service_index_key("luffy", "s", "count") == "luffy:service:s:by_count");
  CHECK(service_templates_key("luffy", "s") == "luffy:service:s:templates");
  CHECK(service_new_clusters_key("luffy", "s", 42) == "luffy:service:s:new_clusters:42");
  CHECK(service_explosion_key("luffy", "s") == "luffy:service:s:explosion");
  CHECK(grouping_transition_key("luffy") == "luffy:grouping:v1_transition_since_ms");
  CHECK(nodes_key("luffy") == "luffy:nodes");
  CHECK(shard_lease_key("luffy", 7) == "luffy:shard:7:lease");
  CHECK(shard_epoch_key("luffy", 7) == "luffy:shard:7:epoch");
  CHECK(rate_limit_key("luffy", "s") == "luffy:ratelimit:s");
  CHECK(agent_key("luffy", "0123456789abcdef") == "luffy:agent:0123456789abcdef");
  CHECK(agent_minutes_key("luffy", "a1") == "luffy:agent:a1:minutes");
  CHECK(agents_index_key("luffy") == "luffy:agents:by_last_seen");
  CHECK(agents_awake_key("luffy") == "luffy:agents:awake");
  CHECK(notifier_cursor_key("luffy") == "luffy:notifier:cursor");
  CHECK(notifier_lease_key("luffy") == "luffy:notifier:lease");
}
