// storage/retention_store.hpp and its scripts (cluster_forget.lua, retention_adopt.lua,
// stream_forget_service.lua) against a real redis-server: what a sweep deletes, what it keeps,
// and that clusters of a version without retention are adopted, not deleted.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/keys.hpp"
#include "storage/retention_store.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "r";

// A cluster as cluster_apply.lua leaves it (the parts a sweep must find), received at `at_ms`
// (0: written by a version without retention, so without a by_received entry).
void make_cluster(const redis_process& redis, const std::string& id, const std::string& svc,
                  int64_t at_ms, const std::string& anchor = "") {
  const std::string key = cluster_key(prefix, id);
  redis.cmd({"HSET", key, "id", id, "service_id", svc, "status", "open", "count", "3"});
  if (!anchor.empty()) {
    redis.cmd({"HSET", key, "template_anchor", anchor});
    redis.cmd({"HSET", service_templates_key(prefix, svc), anchor, "0\tuser <*> failed"});
  }
  redis.cmd({"HSET", cluster_minutes_key(prefix, id), "29000000", "3"});
  redis.cmd({"HSET", cluster_hours_key(prefix, id), "483333", "3"});
  redis.cmd({"ZADD", clusters_hour_key(prefix, 483333), "3", id});
  redis.cmd({"SADD", cluster_hosts_key(prefix, id), "pod-1"});
  redis.cmd({"SADD", cluster_environments_key(prefix, id), "prod"});
  redis.cmd({"LPUSH", cluster_samples_key(prefix, id), "{\"message\":\"alice\"}"});
  redis.cmd({"LPUSH", cluster_events_key(prefix, id), "{}"});
  for (const char* sort : {"count", "last_seen", "first_seen"}) {
    redis.cmd({"ZADD", clusters_index_key(prefix, sort), "5", id});
    redis.cmd({"ZADD", service_index_key(prefix, svc, sort), "5", id});
  }
  if (at_ms > 0) {
    redis.cmd({"ZADD", clusters_received_key(prefix), std::to_string(at_ms), id});
  }
}

}  // namespace

TEST_CASE("retention_store: a sweep deletes old clusters whole and keeps recent ones",
          "[storage][retention]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  const int64_t now = 10'000'000;
  make_cluster(redis, "old", "s", now - 5000, "anchor-old");
  make_cluster(redis, "new", "s", now - 10, "anchor-new");
  // a redirect merged into "old" goes with it
  redis.cmd({"HSET", cluster_key(prefix, "gone"), "service_id", "s", "merged_into", "old"});
  redis.cmd({"SADD", cluster_merged_from_key(prefix, "old"), "gone"});
  redis.cmd({"SET", retention_adopted_key(prefix), "1"});
  retention_store store(ep);
  retention_policy p;
  p.clusters_ms = 1000;
  auto r = store.sweep(prefix, now, p);
  REQUIRE(r.ok());
  CHECK(r.value->clusters_expired == 1);
  const auto keys = dump_keyspace(ep);
  for (const auto& [k, v] : keys) {
    INFO(k << " " << v);
    CHECK(k.find("old") == std::string::npos);
    CHECK(v.find("old") == std::string::npos);
    CHECK(k.find(":gone") == std::string::npos);
  }
  CHECK(redis.cmd({"HGET", service_templates_key(prefix, "s"), "anchor-new"}).str != "");
  CHECK(redis.cmd({"EXISTS", cluster_samples_key(prefix, "new")}).integer == 1);

  SECTION("a second sweep finds nothing and writes nothing") {
    const auto before = snapshot_keyspace(ep);
    auto again = store.sweep(prefix, now, p);
    REQUIRE(again.ok());
    CHECK(again.value->clusters_expired == 0);
    CHECK(snapshot_keyspace(ep) == before);
  }
}

TEST_CASE("retention_store: clusters of an older version are dated at the upgrade, not deleted",
          "[storage][retention]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  make_cluster(redis, "legacy1", "s", 0);
  make_cluster(redis, "legacy2", "t", 0);
  retention_store store(ep);
  retention_policy p;
  p.clusters_ms = 1000;
  auto r = store.sweep(prefix, 50'000'000, p);
  REQUIRE(r.ok());
  CHECK(r.value->adopted == 2);
  CHECK(r.value->clusters_expired == 0);
  CHECK(redis.cmd({"ZSCORE", clusters_received_key(prefix), "legacy1"}).str == "50000000");
  // once: a later sweep leaves the dates alone, and deletes them when they are old
  auto later = store.sweep(prefix, 50'002'000, p);
  REQUIRE(later.ok());
  CHECK(later.value->adopted == 0);
  CHECK(later.value->clusters_expired == 2);
}

TEST_CASE("retention_store: forget_service erases one service's clusters and stream entries",
          "[storage][retention]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  for (int i = 0; i < 450; ++i) {  // more than one batch
    make_cluster(redis, "a" + std::to_string(i), "alpha", 1);
  }
  make_cluster(redis, "b1", "beta", 1);
  redis.cmd({"XADD", events_stream_key(prefix), "*", "type", "new_cluster", "service_id", "alpha"});
  redis.cmd({"XADD", events_stream_key(prefix), "*", "type", "new_cluster", "service_id", "beta"});
  redis.cmd({"XADD", dead_letter_stream_key(prefix), "*", "record",
             R"({"service_id":"alpha","message":"x"})"});
  redis.cmd({"XADD", dead_letter_stream_key(prefix), "*", "record", "not json"});
  retention_store store(ep);
  auto r = store.forget_service(prefix, "alpha");
  REQUIRE(r.ok());
  CHECK(r.value->clusters == 450);
  CHECK(r.value->events == 1);
  CHECK(r.value->dead_letters == 1);
  CHECK(redis.cmd({"ZCARD", clusters_index_key(prefix, "count")}).integer == 1);
  CHECK(redis.cmd({"XLEN", events_stream_key(prefix)}).integer == 1);
  CHECK(redis.cmd({"XLEN", dead_letter_stream_key(prefix)}).integer == 1);
  for (const auto& [k, v] : dump_keyspace(ep)) {
    INFO(k);
    CHECK(k.find("alpha") == std::string::npos);
    CHECK(k.find(":cluster:a") == std::string::npos);
  }
  CHECK(redis.cmd({"EXISTS", cluster_samples_key(prefix, "b1")}).integer == 1);
}
