// storage/lua/journal_commit.lua against a real redis-server.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "j";
const std::string cur = dedup_set_key(prefix, 11), prev = dedup_set_key(prefix, 10);
const std::string s0 = journal_stream_key(prefix, 0), s2 = journal_stream_key(prefix, 2);

std::string hash(char c) {
  return std::string(16, c);
}

}  // namespace

TEST_CASE("journal_commit: marks the hashes and appends one entry per shard", "[storage]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  const std::vector<std::string> keys{cur, prev, s0, s2};
  auto r = run_script(ep, journal_commit_lua, keys,
                      {"7260", "task-1", hash('a') + hash('b') + hash('c'), "3", "json", "2",
                       "rec-a\nrec-b", "1", "rec-c"});
  REQUIRE(r.elements.at(0).elements.empty());
  REQUIRE(r.elements.at(1).elements.size() == 2);
  CHECK(redis.cmd({"SCARD", cur}).integer == 3);
  CHECK(redis.cmd({"TTL", cur}).integer > 7000);
  CHECK(redis.cmd({"EXISTS", prev}).integer == 0);
  CHECK(stream_fields(ep, s0) ==
        std::vector<std::string>{"task=task-1 n=2 enc=json records=rec-a\nrec-b"});
  CHECK(stream_fields(ep, s2) ==
        std::vector<std::string>{"task=task-1 n=1 enc=json records=rec-c"});

  SECTION("a batch holding a stored hash writes nothing and names its positions") {
    redis.cmd({"SADD", prev, hash('z')});
    const auto before = dump_keyspace(ep);
    auto again = run_script(ep, journal_commit_lua, {cur, prev, s0},
                            {"7260", "task-2", hash('d') + hash('b') + hash('z'), "3", "json", "3",
                             "rec-d\nrec-b\nrec-z"});
    REQUIRE(again.elements.at(0).elements.size() == 2);
    CHECK(again.elements.at(0).elements.at(0).integer == 1);  // 0-based, packed order
    CHECK(again.elements.at(0).elements.at(1).integer == 2);  // found in the previous generation
    CHECK(again.elements.at(1).elements.empty());
    CHECK(dump_keyspace(ep) == before);
  }
}

TEST_CASE("journal_commit: an empty batch appends nothing", "[storage]") {
  redis_process redis;
  auto r =
      run_script(redis.endpoint(), journal_commit_lua, {cur, prev}, {"60", "t", "", "0", "json"});
  CHECK(r.elements.at(0).elements.empty());
  CHECK(r.elements.at(1).elements.empty());
  CHECK(redis.cmd({"DBSIZE"}).integer == 0);
}
