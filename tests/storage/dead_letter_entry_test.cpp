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
            "source=cluster_shard entry=10-1 error=took it down task=t1 n=3 enc=json records=r"});
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

