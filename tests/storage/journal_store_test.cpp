// storage/journal_store against a real redis-server: the keys it derives and what it returns.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/journal_store.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;

TEST_CASE("journal_store: commit, duplicate positions, dead letters", "[storage]") {
  redis_process redis;
  journal_store store(redis.endpoint());
  const std::string packed = std::string(16, 'a') + std::string(16, 'b');
  std::vector<journal_shard_batch> batches{{1, 1, "r-a"}, {3, 1, "r-b"}};
  auto r = store.commit("p", 60, 125, "task", packed, 2, "json", batches);
  REQUIRE(r.ok());
  CHECK(r.value->stored.empty());
  CHECK(r.value->entry_ids.size() == 2);
  CHECK(redis.cmd({"SCARD", dedup_set_key("p", 2)}).integer == 2);  // 125 / 60
  CHECK(redis.cmd({"TTL", dedup_set_key("p", 2)}).integer > 170);   // 2 x 60 + 60
  CHECK(stream_fields(redis.endpoint(), journal_stream_key("p", 3)) ==
        std::vector<std::string>{"task=task n=1 enc=json records=r-b"});

  // One generation later the same hashes are still found (in the previous generation).
  auto again = store.commit("p", 60, 185, "task", packed, 2, "json", batches);
  REQUIRE(again.ok());
  CHECK(again.value->stored == std::vector<int64_t>{0, 1});
  CHECK(again.value->entry_ids.empty());

  auto d = store.write_dead_letters("p", "task", {{"parser", "bad json", "{"}});
  REQUIRE(d.ok());
  CHECK(stream_fields(redis.endpoint(), dead_letter_stream_key("p")) ==
        std::vector<std::string>{"source=parser task=task error=bad json record={"});
  CHECK(redis.cmd({"HGET", stats_key("p"), "dead_lettered"}).str == "1");
}

TEST_CASE("journal_store: Redis down is an error, not a reply", "[storage]") {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(free_port());
  ep.timeout = std::chrono::milliseconds(200);
  journal_store store(ep);
  CHECK_FALSE(store.commit("p", 60, 0, "t", std::string(16, 'a'), 1, "json", {{0, 1, "x"}}).ok());
  CHECK_FALSE(store.write_dead_letters("p", "t", {{"parser", "e", "r"}}).ok());
}
