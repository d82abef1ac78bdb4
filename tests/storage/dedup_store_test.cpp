// storage/dedup_store against a real redis-server: which generations it reads and what it returns.
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/dedup_store.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;

TEST_CASE("dedup_store: a hash is stored when in the current or the previous generation",
          "[storage]") {
  redis_process redis;
  dedup_store store(redis.endpoint());
  const record_hash in_cur{1, 2}, in_prev{3, 4}, too_old{5, 6}, never{7, 8};
  // now 125 s with a 60 s window: generation 2, previous 1; generation 0 is out of the window.
  redis.cmd({"SADD", dedup_set_key("p", 2), to_bytes(in_cur)});
  redis.cmd({"SADD", dedup_set_key("p", 1), to_bytes(in_prev)});
  redis.cmd({"SADD", dedup_set_key("p", 0), to_bytes(too_old)});
  redis.cmd({"SADD", dedup_set_key("other", 2), to_bytes(never)});  // another prefix

  auto r = store.stored("p", 60, 125, {never, in_prev, too_old, in_cur, in_cur});
  REQUIRE(r.ok());
  CHECK(*r.value == std::vector<uint8_t>{0, 1, 0, 1, 1});

  // One generation later, generation 1 is out of the window too.
  auto later = store.stored("p", 60, 185, {in_prev, in_cur});
  REQUIRE(later.ok());
  CHECK(*later.value == std::vector<uint8_t>{0, 1});

  auto none = store.stored("p", 60, 125, {});
  REQUIRE(none.ok());
  CHECK(none.value->empty());
}

TEST_CASE("dedup_store: Redis down is an error, not a verdict", "[storage]") {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(free_port());
  ep.timeout = std::chrono::milliseconds(200);
  dedup_store store(ep);
  auto r = store.stored("p", 60, 125, {record_hash{1, 2}});
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.error.message.empty());
}

TEST_CASE("dedup_store: an unexpected reply is an error", "[storage]") {
  redis_process redis;
  dedup_store store(redis.endpoint());
  redis.cmd({"SET", dedup_set_key("p", 2), "not a set"});  // SMISMEMBER answers WRONGTYPE
  auto r = store.stored("p", 60, 125, {record_hash{1, 2}});
  CHECK_FALSE(r.ok());
  CHECK(r.error.message.find("unexpected reply") != std::string::npos);
}
