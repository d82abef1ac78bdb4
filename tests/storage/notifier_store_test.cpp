// storage/notifier_store against a real redis-server: one lease holder at a time, the cursor
// fenced by the lease, the stream's end for a first start, and reads after a cursor.
#include "storage/notifier_store.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;

TEST_CASE("notifier_store: lease, fenced cursor, stream end and reads", "[storage][notifier]") {
  redis_process redis;
  notifier_store a(redis.endpoint()), b(redis.endpoint());

  // An empty stream ends at 0-0; no cursor yet.
  CHECK(*a.stream_end("luffy").value == "0-0");
  CHECK(a.cursor("luffy").value->empty());

  // One holder: a takes it and renews it, b is refused until a releases it.
  CHECK(*a.hold_lease("luffy", "node-a", 10000).value);
  CHECK_FALSE(*b.hold_lease("luffy", "node-b", 10000).value);
  CHECK(*a.hold_lease("luffy", "node-a", 10000).value);
  CHECK(redis.cmd({"GET", notifier_lease_key("luffy")}).str == "node-a");
  CHECK(redis.cmd({"PTTL", notifier_lease_key("luffy")}).integer > 9000);

  // Only the holder moves the cursor.
  CHECK(*a.store_cursor("luffy", "node-a", "5-0").value);
  CHECK_FALSE(*b.store_cursor("luffy", "node-b", "9-0").value);
  CHECK(*a.cursor("luffy").value == "5-0");

  CHECK_FALSE(*b.release_lease("luffy", "node-b").value);
  CHECK(*a.release_lease("luffy", "node-a").value);
  CHECK(*b.hold_lease("luffy", "node-b", 10000).value);
  CHECK_FALSE(*a.store_cursor("luffy", "node-a", "6-0").value);

  // A lease not renewed expires.
  CHECK(*b.release_lease("luffy", "node-b").value);
  CHECK(*a.hold_lease("luffy", "node-a", 50).value);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(*b.hold_lease("luffy", "node-b", 10000).value);

  // Reads after a cursor, oldest first, at most `count`.
  const auto events = events_stream_key("luffy");
  const auto first = redis
                         .cmd({"XADD", events, "*", "type", "new_cluster", "cluster_id", "c1",
                               "service_id", "s", "title", "t1", "at_ms", "5"})
                         .str;
  redis.cmd({"XADD", events, "*", "type", "spike", "cluster_id", "c2", "service_id", "s", "title",
             "t2", "at_ms", "6", "count", "99"});
  redis.cmd({"XADD", events, "*", "type", "merged", "cluster_id", "c3"});
  auto all = b.read_after("luffy", "0-0", 2);
  REQUIRE(all.ok());
  REQUIRE(all.value->size() == 2);
  CHECK((*all.value)[0].stream_id == first);
  CHECK((*all.value)[0].type == "new_cluster");
  CHECK((*all.value)[0].at_ms == 5);
  CHECK((*all.value)[1].type == "spike");
  REQUIRE((*all.value)[1].fields.size() == 1);
  CHECK((*all.value)[1].fields[0] == std::pair<std::string, std::string>{"count", "99"});
  auto rest = b.read_after("luffy", (*all.value)[1].stream_id, 10);
  REQUIRE(rest.value->size() == 1);
  CHECK((*rest.value)[0].type == "merged");
  CHECK(b.read_after("luffy", (*rest.value)[0].stream_id, 10).value->empty());
  CHECK(*b.stream_end("luffy").value == (*rest.value)[0].stream_id);
}
