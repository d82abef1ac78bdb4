// storage/lua/dead_letter_retry.lua and cluster_trend.lua against a real redis-server.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "c";
const std::string stream = journal_stream_key(prefix, 1);
const std::string dlq = dead_letter_stream_key(prefix);
const std::string journal_prefix = prefix + ":journal:";

}  // namespace

TEST_CASE("dead_letter_retry: a whole entry goes back to its stream, attempts reset", "[storage]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  redis.cmd({"XADD", stream, "10-1", "task", "t1", "n", "3", "enc", "json", "records", "r"});
  redis.cmd({"HSET", journal_attempts_key(stream), "10-1", "4"});
  REQUIRE(run_script(ep, dead_letter_entry_lua,
                     {stream, dlq, stats_key(prefix), shard_lease_key(prefix, 1)},
                     {"10-1", "took it down", ""})
              .integer == 3);
  const std::string id =
      redis.cmd({"XREVRANGE", dlq, "+", "-", "COUNT", "1"}).elements.at(0).elements.at(0).str;
  auto r = run_script(ep, dead_letter_retry_lua, {dlq}, {id, journal_prefix});
  REQUIRE(r.elements.size() == 3);
  CHECK(r.elements[0].str == "requeued");
  CHECK(r.elements[2].str == stream);
  CHECK(stream_fields(ep, stream) == std::vector<std::string>{"task=t1 n=3 enc=json records=r"});
  CHECK(redis.cmd({"XLEN", dlq}).integer == 0);
  CHECK(redis.cmd({"HLEN", journal_attempts_key(stream)}).integer == 0);

  SECTION("a second retry of the same id finds nothing and writes nothing") {
    const auto before = dump_keyspace(ep);
    auto again = run_script(ep, dead_letter_retry_lua, {dlq}, {id, journal_prefix});
    CHECK(again.elements.at(0).str == "not_found");
    CHECK(dump_keyspace(ep) == before);
  }
}

TEST_CASE("dead_letter_retry: poison records and foreign streams are not retryable", "[storage]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  redis.cmd({"XADD", dlq, "20-1", "source", "parser", "task", "t", "error", "e", "record", "{}"});
  redis.cmd({"XADD", dlq, "21-1", "source", "cluster_shard", "entry", "1-1", "error", "e", "record",
             "{}"});
  // written before dead_letter_entry.lua recorded the stream
  redis.cmd({"XADD", dlq, "22-1", "source", "cluster_shard", "entry", "1-1", "error", "e", "task",
             "t", "n", "1", "enc", "json", "records", "r"});
  // a stream outside the journal
  redis.cmd({"XADD", dlq, "23-1", "source", "cluster_shard", "entry", "1-1", "error", "e", "task",
             "t", "n", "1", "enc", "json", "records", "r", "stream", "elsewhere"});
  const auto before = dump_keyspace(ep);
  for (const char* id : {"20-1", "21-1", "22-1", "23-1"}) {
    INFO(id);
    CHECK(run_script(ep, dead_letter_retry_lua, {dlq}, {id, journal_prefix}).elements.at(0).str ==
          "not_retryable");
  }
  CHECK(dump_keyspace(ep) == before);
}

TEST_CASE("cluster_trend: this hour minus the mean of the 23 before, every listed cluster",
          "[storage]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  const int64_t hour = 500000;
  const std::string base = clusters_index_key(prefix, "last_seen");
  for (const char* id : {"rising", "steady", "quiet", "falling"}) {
    redis.cmd({"ZADD", base, "1", id});
  }
  redis.cmd({"ZADD", clusters_hour_key(prefix, hour), "10", "rising", "1", "steady"});
  for (int64_t h = hour - 23; h < hour; ++h) {
    redis.cmd({"ZADD", clusters_hour_key(prefix, h), "1", "steady", "23", "falling"});
  }
  // merged away: in an hour zset, no longer listed
  redis.cmd({"ZADD", clusters_hour_key(prefix, hour), "100", "merged"});
  std::vector<std::string> keys{clusters_trend_key(prefix, "", hour), base};
  for (int64_t h = hour - 23; h <= hour; ++h) {
    keys.push_back(clusters_hour_key(prefix, h));
  }
  auto r = run_script(ep, cluster_trend_lua, keys, {"10000", "100"});
  std::vector<std::pair<std::string, double>> got;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    got.emplace_back(r.elements[i].str, std::stod(r.elements[i + 1].str));
  }
  REQUIRE(got.size() == 4);
  CHECK(got[0].first == "rising");
  CHECK(got[0].second == Approx(10));
  CHECK(got[3].first == "falling");
  CHECK(got[3].second == Approx(-23));
  for (size_t i = 1; i < 3; ++i) {
    CHECK(got[i].second == Approx(0).margin(1e-9));  // steady (1 - 1) and quiet
  }
  CHECK(redis.cmd({"PTTL", keys[0]}).integer > 0);  // cached for paging
}
