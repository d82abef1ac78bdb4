// storage/lua/cluster_apply.lua against a real redis-server: what it writes, and that it writes
// exactly what the positional script it replaced wrote (tests/storage/fixtures), so a Redis
// written by the previous binary reads the same with this one.
#include <catch2/catch.hpp>
#include <optional>

#include "script_fixture.hpp"
#include "storage/cluster_apply_args.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

const std::string prefix = "t";
const std::string stream = journal_stream_key(prefix, 0);
const std::string events = events_stream_key(prefix);
const std::string lease = shard_lease_key(prefix, 0);
constexpr int64_t now_ms = 1700000000000;  // minute 28333333

struct dead_letter {
  std::string entry, error, record;
};

struct apply_call {
  int64_t cap = 0;
  uint64_t records = 0;
  std::vector<std::string> entry_ids;
  std::vector<cluster_apply_sum> sums;
  std::vector<dead_letter> dead;
};

// `fence`: the lease value ARGV[8] of the current script; nullopt for the positional script,
// which has no such argument.
std::vector<std::string> head_args(const apply_call& c, std::optional<std::string> fence) {
  std::vector<std::string> args{
      std::to_string(c.cap), std::to_string(now_ms),   prefix, "3", std::to_string(10.0),
      std::to_string(5),     std::to_string(c.records)};
  if (fence) {
    args.push_back(*fence);
  }
  args.push_back(std::to_string(c.entry_ids.size()));
  args.insert(args.end(), c.entry_ids.begin(), c.entry_ids.end());
  args.push_back(std::to_string(c.sums.size()));
  return args;
}

void tail_args(const apply_call& c, std::vector<std::string>& args) {
  args.push_back(std::to_string(c.dead.size()));
  for (const auto& d : c.dead) {
    args.insert(args.end(), {d.entry, d.error, d.record});
  }
}

// The arguments as actors/cluster_shard.cpp built them for the positional script (0721043).
std::vector<std::string> positional_args(const apply_call& c) {
  auto args = head_args(c, std::nullopt);
  for (const auto& s : c.sums) {
    std::string minutes, hosts, envs, samples;
    for (const auto& [m, n] : s.minutes) {
      minutes += std::to_string(m) + ":" + std::to_string(n) + ",";
    }
    for (const auto& h : s.hosts) {
      hosts += h + "\n";
    }
    for (const auto& v : s.environments) {
      envs += v + "\n";
    }
    for (const auto& v : s.samples) {
      samples += v + "\n";
    }
    args.insert(args.end(), {s.id,
                             s.service_id,
                             std::to_string(s.level),
                             s.severity,
                             s.exception_type,
                             s.title,
                             s.template_text,
                             s.culprit,
                             s.language,
                             std::to_string(s.count),
                             std::to_string(s.first_us),
                             std::to_string(s.last_us),
                             minutes,
                             hosts,
                             envs,
                             samples,
                             s.template_anchor,
                             s.template_ordinal ? std::to_string(*s.template_ordinal) : "",
                             s.overflow_id,
                             s.legacy_id});
  }
  tail_args(c, args);
  return args;
}

std::vector<std::string> packed_args(const apply_call& c, const std::string& fence = "") {
  auto args = head_args(c, fence);
  for (const auto& s : c.sums) {
    args.push_back(pack_cluster_apply_sum(s));
  }
  tail_args(c, args);
  return args;
}

cluster_apply_sum make_sum(std::string id, std::string svc, int level, uint64_t count,
                           int64_t first_us, int64_t last_us) {
  cluster_apply_sum s;
  s.id = std::move(id);
  s.service_id = std::move(svc);
  s.level = level;
  s.severity = "error";
  s.exception_type = level == 3 ? "" : "java.lang.IllegalStateException";
  s.title = "title of " + s.id;
  s.template_text = "template of " + s.id;
  s.culprit = level == 1 ? "com.example.Foo.bar" : "";
  s.language = "java";
  s.count = count;
  s.first_us = first_us;
  s.last_us = last_us;
  s.minutes = {{first_us / 60000000, count}};
  s.hosts = {"host-a", "host-b"};
  s.environments = {"prod"};
  s.samples = {R"({"message":"one"})", R"({"message":"two"})"};
  s.overflow_id = "overflow-" + s.service_id;
  return s;
}

// Two databases of one server: the new script writes db 0, the positional reference db 1.
struct twin {
  redis_process redis;
  redis_endpoint now_ep = redis.endpoint(), ref_ep = [&] {
    auto ep = redis.endpoint();
    ep.db = 1;
    return ep;
  }();
  std::string reference = source_file("tests/storage/fixtures/cluster_apply_positional.lua");

  void both(const std::vector<std::string>& cmd) {
    for (const auto& ep : {now_ep, ref_ep}) {
      redis_client c(ep);
      std::vector<std::string_view> v(cmd.begin(), cmd.end());
      REQUIRE(c.command(v).ok());
    }
  }
  void add_entries(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      both({"XADD", stream, id, "task", "t", "n", "1", "enc", "json", "records", "{}"});
    }
  }
  // Applies `c` to both databases, the current script with `fence` (its lease key is not
  // written by the positional one: a test that sets it sets it in both); REQUIREs the same reply
  // and the same keyspace after.
  redis_value apply(const apply_call& c, const std::string& fence = "") {
    auto got =
        run_script(now_ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, fence));
    auto want = run_script(ref_ep, reference, {stream, events}, positional_args(c));
    REQUIRE(got.elements.size() == want.elements.size());
    REQUIRE(got.elements.at(0).integer == want.elements.at(0).integer);
    // The reference predates retention: the current script also dates each cluster in
    // <prefix>:clusters:by_received and names a level-3 cluster's template_anchor (what
    // cluster_forget.lua needs); both are left out of the comparison, and the retention tests
    // (tests/storage/retention_store_test.cpp, [retention]) check them.
    auto now = dump_keyspace(now_ep);
    const auto ref = dump_keyspace(ref_ep);
    now.erase(clusters_received_key(prefix));
    for (auto& [key, value] : now) {
      const auto at = value.find("|template_anchor=");
      if (at != std::string::npos) {
        value.erase(at, value.find('|', at + 1) - at);
      }
    }
    for (const auto& [key, value] : ref) {
      INFO(key);
      REQUIRE(now.count(key) == 1);
      CHECK(now.at(key) == value);
    }
    CHECK(now.size() == ref.size());
    return got;
  }
  std::string hget(const std::string& key, const std::string& field) {
    redis_client c(now_ep);
    return c.command({"HGET", key, field}).value->str;
  }
};

constexpr int64_t t0 = now_ms * 1000 - 120'000'000;  // event time two minutes before now

}  // namespace

TEST_CASE("cluster_apply: new clusters, dead letters, acknowledgement", "[storage]") {
  twin t;
  t.add_entries({"100-1", "100-2"});
  apply_call c;
  c.entry_ids = {"100-1", "100-2"};
  c.records = 5;
  c.sums.push_back(make_sum("a1", "svc1", 1, 3, t0, t0 + 5'000'000));
  auto b = make_sum("b3", "svc1", 3, 2, t0, t0);
  b.template_anchor = "anchor-b";
  b.template_ordinal = 7;
  c.sums.push_back(b);
  c.dead.push_back({"100-2", "boom", R"({"message":"bad"})"});
  auto r = t.apply(c);
  REQUIRE(r.elements.at(0).integer == 1);
  CHECK(r.elements.at(1).integer == 2);  // new clusters

  CHECK(t.hget(cluster_key(prefix, "a1"), "count") == "3");
  CHECK(t.hget(cluster_key(prefix, "a1"), "status") == "open");
  CHECK(t.hget(cluster_key(prefix, "a1"), "first_seen_us") == std::to_string(t0));
  CHECK(t.hget(service_templates_key(prefix, "svc1"), "anchor-b") == "7\ttemplate of b3");
  CHECK(t.hget(stats_key(prefix), "processed") == "5");
  CHECK(t.hget(stats_key(prefix), "clusters") == "2");
  CHECK(t.hget(stats_key(prefix), "dead_lettered") == "1");
  redis_client rc(t.now_ep);
  CHECK(rc.command({"XLEN", stream}).value->integer == 0);  // acknowledged
  CHECK(rc.command({"SCARD", cluster_hosts_key(prefix, "a1")}).value->integer == 2);
  CHECK(rc.command({"LLEN", cluster_samples_key(prefix, "a1")}).value->integer == 2);
  CHECK(rc.command({"ZSCORE", clusters_index_key(prefix, "count"), "a1"}).value->str == "3");
  CHECK(rc.command({"ZSCORE", service_index_key(prefix, "svc1", "last_seen"), "a1"}).value->str ==
        std::to_string((t0 + 5'000'000) / 1000));
  CHECK(rc.command({"HGET", cluster_minutes_key(prefix, "a1"), std::to_string(t0 / 60000000)})
            .value->str == "3");
  CHECK(stream_fields(t.now_ep, events).size() == 2);  // two new_cluster events
  CHECK(stream_fields(t.now_ep, dead_letter_stream_key(prefix)).at(0) ==
        R"(source=cluster_shard entry=100-2 error=boom record={"message":"bad"})");

  SECTION("applying the same entries again changes nothing") {
    auto again = t.apply(c);
    REQUIRE(again.elements.at(0).integer == 0);
    REQUIRE(again.elements.at(1).elements.size() == 2);  // both entries named as gone
    CHECK(t.hget(cluster_key(prefix, "a1"), "count") == "3");
    CHECK(t.hget(stats_key(prefix), "processed") == "5");
  }
  SECTION("a later entry adds to the existing cluster; a resolved one regresses") {
    t.both({"HSET", cluster_key(prefix, "a1"), "status", "resolved"});
    t.add_entries({"200-1"});
    apply_call d;
    d.entry_ids = {"200-1"};
    d.records = 4;
    d.sums.push_back(make_sum("a1", "svc1", 1, 4, t0 - 60'000'000, t0 + 60'000'000));
    auto r2 = t.apply(d);
    REQUIRE(r2.elements.at(0).integer == 1);
    CHECK(r2.elements.at(1).integer == 0);
    CHECK(t.hget(cluster_key(prefix, "a1"), "count") == "7");
    CHECK(t.hget(cluster_key(prefix, "a1"), "status") == "open");
    CHECK(t.hget(cluster_key(prefix, "a1"), "first_seen_us") == std::to_string(t0 - 60'000'000));
    CHECK(rc.command({"LLEN", cluster_samples_key(prefix, "a1")}).value->integer == 3);  // keep
  }
}

TEST_CASE("cluster_apply: an entry with no clusters is only acknowledged", "[storage]") {
  twin t;
  t.add_entries({"5-1"});
  apply_call c;
  c.entry_ids = {"5-1"};
  auto r = t.apply(c);
  REQUIRE(r.elements.at(0).integer == 1);
  CHECK(t.hget(stats_key(prefix), "processed") == "0");
  redis_client rc(t.now_ep);
  CHECK(rc.command({"XLEN", stream}).value->integer == 0);
}

TEST_CASE("cluster_apply: an entry no longer in the journal writes nothing", "[storage]") {
  twin t;
  apply_call c;
  c.entry_ids = {"9-9"};  // never added
  c.records = 1;
  c.sums.push_back(make_sum("x", "svc1", 2, 1, t0, t0));
  auto r = t.apply(c);
  REQUIRE(r.elements.at(0).integer == 0);
  CHECK(r.elements.at(1).elements.at(0).str == "9-9");
  CHECK(dump_keyspace(t.now_ep).empty());
}

TEST_CASE("cluster_apply: the new-cluster bound folds a flood into the overflow cluster",
          "[storage]") {
  twin t;
  t.add_entries({"300-1"});
  apply_call c;
  c.cap = 1;
  c.entry_ids = {"300-1"};
  for (int i = 0; i < 4; ++i) {
    auto s = make_sum("f" + std::to_string(i), "svc2", 2, 2, t0 + i, t0 + 10 * i);
    s.hosts = {"h" + std::to_string(i)};
    s.environments = {"env\nwith a newline"};  // split as the joined form was
    s.minutes = {{-3, 1}, {3, 1}};             // before 1970: the sign never reached Redis
    c.sums.push_back(s);
    c.records += 2;
  }
  auto r = t.apply(c);
  REQUIRE(r.elements.at(0).integer == 1);
  CHECK(r.elements.at(1).integer == 2);  // one under the bound, plus the overflow cluster
  REQUIRE(r.elements.at(2).elements.size() == 1);
  CHECK(r.elements.at(2).elements.at(0).str == "svc2");
  CHECK(t.hget(cluster_key(prefix, "overflow-svc2"), "count") == "6");
  redis_client rc(t.now_ep);
  CHECK(rc.command({"GET", service_new_clusters_key(prefix, "svc2", now_ms / 60000)}).value->str ==
        "1");
  CHECK(rc.command({"EXISTS", service_explosion_key(prefix, "svc2")}).value->integer == 1);
  CHECK(rc.command({"HGET", cluster_minutes_key(prefix, "overflow-svc2"), "3"}).value->str == "6");
}

TEST_CASE("cluster_apply: counts stay exact up to 2^52 and redirects are followed", "[storage]") {
  twin t;
  t.add_entries({"400-1", "400-2"});
  apply_call c;
  c.entry_ids = {"400-1"};
  c.records = 1;
  c.sums.push_back(make_sum("big", "svc3", 2, (uint64_t{1} << 52) + 1, t0, t0));
  t.apply(c);
  CHECK(t.hget(cluster_key(prefix, "big"), "count") == "4503599627370497");
  // A new id whose legacy id is a known cluster becomes a redirect to it.
  apply_call d;
  d.entry_ids = {"400-2"};
  d.records = 2;
  auto s = make_sum("new-id", "svc3", 2, 2, t0, t0 + 1);
  s.legacy_id = "big";
  d.sums.push_back(s);
  t.apply(d);
  CHECK(t.hget(cluster_key(prefix, "new-id"), "merged_into") == "big");
  CHECK(t.hget(cluster_key(prefix, "big"), "count") == "4503599627370499");
}

// The fence (docs/SCALING.md): ARGV[8] is the lease value the caller holds; the script writes
// only while KEYS[3] holds exactly it. shard_fence_test.cpp runs the same through shard_store
// with real leases.
TEST_CASE("cluster_apply: a fence that still holds writes what the unfenced script writes",
          "[storage][fence]") {
  twin t;
  const std::string held = "3:1700000000000:node-a";
  t.both({"SET", lease, held, "PX", "60000"});
  t.add_entries({"600-1"});
  apply_call c;
  c.entry_ids = {"600-1"};
  c.records = 2;
  c.sums.push_back(make_sum("k1", "svc1", 2, 2, t0, t0));
  auto r = t.apply(c, held);
  REQUIRE(r.elements.at(0).integer == 1);
  CHECK(t.hget(cluster_key(prefix, "k1"), "count") == "2");
  redis_client rc(t.now_ep);
  CHECK(rc.command({"XLEN", stream}).value->integer == 0);
}

TEST_CASE("cluster_apply: a fence that no longer holds writes nothing", "[storage][fence]") {
  redis_process redis;
  const auto ep = redis.endpoint();
  for (const std::string id : {"700-1", "700-2"}) {
    redis.cmd({"XADD", stream, id, "task", "t", "n", "1", "enc", "json", "records", "{}"});
  }
  redis.cmd({"HSET", journal_attempts_key(stream), "700-1", "2"});
  apply_call c;
  c.entry_ids = {"700-1", "700-2"};
  c.records = 2;
  c.sums.push_back(make_sum("k2", "svc1", 2, 2, t0, t0));
  c.dead.push_back({"700-2", "boom", "{}"});
  const std::string mine = "1:1700000000000:node-a";

  SECTION("a newer epoch holds the lease") {
    const std::string theirs = "2:1700000005000:node-b";
    redis.cmd({"SET", lease, theirs, "PX", "60000"});
    const auto before = snapshot_keyspace(ep);
    auto r = run_script(ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, mine));
    CHECK(r.elements.at(0).integer == -1);
    CHECK(r.elements.at(1).str == theirs);
    CHECK(snapshot_keyspace(ep) == before);
    CHECK(redis.cmd({"XLEN", stream}).integer == 2);
  }
  SECTION("the lease expired") {
    const auto before = snapshot_keyspace(ep);
    auto r = run_script(ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, mine));
    CHECK(r.elements.at(0).integer == -1);
    CHECK(r.elements.at(1).str.empty());
    CHECK(snapshot_keyspace(ep) == before);
  }
  SECTION("only the exact value matches, not one that starts with it") {
    redis.cmd({"SET", lease, "1:1700000000000:node-a-2", "PX", "60000"});  // a prefix of mine
    const auto before = snapshot_keyspace(ep);
    auto r = run_script(ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, mine));
    CHECK(r.elements.at(0).integer == -1);
    CHECK(snapshot_keyspace(ep) == before);
  }
  SECTION("it is checked before the entries: gone entries are not named to a fenced caller") {
    c.entry_ids = {"9-9"};
    auto r = run_script(ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, mine));
    CHECK(r.elements.at(0).integer == -1);
  }
  SECTION("an empty fence checks nothing") {
    redis.cmd({"SET", lease, "2:1700000005000:node-b", "PX", "60000"});
    auto r = run_script(ep, cluster_apply_lua, {stream, events, lease}, packed_args(c, ""));
    CHECK(r.elements.at(0).integer == 1);
    CHECK(redis.cmd({"XLEN", stream}).integer == 0);
  }
}
