// storage/shard_lease_store against a real redis-server: heartbeats and liveness by Redis time,
// leases with fencing epochs, renewals that fail once the lease is lost.
#include "storage/shard_lease_store.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "harness.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

TEST_CASE("shard_lease::parse reads the fence value", "[storage][lease]") {
  const auto l = shard_lease::parse("12:1733400000000:node-a:with:colons");
  CHECK(l.epoch == 12);
  CHECK(l.since_ms == 1733400000000);
  CHECK(l.node == "node-a:with:colons");
  CHECK(l.held());
  const auto bad = shard_lease::parse("x:1:n");
  CHECK(bad.epoch == 0);
  CHECK(bad.node.empty());
  CHECK(bad.held());
  CHECK(!shard_lease::parse("").held());
}

TEST_CASE("shard_lease_store: heartbeats, liveness by Redis time, leave", "[storage][lease]") {
  redis_process redis;
  shard_lease_store a(redis.endpoint()), b(redis.endpoint());
  auto va = a.heartbeat("luffy", "node-a", heartbeat_mode::join, 600, 4);
  REQUIRE(va.ok());
  CHECK(va.value->live == std::vector<std::string>{"node-a"});
  CHECK(va.value->leases.size() == 4);
  CHECK(!va.value->leases[0].held());
  CHECK(va.value->now_ms > 1700000000000);
  auto vb = b.heartbeat("luffy", "node-b", heartbeat_mode::join, 600, 4);
  REQUIRE(vb.ok());
  CHECK(vb.value->live == std::vector<std::string>{"node-a", "node-b"});
  // An observer (an ingest node) sees them without joining.
  auto vo = a.heartbeat("luffy", "ingest-1", heartbeat_mode::observe, 600, 0);
  REQUIRE(vo.ok());
  CHECK(vo.value->live.size() == 2);
  // node-a stops heartbeating: after its TTL only node-b is live.
  std::this_thread::sleep_for(700ms);
  vb = b.heartbeat("luffy", "node-b", heartbeat_mode::join, 600, 4);
  REQUIRE(vb.ok());
  CHECK(vb.value->live == std::vector<std::string>{"node-b"});
  // A node that leaves is gone at once.
  REQUIRE(b.heartbeat("luffy", "node-b", heartbeat_mode::leave, 600, 4).ok());
  vo = a.heartbeat("luffy", "x", heartbeat_mode::observe, 600, 4);
  REQUIRE(vo.ok());
  CHECK(vo.value->live.empty());
}

TEST_CASE("shard_lease_store: one holder per shard, epochs grow, a lost lease stays lost",
          "[storage][lease]") {
  redis_process redis;
  shard_lease_store a(redis.endpoint()), b(redis.endpoint());
  auto ca = a.acquire("luffy", 3, "node-a", 500);
  REQUIRE(ca.ok());
  CHECK(ca.value->taken);
  CHECK(ca.value->lease.node == "node-a");
  CHECK(ca.value->lease.epoch == 1);
  const std::string fence_a = ca.value->lease.value;
  // Held: node-b is told who holds it.
  auto cb = b.acquire("luffy", 3, "node-b", 500);
  REQUIRE(cb.ok());
  CHECK(!cb.value->taken);
  CHECK(cb.value->lease.value == fence_a);
  // The heartbeat shows the lease to everyone.
  auto view = b.heartbeat("luffy", "node-b", heartbeat_mode::join, 1000, 4);
  REQUIRE(view.ok());
  CHECK(view.value->leases[3].node == "node-a");
  CHECK(view.value->leases[3].epoch == 1);
  // Renewals keep it past its first TTL.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(200ms);
    auto r = a.renew("luffy", {{3, fence_a}}, 500);
    REQUIRE(r.ok());
    CHECK(r.value->at(0));
  }
  CHECK(!b.acquire("luffy", 3, "node-b", 500).value->taken);
  // node-a pauses past its TTL: node-b takes the shard with a newer epoch...
  std::this_thread::sleep_for(600ms);
  cb = b.acquire("luffy", 3, "node-b", 500);
  REQUIRE(cb.ok());
  CHECK(cb.value->taken);
  CHECK(cb.value->lease.epoch == 2);
  // ...and node-a's renewal, when it wakes, is refused: it must stop writing for shard 3.
  auto late = a.renew("luffy", {{3, fence_a}}, 500);
  REQUIRE(late.ok());
  CHECK(!late.value->at(0));
  CHECK(redis.cmd({"GET", shard_lease_key("luffy", 3)}).str == cb.value->lease.value);
  // Release: only by the holder of the current value.
  auto wrong = a.release("luffy", {{3, fence_a}});
  REQUIRE(wrong.ok());
  CHECK(!wrong.value->at(0));
  auto right = b.release("luffy", {{3, cb.value->lease.value}});
  REQUIRE(right.ok());
  CHECK(right.value->at(0));
  CHECK(redis.cmd({"EXISTS", shard_lease_key("luffy", 3)}).integer == 0);
  // The epoch counter survives the lease: the next holder gets 3, never an old number.
  auto again = a.acquire("luffy", 3, "node-a", 500);
  REQUIRE(again.ok());
  CHECK(again.value->lease.epoch == 3);
  // A node restarted under the same name does not adopt its previous life's lease.
  auto twin = a.acquire("luffy", 3, "node-a", 500);
  REQUIRE(twin.ok());
  CHECK(!twin.value->taken);
}

TEST_CASE("shard_lease_store: Redis down is an error, not a guess", "[storage][lease]") {
  redis_endpoint dead;
  dead.port = static_cast<uint16_t>(free_port());
  dead.timeout = 300ms;
  shard_lease_store s(dead);
  CHECK(!s.heartbeat("luffy", "n", heartbeat_mode::join, 1000, 2).ok());
  CHECK(!s.acquire("luffy", 0, "n", 1000).ok());
  CHECK(!s.renew("luffy", {{0, "1:1:n"}}, 1000).ok());
}
