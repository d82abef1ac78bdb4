// storage/lua/dead_letter_entry.lua against a real redis-server.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "d";
const std::string stream = journal_stream_key(prefix, 1);

std::vector<std::string> keys() {
  return {stream, dead_letter_stream_key(prefix), stats_key(prefix), shard_lease_key(prefix, 1)};
}

}  // namespace

TEST_CASE("dead_letter_entry: moves the whole entry and counts its records", "[storage]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  redis.cmd({"XADD", stream, "10-1", "task", "t1", "n", "3", "enc", "json", "records", "r"});
  redis.cmd({"XADD", stream, "11-1", "task", "t2", "n", "1", "enc", "json", "records", "s"});
  redis.cmd({"HSET", journal_attempts_key(stream), "10-1", "4", "11-1", "1"});
  auto r = run_script(ep, dead_letter_entry_lua, keys(), {"10-1", "took it down", ""});
  CHECK(r.integer == 3);
  CHECK(stream_fields(ep, dead_letter_stream_key(prefix)) ==
        std::vector<std::string>{
            "source=cluster_shard entry=10-1 error=took it down task=t1 n=3 enc=json records=r "
            "stream=" +
            std::string(stream)});
  CHECK(stream_fields(ep, stream) == std::vector<std::string>{"task=t2 n=1 enc=json records=s"});
  CHECK(redis.cmd({"HGET", journal_attempts_key(stream), "10-1"}).type == redis_value::kind::nil);
  CHECK(redis.cmd({"HGET", journal_attempts_key(stream), "11-1"}).str == "1");
  CHECK(redis.cmd({"HGET", stats_key(prefix), "dead_lettered"}).str == "3");

  SECTION("an entry already gone writes nothing") {
    const auto before = dump_keyspace(ep);
    CHECK(run_script(ep, dead_letter_entry_lua, keys(), {"10-1", "again", ""}).integer == 0);
    CHECK(dump_keyspace(ep) == before);
  }
}

// The fence (ARGV[3], the lease value the caller holds): checked against KEYS[4] before anything.
TEST_CASE("dead_letter_entry: writes only while the fence holds", "[storage][fence]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  const std::string lease = shard_lease_key(prefix, 1);
  const std::string mine = "4:1700000000000:node-a";
  redis.cmd({"XADD", stream, "10-1", "task", "t1", "n", "3", "enc", "json", "records", "r"});
  redis.cmd({"HSET", journal_attempts_key(stream), "10-1", "4"});

  SECTION("held: moved") {
    redis.cmd({"SET", lease, mine, "PX", "60000"});
    CHECK(run_script(ep, dead_letter_entry_lua, keys(), {"10-1", "e", mine}).integer == 3);
    CHECK(redis.cmd({"XLEN", stream}).integer == 0);
  }
  SECTION("a newer epoch holds it: -1, nothing written") {
    redis.cmd({"SET", lease, "5:1700000009000:node-b", "PX", "60000"});
    const auto before = snapshot_keyspace(ep);
    CHECK(run_script(ep, dead_letter_entry_lua, keys(), {"10-1", "e", mine}).integer == -1);
    CHECK(snapshot_keyspace(ep) == before);
  }
  SECTION("expired: -1, nothing written") {
    const auto before = snapshot_keyspace(ep);
    CHECK(run_script(ep, dead_letter_entry_lua, keys(), {"10-1", "e", mine}).integer == -1);
    CHECK(snapshot_keyspace(ep) == before);
  }
  SECTION("fenced before the entry is looked up") {
    CHECK(run_script(ep, dead_letter_entry_lua, keys(), {"99-9", "e", mine}).integer == -1);
  }
}
