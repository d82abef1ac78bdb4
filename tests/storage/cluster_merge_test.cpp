// storage/lua/cluster_merge.lua against a real redis-server.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "m";

void make_cluster(redis_process& redis, const std::string& id, const std::string& svc,
                  const std::string& count, const std::string& first, const std::string& last) {
  redis.cmd({"HSET", cluster_key(prefix, id), "id", id, "service_id", svc, "count", count,
             "first_seen_us", first, "last_seen_us", last, "title", "t-" + id, "status", "open"});
  redis.cmd({"HSET", cluster_minutes_key(prefix, id), "100", count});
  redis.cmd({"SADD", cluster_hosts_key(prefix, id), "host-" + id});
  redis.cmd({"RPUSH", cluster_samples_key(prefix, id), R"({"timestamp_us":)" + last + "}"});
  for (const auto& z :
       {clusters_index_key(prefix, "count"), service_index_key(prefix, svc, "count")}) {
    redis.cmd({"ZADD", z, count, id});
  }
}

redis_value merge(redis_process& redis, const std::string& src, const std::string& dst,
                  const std::string& cross = "0") {
  return run_script(redis.endpoint(), cluster_merge_lua, {events_stream_key(prefix)},
                    {prefix, src, dst, "5000", "3", cross});
}

}  // namespace

TEST_CASE("cluster_merge: folds one cluster into another", "[storage]") {
  redis_process redis;
  make_cluster(redis, "a", "svc", "2", "1000", "9000");
  make_cluster(redis, "b", "svc", "5", "2000", "3000");
  auto r = merge(redis, "a", "b");
  REQUIRE(r.elements.at(0).str == "ok");
  CHECK(r.elements.at(1).str == "b");
  CHECK(r.elements.at(2).str == "7");
  CHECK(r.elements.at(3).str == "2");
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "b"), "count"}).str == "7");
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "b"), "first_seen_us"}).str == "1000");
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "b"), "last_seen_us"}).str == "9000");
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "a"), "merged_into"}).str == "b");
  CHECK(redis.cmd({"HGET", cluster_minutes_key(prefix, "b"), "100"}).str == "7");
  CHECK(redis.cmd({"SCARD", cluster_hosts_key(prefix, "b")}).integer == 2);
  CHECK(redis.cmd({"LLEN", cluster_samples_key(prefix, "b")}).integer == 2);
  CHECK(redis.cmd({"SISMEMBER", cluster_merged_from_key(prefix, "b"), "a"}).integer == 1);
  CHECK(redis.cmd({"EXISTS", cluster_minutes_key(prefix, "a")}).integer == 0);
  CHECK(redis.cmd({"ZSCORE", clusters_index_key(prefix, "count"), "a"}).type ==
        redis_value::kind::nil);
  CHECK(redis.cmd({"ZSCORE", clusters_index_key(prefix, "count"), "b"}).str == "7");
  CHECK(redis.cmd({"ZSCORE", clusters_index_key(prefix, "last_seen"), "b"}).str == "9");
  CHECK(stream_fields(redis.endpoint(), events_stream_key(prefix)) ==
        std::vector<std::string>{"type=merged cluster_id=b service_id=svc title=t-b merged_id=a "
                                 "merged_service_id=svc merged_count=2 at_ms=5000"});

  SECTION("merging it again is refused and writes nothing") {
    const auto before = dump_keyspace(redis.endpoint());
    auto again = merge(redis, "a", "b");
    CHECK(again.elements.at(0).str == "err");
    CHECK(again.elements.at(2).str == "already_merged");
    CHECK(dump_keyspace(redis.endpoint()) == before);
  }
}

TEST_CASE("cluster_merge: refusals", "[storage]") {
  redis_process redis;
  make_cluster(redis, "a", "svc", "2", "1000", "9000");
  make_cluster(redis, "c", "other", "1", "1000", "2000");
  CHECK(merge(redis, "a", "a").elements.at(2).str == "merge_into_self");
  CHECK(merge(redis, "nope", "a").elements.at(2).str == "not_found");
  CHECK(merge(redis, "a", "nope").elements.at(2).str == "unknown_target");
  CHECK(merge(redis, "a", "c").elements.at(2).str == "cross_service_merge");
  CHECK(merge(redis, "a", "c", "1").elements.at(0).str == "ok");  // an admin token may
}
