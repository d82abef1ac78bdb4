// The fence in every counting write (docs/SCALING.md): a shard_store made with the lease value
// its owner got from shard_lease_store writes through apply() and dead_letter_entry() only while
// the shard's lease key holds exactly that value. Against a real redis-server, with real leases:
// a former owner whose lease was taken by a newer epoch, or expired, writes nothing at all (the
// whole keyspace is compared byte for byte, DUMP of every key) and its entries stay in the
// journal for the new owner.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "script_fixture.hpp"
#include "storage/cluster_apply_args.hpp"
#include "storage/keys.hpp"
#include "storage/shard_lease_store.hpp"
#include "storage/shard_store.hpp"

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string prefix = "f";
constexpr uint32_t shard = 5;
const std::string stream = journal_stream_key(prefix, shard);
constexpr int64_t now_ms = 1700000000000;
constexpr int64_t lease_ttl_ms = 60000;

std::string packed_cluster(const std::string& id) {
  cluster_apply_sum a;
  a.id = id;
  a.service_id = "svc";
  a.level = 2;
  a.severity = "ERROR";
  a.title = "title of " + id;
  a.template_text = "template of " + id;
  a.count = 2;
  a.first_us = now_ms * 1000;
  a.last_us = now_ms * 1000;
  a.minutes = {{a.first_us / 60000000, 2}};
  a.samples = {R"({"message":"one"})"};
  a.overflow_id = "overflow-svc";
  return pack_cluster_apply_sum(a);
}

cluster_apply_call make_call() {
  cluster_apply_call c;
  c.now_ms = now_ms;
  c.samples = 5;
  c.spike_multiplier = 5.0;
  c.spike_minimum = 50;
  c.records = 3;
  c.entry_ids = {"100-1", "100-2"};
  c.clusters = {packed_cluster("c1")};
  c.dead = {{"100-2", "fingerprinting failed", R"({"message":"bad"})"}};
  return c;
}

// Two journal entries, 100-1 (2 records) and 100-2 (1), with sweep attempts counted.
void add_entries(const redis_process& redis) {
  redis.cmd({"XADD", stream, "100-1", "task", "t1", "n", "2", "enc", "json", "records", "{}"});
  redis.cmd({"XADD", stream, "100-2", "task", "t2", "n", "1", "enc", "json", "records", "{}"});
  redis.cmd({"HSET", journal_attempts_key(stream), "100-1", "3"});
}

std::string take(shard_lease_store& leases, const std::string& node, int64_t ttl_ms) {
  auto claim = leases.acquire(prefix, shard, node, ttl_ms);
  REQUIRE(claim.ok());
  REQUIRE(claim.value->taken);
  return claim.value->lease.value;
}

}  // namespace

TEST_CASE("shard fence: the holder of the lease applies and dead-letters", "[storage][fence]") {
  redis_process redis;
  add_entries(redis);
  redis.cmd({"XADD", stream, "100-3", "task", "t3", "n", "4", "enc", "json", "records", "{}"});
  shard_lease_store leases(redis.endpoint());
  const std::string held = take(leases, "node-a", lease_ttl_ms);
  shard_store store(redis.endpoint(), prefix, shard, held);
  CHECK(store.fence() == held);
  CHECK(*store.still_holds().value);

  auto r = store.apply(make_call());
  REQUIRE(r.ok());
  CHECK(r.value->applied);
  CHECK_FALSE(r.value->fenced);
  CHECK(r.value->new_clusters == 1);
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "c1"), "count"}).str == "2");
  CHECK(redis.cmd({"XLEN", stream}).integer == 1);  // 100-1 and 100-2 acknowledged

  auto moved = store.dead_letter_entry("100-3", "took it down");
  REQUIRE(moved.ok());
  CHECK(*moved.value == 4);
  CHECK(redis.cmd({"XLEN", stream}).integer == 0);
  CHECK(redis.cmd({"HGET", stats_key(prefix), "dead_lettered"}).str == "5");  // 1 + 4
  CHECK(redis.cmd({"GET", shard_lease_key(prefix, shard)}).str == held);      // only read
}

TEST_CASE("shard fence: a former owner writes nothing once a newer epoch holds the shard",
          "[storage][fence]") {
  redis_process redis;
  add_entries(redis);
  shard_lease_store leases(redis.endpoint());
  const std::string old_lease = take(leases, "node-a", lease_ttl_ms);
  shard_store former(redis.endpoint(), prefix, shard, old_lease);
  // node-a is paused past its lease; the lease is handed on and node-b takes the shard.
  REQUIRE(leases.release(prefix, {{shard, old_lease}}).ok());
  const std::string new_lease = take(leases, "node-b", lease_ttl_ms);
  REQUIRE(shard_lease::parse(new_lease).epoch > shard_lease::parse(old_lease).epoch);
  const auto before = snapshot_keyspace(redis.endpoint());

  auto r = former.apply(make_call());
  REQUIRE(r.ok());
  CHECK_FALSE(r.value->applied);
  CHECK(r.value->fenced);
  CHECK(r.value->holder == new_lease);
  CHECK(r.value->gone.empty());
  auto moved = former.dead_letter_entry("100-1", "took it down");
  REQUIRE(moved.ok());
  CHECK(*moved.value == shard_store::fenced_out);
  CHECK_FALSE(*former.still_holds().value);

  CHECK(snapshot_keyspace(redis.endpoint()) == before);
  CHECK(stream_fields(redis.endpoint(), stream).size() == 2);  // both entries wait for node-b

  // The new owner applies the same entries: counted once, by it.
  shard_store owner(redis.endpoint(), prefix, shard, new_lease);
  auto mine = owner.apply(make_call());
  REQUIRE(mine.ok());
  CHECK(mine.value->applied);
  CHECK(redis.cmd({"HGET", cluster_key(prefix, "c1"), "count"}).str == "2");
  CHECK(redis.cmd({"XLEN", stream}).integer == 0);
}

TEST_CASE("shard fence: a lease that expired fences its holder", "[storage][fence]") {
  redis_process redis;
  add_entries(redis);
  shard_lease_store leases(redis.endpoint());
  const std::string lapsed = take(leases, "node-a", 50);
  shard_store store(redis.endpoint(), prefix, shard, lapsed);
  std::this_thread::sleep_for(150ms);
  REQUIRE(redis.cmd({"EXISTS", shard_lease_key(prefix, shard)}).integer == 0);
  const auto before = snapshot_keyspace(redis.endpoint());

  auto r = store.apply(make_call());
  REQUIRE(r.ok());
  CHECK(r.value->fenced);
  CHECK_FALSE(r.value->applied);
  CHECK(r.value->holder.empty());
  auto moved = store.dead_letter_entry("100-1", "took it down");
  REQUIRE(moved.ok());
  CHECK(*moved.value == shard_store::fenced_out);
  CHECK_FALSE(*store.still_holds().value);

  CHECK(snapshot_keyspace(redis.endpoint()) == before);
  CHECK(redis.cmd({"XLEN", stream}).integer == 2);
}

TEST_CASE("shard fence: dead_letter_entry of a former owner writes nothing", "[storage][fence]") {
  redis_process redis;
  add_entries(redis);
  shard_lease_store leases(redis.endpoint());
  const std::string old_lease = take(leases, "node-a", lease_ttl_ms);
  shard_store former(redis.endpoint(), prefix, shard, old_lease);
  REQUIRE(leases.release(prefix, {{shard, old_lease}}).ok());
  const std::string new_lease = take(leases, "node-b", lease_ttl_ms);
  const auto before = snapshot_keyspace(redis.endpoint());

  auto moved = former.dead_letter_entry("100-1", "took it down");
  REQUIRE(moved.ok());
  CHECK(*moved.value == shard_store::fenced_out);
  CHECK(snapshot_keyspace(redis.endpoint()) == before);
  CHECK(redis.cmd({"EXISTS", dead_letter_stream_key(prefix)}).integer == 0);
  CHECK(redis.cmd({"HGET", journal_attempts_key(stream), "100-1"}).str == "3");

  // The holder moves it.
  shard_store owner(redis.endpoint(), prefix, shard, new_lease);
  auto ok = owner.dead_letter_entry("100-1", "took it down");
  REQUIRE(ok.ok());
  CHECK(*ok.value == 2);
  CHECK(stream_fields(redis.endpoint(), dead_letter_stream_key(prefix)).size() == 1);
}

TEST_CASE("shard fence: an empty fence checks nothing (one process, no leases)",
          "[storage][fence]") {
  redis_process redis;
  add_entries(redis);
  redis.cmd({"XADD", stream, "100-3", "task", "t3", "n", "4", "enc", "json", "records", "{}"});
  // Someone else's lease, or none: an unfenced store does not look.
  shard_lease_store leases(redis.endpoint());
  take(leases, "node-b", lease_ttl_ms);
  shard_store store(redis.endpoint(), prefix, shard);
  CHECK(store.fence().empty());
  CHECK(*store.still_holds().value);

  auto r = store.apply(make_call());
  REQUIRE(r.ok());
  CHECK(r.value->applied);
  CHECK_FALSE(r.value->fenced);
  auto moved = store.dead_letter_entry("100-3", "took it down");
  REQUIRE(moved.ok());
  CHECK(*moved.value == 4);
  CHECK(redis.cmd({"XLEN", stream}).integer == 0);
}
