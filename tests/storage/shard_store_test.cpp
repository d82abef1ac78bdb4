// storage/shard_store against a real redis-server: the keys of one shard it reads and writes, what
// it returns, and that apply() runs cluster_apply with exactly the arguments the cluster shard
// built before the store existed (same Redis writes).
#include <catch2/catch.hpp>

#include "script_fixture.hpp"
#include "storage/cluster_apply_args.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"
#include "storage/shard_store.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "s";
const std::string stream = journal_stream_key(prefix, 2);
constexpr int64_t now_ms = 1700000000000;

std::string packed_cluster(const std::string& id, const std::string& svc) {
  cluster_apply_sum a;
  a.id = id;
  a.service_id = svc;
  a.level = 2;
  a.severity = "ERROR";
  a.exception_type = "java.lang.IllegalStateException";
  a.title = "title of " + id;
  a.template_text = "template of " + id;
  a.language = "java";
  a.count = 2;
  a.first_us = now_ms * 1000 - 60'000'000;
  a.last_us = now_ms * 1000;
  a.minutes = {{a.first_us / 60000000, 1}, {a.last_us / 60000000, 1}};
  a.hosts = {"host-a"};
  a.environments = {"prod"};
  a.samples = {R"({"message":"one"})"};
  a.overflow_id = "overflow-" + svc;
  return pack_cluster_apply_sum(a);
}

cluster_apply_call make_call(std::vector<std::string> entry_ids) {
  cluster_apply_call c;
  c.max_new_clusters_per_minute = 0;
  c.now_ms = now_ms;
  c.samples = 5;
  c.spike_multiplier = 5.0;
  c.spike_minimum = 50;
  c.records = 3;
  c.entry_ids = std::move(entry_ids);
  c.clusters = {packed_cluster("c1", "svc"), packed_cluster("c2", "svc")};
  c.dead = {{c.entry_ids.front(), "fingerprinting failed: boom", R"({"message":"bad"})"}};
  return c;
}

// The arguments as actors/cluster_shard.cpp built them itself before shard_store existed
// (commit 2c2829e): settings through std::to_string, then ids, clusters, dead letters; with the
// fence that came later (ARGV[8], "": unfenced) before the ids.
std::vector<std::string> args_as_the_shard_built_them(const cluster_apply_call& c) {
  std::vector<std::string> args{std::to_string(c.max_new_clusters_per_minute),
                                std::to_string(c.now_ms),
                                prefix,
                                std::to_string(c.samples),
                                std::to_string(c.spike_multiplier),
                                std::to_string(c.spike_minimum),
                                std::to_string(c.records),
                                "",
                                std::to_string(c.entry_ids.size())};
  args.insert(args.end(), c.entry_ids.begin(), c.entry_ids.end());
  args.push_back(std::to_string(c.clusters.size()));
  args.insert(args.end(), c.clusters.begin(), c.clusters.end());
  args.push_back(std::to_string(c.dead.size()));
  for (const auto& d : c.dead) {
    args.insert(args.end(), {d.entry, d.error, d.record});
  }
  return args;
}

redis_endpoint down_endpoint() {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(free_port());
  ep.timeout = std::chrono::milliseconds(200);
  return ep;
}

}  // namespace

TEST_CASE("shard_store: templates come back in the order they were made", "[storage]") {
  redis_process redis;
  shard_store store(redis.endpoint(), prefix, 2);
  auto none = store.read_templates("svc");
  REQUIRE(none.ok());
  CHECK(none.value->empty());

  redis.cmd({"HSET", service_templates_key(prefix, "svc"), "b", "2\tB <*>", "a", "2\tA <*>", "z",
             "1\tZ <*>", "broken", "no tab here"});
  auto r = store.read_templates("svc");
  REQUIRE(r.ok());
  REQUIRE(r.value->size() == 3);
  CHECK(r.value->at(0).anchor == "z");
  CHECK(r.value->at(0).ordinal == 1);
  CHECK(r.value->at(0).text == "Z <*>");
  CHECK(r.value->at(1).anchor == "a");
  CHECK(r.value->at(2).anchor == "b");
  CHECK(r.value->at(2).text == "B <*>");
  CHECK(store.read_templates("other").value->empty());
}

TEST_CASE("shard_store: the legacy window starts at the first call and stays", "[storage]") {
  redis_process redis;
  shard_store store(redis.endpoint(), prefix, 2);
  auto first = store.legacy_window_start(1000);
  REQUIRE(first.ok());
  CHECK(*first.value == 1000);
  auto later = store.legacy_window_start(5000);
  REQUIRE(later.ok());
  CHECK(*later.value == 1000);
  CHECK(redis.cmd({"GET", grouping_transition_key(prefix)}).str == "1000");
}

TEST_CASE("shard_store: apply writes what the shard's own arguments wrote", "[storage]") {
  redis_process redis;
  const redis_endpoint now_ep = redis.endpoint();
  redis_endpoint ref_ep = now_ep;
  ref_ep.db = 1;
  for (const auto& ep : {now_ep, ref_ep}) {
    redis_client c(ep);
    for (const std::string id : {"100-1", "100-2"}) {
      REQUIRE(c.command({"XADD", stream, id, "task", "t", "n", "2", "enc", "json", "records", "{}"})
                  .ok());
    }
  }
  shard_store store(now_ep, prefix, 2);
  const auto call = make_call({"100-1", "100-2"});
  auto r = store.apply(call);
  REQUIRE(r.ok());
  CHECK(r.value->applied);
  CHECK(r.value->new_clusters == 2);
  CHECK(r.value->overflowed.empty());
  CHECK(r.value->gone.empty());

  auto want = run_script(ref_ep, cluster_apply_lua,
                         {stream, events_stream_key(prefix), shard_lease_key(prefix, 2)},
                         args_as_the_shard_built_them(call));
  CHECK(want.elements.at(0).integer == 1);
  CHECK(dump_keyspace(now_ep) == dump_keyspace(ref_ep));
  CHECK(redis.cmd({"XLEN", stream}).integer == 0);  // acknowledged
  CHECK(redis.cmd({"HGET", stats_key(prefix), "dead_lettered"}).str == "1");

  SECTION("entries applied before are named, and nothing is written") {
    const auto before = dump_keyspace(now_ep);
    auto again = store.apply(call);
    REQUIRE(again.ok());
    CHECK_FALSE(again.value->applied);
    CHECK(again.value->gone == std::vector<std::string>{"100-1", "100-2"});
    CHECK(dump_keyspace(now_ep) == before);
  }
}

TEST_CASE("shard_store: apply reports the services over their new-cluster bound", "[storage]") {
  redis_process redis;
  redis.cmd({"XADD", stream, "100-1", "task", "t", "n", "3", "enc", "json", "records", "{}"});
  shard_store store(redis.endpoint(), prefix, 2);
  auto call = make_call({"100-1"});
  call.max_new_clusters_per_minute = 1;
  call.dead.clear();
  auto r = store.apply(call);
  REQUIRE(r.ok());
  CHECK(r.value->applied);
  CHECK(r.value->overflowed == std::vector<std::string>{"svc"});
}

TEST_CASE("shard_store: entries, lag, attempts and the dead-letter stream", "[storage]") {
  redis_process redis;
  shard_store store(redis.endpoint(), prefix, 2);
  CHECK(store.stream() == stream);
  auto empty = store.oldest_entry_id();
  REQUIRE(empty.ok());
  CHECK_FALSE(empty.value->has_value());
  CHECK(store.read_entries(4).value->empty());

  redis.cmd({"XADD", stream, "10-1", "task", "t1", "n", "2", "records", "old"});  // before `enc`
  redis.cmd({"XADD", stream, "11-1", "task", "t2", "n", "1", "enc", "zstd", "records", "z"});
  redis.cmd({"XADD", stream, "12-1", "task", "t3", "n", "1", "enc", "json", "records", "j"});
  redis.cmd({"XADD", journal_stream_key(prefix, 3), "9-1", "task", "x", "records", "x"});

  CHECK(store.oldest_entry_id().value->value() == "10-1");
  auto two = store.read_entries(2);
  REQUIRE(two.ok());
  REQUIRE(two.value->size() == 2);
  CHECK(two.value->at(0).id == "10-1");
  CHECK(two.value->at(0).encoding == "json");
  CHECK(two.value->at(0).payload == "old");
  CHECK(two.value->at(1).id == "11-1");
  CHECK(two.value->at(1).encoding == "zstd");
  CHECK(two.value->at(1).payload == "z");
  CHECK(store.read_entries(10).value->size() == 3);

  CHECK(*store.count_attempt("10-1").value == 1);
  CHECK(*store.count_attempt("10-1").value == 2);
  CHECK(*store.uncount_attempt("10-1").value == 1);
  CHECK(redis.cmd({"HGET", journal_attempts_key(stream), "10-1"}).str == "1");

  auto moved = store.dead_letter_entry("10-1", "took cluster shard 2 down 3 times");
  REQUIRE(moved.ok());
  CHECK(*moved.value == 2);
  CHECK(stream_fields(redis.endpoint(), dead_letter_stream_key(prefix)) ==
        std::vector<std::string>{"source=cluster_shard entry=10-1 error=took cluster shard 2 down "
                                 "3 times task=t1 n=2 records=old stream=" +
                                 stream});
  CHECK(redis.cmd({"HGET", stats_key(prefix), "dead_lettered"}).str == "2");
  CHECK(redis.cmd({"HEXISTS", journal_attempts_key(stream), "10-1"}).integer == 0);
  CHECK(store.oldest_entry_id().value->value() == "11-1");
  auto gone = store.dead_letter_entry("10-1", "again");
  REQUIRE(gone.ok());
  CHECK(*gone.value == 0);
}

TEST_CASE("shard_store: Redis down is an error on every call", "[storage]") {
  shard_store store(down_endpoint(), prefix, 2);
  CHECK_FALSE(store.read_templates("svc").ok());
  CHECK_FALSE(store.legacy_window_start(1000).ok());
  CHECK_FALSE(store.apply(make_call({"1-1"})).ok());
  CHECK_FALSE(store.read_entries(4).ok());
  CHECK_FALSE(store.oldest_entry_id().ok());
  CHECK_FALSE(store.count_attempt("1-1").ok());
  CHECK_FALSE(store.uncount_attempt("1-1").ok());
  CHECK_FALSE(store.dead_letter_entry("1-1", "e").ok());
}

TEST_CASE("shard_store: a script error from apply is an error", "[storage]") {
  redis_process redis;
  redis.cmd({"SET", stream, "not a stream"});  // XRANGE in the script answers WRONGTYPE
  shard_store store(redis.endpoint(), prefix, 2);
  auto r = store.apply(make_call({"100-1"}));
  CHECK_FALSE(r.ok());
  CHECK(r.error.message.find("unexpected reply") != std::string::npos);
}
