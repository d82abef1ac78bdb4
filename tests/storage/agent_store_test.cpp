// storage/agent_store (storage/lua/agent_flush.lua, agent_silent.lua) against a real
// redis-server: the scripts write the keys storage/keys.hpp names, two nodes' checks emit each
// silent/back transition once, lists stay bounded, and agents without a valid token stop creating
// agents once max_known are known.
#include "storage/agent_store.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "harness.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;

namespace {

agent_delta delta(const std::string& ua, bool authenticated = true) {
  agent_delta d;
  d.address = "10.0.0.1";
  d.user_agent = ua;
  d.id = agent_id(d.address, d.user_agent);
  d.authenticated = authenticated;
  d.requests = 2;
  d.records = 7;
  d.duplicates = 1;
  d.refused_4xx = 1;
  d.last_status = 202;
  d.formats = {2, 0, 0, 1};
  d.hostnames = {"node-a"};
  d.services = {"checkout"};
  const int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  d.minutes = {{minute, 7}};
  return d;
}

int count_events(const redis_process& redis, const std::string& type, const std::string& id) {
  int n = 0;
  for (const auto& e : stream_entries(redis, events_stream_key("luffy"))) {
    if (e.count("type") && e.at("type") == type && e.count("agent_id") && e.at("agent_id") == id) {
      ++n;
    }
  }
  return n;
}

constexpr int64_t kRetention = 3600 * 1000;

}  // namespace

TEST_CASE("agent_flush writes the keys of the schema and adds deltas up", "[storage][agents]") {
  redis_process redis;
  agent_store store(redis.endpoint());
  auto d = delta("Fluent-Bit/4.2.8");
  auto r = store.flush("luffy", {d}, kRetention, 100);
  REQUIRE(r.ok());
  CHECK(r.value->known == 1);
  CHECK(r.value->silent == 0);
  d.hostnames = {"node-b", "node-a"};
  REQUIRE(store.flush("luffy", {d}, kRetention, 100).ok());

  const std::string key = agent_key("luffy", d.id);
  CHECK(redis.cmd({"HGET", key, "records"}).str == "14");
  CHECK(redis.cmd({"HGET", key, "requests"}).str == "4");
  CHECK(redis.cmd({"HGET", key, "fmt_gzip"}).str == "2");
  CHECK(redis.cmd({"HGET", key, "hostnames"}).str == "node-a\nnode-b");
  CHECK(redis.cmd({"HLEN", agent_minutes_key("luffy", d.id)}).integer == 1);
  CHECK(redis.cmd({"TTL", key}).integer > 3500);
  CHECK(redis.cmd({"TTL", agent_minutes_key("luffy", d.id)}).integer > 3500);
  CHECK(redis.cmd({"ZSCORE", agents_index_key("luffy"), d.id}).type == redis_value::kind::string);
  CHECK(redis.cmd({"ZSCORE", agents_awake_key("luffy"), d.id}).type == redis_value::kind::string);

  agent_query q;
  auto page = store.page("luffy", q);
  REQUIRE(page.ok());
  REQUIRE(page.value->agents.size() == 1);
  CHECK(page.value->agents[0].fields["user_agent"] == "Fluent-Bit/4.2.8");
  CHECK(page.value->agents[0].minutes.begin()->second == 14);
  q.all_services = false;
  q.services = {"billing"};
  CHECK(store.page("luffy", q).value->agents.empty());
  q.services = {"billing", "checkout"};
  CHECK(store.page("luffy", q).value->agents.size() == 1);
}

TEST_CASE("agent_silent: two nodes checking at once flag an agent and emit its events once",
          "[storage][agents]") {
  redis_process redis;
  agent_store node_a(redis.endpoint()), node_b(redis.endpoint());
  auto d = delta("fb");
  REQUIRE(node_a.flush("luffy", {d}, kRetention, 100).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto ra = node_a.check_silent("luffy", 10, 1000, kRetention);
  auto rb = node_b.check_silent("luffy", 10, 1000, kRetention);
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  CHECK(ra.value->changed + rb.value->changed == 1);
  CHECK(rb.value->silent == 1);
  CHECK(count_events(redis, "agent_silent", d.id) == 1);
  CHECK(redis.cmd({"HGET", agent_key("luffy", d.id), "silent"}).str == "1");

  agent_query q;
  q.silent = true;
  CHECK(node_a.page("luffy", q).value->agents.size() == 1);
  q.silent = false;
  CHECK(node_a.page("luffy", q).value->agents.empty());

  // Both nodes see it again in the same second: one agent_back.
  REQUIRE(node_a.flush("luffy", {d}, kRetention, 100).ok());
  REQUIRE(node_b.flush("luffy", {d}, kRetention, 100).ok());
  CHECK(count_events(redis, "agent_back", d.id) == 1);
  CHECK(count_events(redis, "agent_silent", d.id) == 1);
  CHECK(redis.cmd({"HGET", agent_key("luffy", d.id), "silent"}).str == "0");
}

TEST_CASE("agent_flush: lists bounded, unauthenticated agents bounded by max_known",
          "[storage][agents]") {
  redis_process redis;
  agent_store store(redis.endpoint());
  auto d = delta("many");
  for (int i = 0; i < 30; ++i) {
    d.hostnames = {"h" + std::to_string(i)};
    d.services = {"s" + std::to_string(i)};
    REQUIRE(store.flush("luffy", {d}, kRetention, 100).ok());
  }
  auto page = store.page("luffy", agent_query{});
  REQUIRE(page.value->agents.size() == 1);
  const std::string key = agent_key("luffy", d.id);
  CHECK(lines_of(redis.cmd({"HGET", key, "hostnames"}).str).size() == 10);
  CHECK(lines_of(redis.cmd({"HGET", key, "services"}).str).size() == 20);

  // One agent known; max_known 2: one more without a token may be made, then none.
  std::vector<agent_delta> flood;
  for (int i = 0; i < 3; ++i) {
    flood.push_back(delta("flood/" + std::to_string(i), false));
  }
  auto r = store.flush("luffy", flood, kRetention, 2);
  REQUIRE(r.ok());
  CHECK(r.value->changed == 2);
  CHECK(r.value->known == 2);
  // A known agent without a valid token is still counted; an authenticated one is always made.
  r = store.flush("luffy", {flood[0], delta("authenticated/1")}, kRetention, 2);
  CHECK(r.value->changed == 0);
  CHECK(r.value->known == 3);
}

TEST_CASE("agents page: cursor through ties of one flush", "[storage][agents]") {
  redis_process redis;
  agent_store store(redis.endpoint());
  std::vector<agent_delta> all;
  for (int i = 0; i < 7; ++i) {
    all.push_back(delta("ua/" + std::to_string(i)));
  }
  REQUIRE(store.flush("luffy", all, kRetention, 100).ok());  // one score for all seven
  std::set<std::string> seen;
  agent_query q;
  q.limit = 3;
  for (int pages = 0; pages < 5; ++pages) {
    auto p = store.page("luffy", q);
    REQUIRE(p.ok());
    for (auto& a : p.value->agents) {
      CHECK(seen.insert(a.id).second);
    }
    if (!p.value->next) {
      break;
    }
    q.after = p.value->next;
  }
  CHECK(seen.size() == 7);
}
