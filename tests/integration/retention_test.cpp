// Retention and erasure through the real binary and a real Redis (docs/OPERATIONS.md "Retention",
// "Deletion"): the sweeper deletes clusters not seen for retention.clusters and resolved ones
// retention.resolved_clusters after their resolution, with every key they own and their index
// entries, and trims the events stream by age and length; DELETE /api/v1/services/{id} erases
// one service and nothing of another. Durations are seconds here so the clocks run in a test.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string admin = "retention-admin-token-0123456789";
const std::string writer = "retention-writer-token-0123456789";

std::string tokens_yaml() {
  return "auth:\n  tokens:\n    - {name: root, token: " + admin +
         ", services: [\"*\"], admin: true}\n    - {name: writer, token: " + writer +
         ", services: [\"*\"]}\n";
}

// A Java error of `service` whose top frame is `method` (one cluster per method), `n` makes the
// record unique (dedup), the template message one level-3 cluster per service.
std::string java_record(const std::string& service, const std::string& method, int n) {
  return R"j({"level":"ERROR","service_id":")j" + service + R"j(","message":"request failed )j" +
         std::to_string(n) +
         R"j(","stack_trace":"java.lang.IllegalStateException: boom\n\tat com.acme.Repo.)j" +
         method + R"j((Repo.java:12)\n\tat com.acme.Service.handle(Service.java:40)"})j";
}
std::string template_record(const std::string& service, int n) {
  return R"({"level":"ERROR","service_id":")" + service +
         R"(","message":"payment declined for order )" + std::to_string(1000 + n) + R"( after )" +
         std::to_string(n % 7 + 1) + R"( retries"})";
}

std::vector<std::string> all_keys(const redis_process& redis) {
  std::vector<std::string> out;
  for (const auto& e : redis.cmd({"KEYS", "luffy:*"}).elements) {
    out.push_back(e.str);
  }
  return out;
}

// The clusters of `service` (its by_count index), as the API lists them.
std::vector<std::string> cluster_ids_of(const redis_process& redis, const std::string& service) {
  std::vector<std::string> out;
  for (const auto& e :
       redis.cmd({"ZRANGE", "luffy:service:" + service + ":by_count", "0", "-1"}).elements) {
    out.push_back(e.str);
  }
  return out;
}

// Every key and index member that names cluster `id`.
std::vector<std::string> traces_of(const redis_process& redis, const std::string& id) {
  std::vector<std::string> found;
  for (const auto& k : all_keys(redis)) {
    if (k.find(id) != std::string::npos) {
      found.push_back(k);
      continue;
    }
    const auto type = redis.cmd({"TYPE", k}).str;
    if (type == "zset" && redis.cmd({"ZSCORE", k, id}).type != luffy::redis_value::kind::nil) {
      found.push_back(k + " (member)");
    }
  }
  return found;
}

long metric(const server_process& server, const std::string& name) {
  const auto body = server.get("/metrics").body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stol(body.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("retention: old clusters and resolved ones go with every key, live ones stay",
          "[retention]") {
  redis_process redis;
  server_process server(tokens_yaml() + R"(
retention:
  clusters: 6s
  resolved_clusters: 2s
  events_max_age: 5s
  sweep_interval: 1s
dedup: {window_seconds: 1}
)" + storage_yaml(redis));
  int n = 0;
  auto post = [&](const std::string& body) {
    REQUIRE(server.call(ingest_post("[" + body + "]", writer)).status == 202);
  };
  post(java_record("shop", "live", 1) + "," + java_record("shop", "fixed", 2) + "," +
       template_record("shop", 3));
  n = 3;
  std::vector<std::string> ids;
  REQUIRE(eventually([&] {
    ids = cluster_ids_of(redis, "shop");
    return ids.size() == 3;
  }));
  REQUIRE(redis.cmd({"HLEN", "luffy:service:shop:templates"}).integer >= 1);
  // Which id is which: the "fixed" one gets resolved, the "live" one keeps receiving records.
  std::string live, fixed, templ;
  for (const auto& id : ids) {
    const auto title = redis.cmd({"HGET", "luffy:cluster:" + id, "culprit"}).str +
                       redis.cmd({"HGET", "luffy:cluster:" + id, "title"}).str;
    if (title.find("fixed") != std::string::npos) {
      fixed = id;
    } else if (title.find("live") != std::string::npos) {
      live = id;
    } else {
      templ = id;
    }
  }
  REQUIRE_FALSE(live.empty());
  REQUIRE_FALSE(fixed.empty());
  REQUIRE_FALSE(templ.empty());
  CHECK(redis.cmd({"HGET", "luffy:cluster:" + templ, "template_anchor"}).str != "");
  REQUIRE(server.call(api_call("POST", "/api/v1/clusters/" + fixed + "/resolve", admin)).status ==
          200);
  CHECK(redis.cmd({"ZSCORE", "luffy:clusters:resolved", fixed}).type !=
        luffy::redis_value::kind::nil);

  // The resolved one goes after ~2 s; the other two are younger than 6 s and stay.
  const auto resolved_at = std::chrono::steady_clock::now();
  REQUIRE(eventually(
      [&] {
        post(java_record("shop", "live", ++n));
        return server.call(api_call("GET", "/api/v1/clusters/" + fixed, admin)).status == 404;
      },
      10s, 250ms));
  CHECK(seconds_since(resolved_at) >= 1.5);
  CHECK(traces_of(redis, fixed).empty());
  CHECK(server.call(api_call("GET", "/api/v1/clusters/" + live, admin)).status == 200);
  CHECK(server.call(api_call("GET", "/api/v1/clusters/" + templ, admin)).status == 200);
  CHECK(metric(server, "luffy_ingest_retention_resolved_expired_total") == 1);

  // The template cluster gets no more records: gone about 6 s after its last one, with its
  // miner state; the live one keeps getting records and stays.
  REQUIRE(eventually(
      [&] {
        post(java_record("shop", "live", ++n));
        return server.call(api_call("GET", "/api/v1/clusters/" + templ, admin)).status == 404;
      },
      15s, 250ms));
  CHECK(traces_of(redis, templ).empty());
  CHECK(redis.cmd({"HLEN", "luffy:service:shop:templates"}).integer == 0);
  CHECK(server.call(api_call("GET", "/api/v1/clusters/" + live, admin)).status == 200);
  CHECK(metric(server, "luffy_ingest_retention_clusters_expired_total") == 1);

  // Events older than 5 s left the stream (the new_cluster events of the first request).
  const auto events = stream_entries(redis, "luffy:events");
  for (const auto& e : events) {
    CHECK(e.at("type") != "new_cluster");
  }
  CHECK(metric(server, "luffy_ingest_retention_events_trimmed_total") >= 3);

  // Silence: the live one goes too, and Redis holds no cluster data at all.
  REQUIRE(eventually(
      [&] { return server.call(api_call("GET", "/api/v1/clusters/" + live, admin)).status == 404; },
      15s, 250ms));
  for (const auto& k : all_keys(redis)) {
    INFO(k);
    CHECK(k.find("luffy:cluster") != 0);
    CHECK(k.find("luffy:service:shop:by_") != 0);
  }
  CHECK(redis.cmd({"ZCARD", "luffy:clusters:by_count"}).integer == 0);
  CHECK(server.call(api_call("GET", "/api/v1/clusters", admin)).body.find(live) ==
        std::string::npos);
}

TEST_CASE("retention: a resolved cluster that regresses leaves the resolved clock", "[retention]") {
  redis_process redis;
  server_process server(tokens_yaml() + R"(
retention: {clusters: 1h, resolved_clusters: 3s, sweep_interval: 1s}
dedup: {window_seconds: 1}
)" + storage_yaml(redis));
  REQUIRE(server.call(ingest_post("[" + java_record("pay", "charge", 1) + "]", writer)).status ==
          202);
  std::vector<std::string> ids;
  REQUIRE(eventually([&] {
    ids = cluster_ids_of(redis, "pay");
    return ids.size() == 1;
  }));
  REQUIRE(server.call(api_call("POST", "/api/v1/clusters/" + ids[0] + "/resolve", admin)).status ==
          200);
  REQUIRE(server.call(ingest_post("[" + java_record("pay", "charge", 2) + "]", writer)).status ==
          202);
  REQUIRE(eventually([&] {
    return redis.cmd({"HGET", "luffy:cluster:" + ids[0], "status"}).str == "open";
  }));
  CHECK(redis.cmd({"ZSCORE", "luffy:clusters:resolved", ids[0]}).type ==
        luffy::redis_value::kind::nil);
  std::this_thread::sleep_for(5s);
  CHECK(server.call(api_call("GET", "/api/v1/clusters/" + ids[0], admin)).status == 200);
}

TEST_CASE("retention: the events stream is capped by length", "[retention]") {
  redis_process redis;
  server_process server(tokens_yaml() + R"(
retention: {events_max_entries: 10, events_max_age: 0, sweep_interval: 1s}
)" + storage_yaml(redis));
  std::string batch;
  for (int i = 0; i < 30; ++i) {
    batch += (i ? "," : "") + java_record("cap", "m" + std::to_string(i), i);
  }
  REQUIRE(server.call(ingest_post("[" + batch + "]", writer)).status == 202);
  REQUIRE(eventually([&] { return cluster_ids_of(redis, "cap").size() == 30; }));
  REQUIRE(eventually([&] { return redis.cmd({"XLEN", "luffy:events"}).integer == 10; }, 10s));
  // the newest are kept
  const auto last = stream_entries(redis, "luffy:events").back();
  CHECK(last.at("type") == "new_cluster");
}

TEST_CASE("DELETE /api/v1/services/{id} erases one service and nothing of another",
          "[retention][erasure]") {
  redis_process redis;
  server_process server(tokens_yaml() + R"(
    - {name: reader, token: retention-reader-token-0123456789, services: ["*"], scopes: [read]}
retention: {sweep_interval: 1h}
)" + storage_yaml(redis));
  std::string batch;
  for (int i = 0; i < 4; ++i) {
    batch += (i ? "," : "") + java_record("gdpr", "m" + std::to_string(i), i) + "," +
             java_record("keep", "m" + std::to_string(i), i);
  }
  batch += "," + template_record("gdpr", 1) + "," + template_record("keep", 1);
  REQUIRE(server.call(ingest_post("[" + batch + "]", writer)).status == 202);
  REQUIRE(eventually([&] {
    return cluster_ids_of(redis, "gdpr").size() == 5 && cluster_ids_of(redis, "keep").size() == 5;
  }));
  const auto gdpr_ids = cluster_ids_of(redis, "gdpr");
  const auto keep_ids = cluster_ids_of(redis, "keep");
  // A merge inside the service leaves a redirect hash that must go too.
  REQUIRE(server
              .call(api_call("POST", "/api/v1/clusters/" + gdpr_ids[0] + "/merge", admin,
                             R"({"into":")" + gdpr_ids[1] + R"("})"))
              .status == 200);
  // Dead letters: one record of each service (as cluster_shard writes them).
  redis.cmd({"XADD", "luffy:dlq", "*", "source", "cluster_shard", "entry", "1-0", "error", "x",
             "record", R"({"service_id":"gdpr","message":"alice@example.com failed"})"});
  redis.cmd({"XADD", "luffy:dlq", "*", "source", "cluster_shard", "entry", "1-0", "error", "x",
             "record", R"({"service_id":"keep","message":"kept"})"});

  CHECK(server.call(api_call("DELETE", "/api/v1/services/gdpr", "")).status == 401);
  const auto refused =
      server.call(api_call("DELETE", "/api/v1/services/gdpr", "retention-reader-token-0123456789"));
  CHECK(refused.status == 403);
  CHECK(cluster_ids_of(redis, "gdpr").size() == 4);
  CHECK(
      server.call(api_call("DELETE", "/api/v1/services/" + std::string(300, 'x'), admin)).status ==
      400);
  CHECK(server.call(api_call("DELETE", "/api/v1/services/%ff", admin)).status == 400);

  const auto r = server.call(api_call("DELETE", "/api/v1/services/gdpr", admin));
  REQUIRE(r.status == 200);
  CHECK(json_str(r.body, "status") == "deleted");
  CHECK(json_int(r.body, "clusters") == 4);
  CHECK(json_int(r.body, "dead_letters") == 1);
  CHECK(json_int(r.body, "events") >= 5);
  for (const auto& id : gdpr_ids) {
    INFO(id);
    CHECK(traces_of(redis, id).empty());
  }
  for (const auto& k : all_keys(redis)) {
    INFO(k);
    CHECK(k.find("luffy:service:gdpr") != 0);
    CHECK(k.find("luffy:ratelimit:gdpr") != 0);
  }
  for (const auto& e : stream_entries(redis, "luffy:events")) {
    CHECK(e.at("service_id") != "gdpr");
  }
  const auto dlq = stream_entries(redis, "luffy:dlq");
  REQUIRE(dlq.size() == 1);
  CHECK(dlq[0].at("record").find("keep") != std::string::npos);
  // The other service is whole.
  CHECK(cluster_ids_of(redis, "keep") == keep_ids);
  for (const auto& id : keep_ids) {
    CHECK(server.call(api_call("GET", "/api/v1/clusters/" + id, admin)).status == 200);
    CHECK(redis.cmd({"LLEN", "luffy:cluster:" + id + ":samples"}).integer >= 1);
  }
  CHECK(redis.cmd({"HLEN", "luffy:service:keep:templates"}).integer >= 1);
  // Audited, safe to repeat, and a percent-encoded id is decoded.
  bool audited = false;
  for (const auto& e : stream_entries(redis, "luffy:audit")) {
    audited = audited || (e.at("action") == "service.delete" && e.at("target") == "gdpr" &&
                          e.at("result") == "ok" && e.at("actor") == "root");
  }
  CHECK(audited);
  const auto again = server.call(api_call("DELETE", "/api/v1/services/gdpr", admin));
  CHECK(again.status == 200);
  CHECK(json_int(again.body, "clusters") == 0);
  REQUIRE(server.call(ingest_post("[" + java_record("a b", "m", 1) + "]", writer)).status == 202);
  REQUIRE(eventually([&] { return cluster_ids_of(redis, "a b").size() == 1; }));
  const auto spaced = server.call(api_call("DELETE", "/api/v1/services/a%20b", admin));
  CHECK(json_int(spaced.body, "clusters") == 1);
  CHECK(cluster_ids_of(redis, "a b").empty());
  // New records of an erased service make new clusters (erasure is not a block).
  REQUIRE(server.call(ingest_post("[" + java_record("gdpr", "m0", 99) + "]", writer)).status ==
          202);
  CHECK(eventually([&] { return cluster_ids_of(redis, "gdpr").size() == 1; }));
}

TEST_CASE("retention: sweeps that Redis cannot answer are counted and resume after the outage",
          "[retention]") {
  redis_process redis;
  server_process server(tokens_yaml() + R"(
retention: {sweep_interval: 1s}
)" + storage_yaml(redis));
  REQUIRE(eventually([&] { return metric(server, "luffy_ingest_retention_sweeps_total") >= 1; }));
  CHECK(metric(server, "luffy_ingest_retention_sweep_failures_total") == 0);
  redis.kill();
  REQUIRE(eventually(
      [&] { return metric(server, "luffy_ingest_retention_sweep_failures_total") >= 1; }, 15s));
  redis.start();
  const long done = metric(server, "luffy_ingest_retention_sweeps_total");
  CHECK(eventually([&] { return metric(server, "luffy_ingest_retention_sweeps_total") > done; },
                   15s));
  CHECK(server.log().find("retention sweep failed") != std::string::npos);
}
