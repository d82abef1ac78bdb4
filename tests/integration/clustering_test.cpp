// Clustering through the real interfaces: records posted over HTTP end up, exactly once, in
// cluster state read back over the query API and from Redis; events are emitted; a SIGKILL at any
// moment followed by a restart leaves every count exact.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string config(const redis_process& redis) {
  return R"(
auth:
  tokens:
    - {name: all, token: tok, services: ["*"], default_service: app}
    - {name: orders-only, token: orders-tok, services: [orders]}
)" + storage_yaml(redis);
}

// A Java error whose crash site is `site` (0..2); ids and line numbers vary per call.
std::string java_record(int seq, int site, const std::string& service = "orders",
                        int line_base = 10) {
  static const char* methods[] = {"findById", "charge", "ship", "load", "save"};
  const std::string m = methods[site % 5];
  const std::string ts = "2026-11-30T10:" + std::to_string(10 + seq % 50) + ":" +
                         std::to_string(10 + seq % 49) + "." + std::to_string(100 + seq % 900) +
                         "Z";
  return R"j({"timestamp":")j" + ts + R"j(","level":"ERROR","service_id":")j" + service +
         R"j(","hostname":"host-)j" + std::to_string(seq % 3) + R"j(","message":"request )j" +
         std::to_string(seq) +
         R"j( failed","stack_trace":"java.lang.IllegalStateException: order )j" +
         std::to_string(1000 + seq) + R"j( not found\n\tat com.acme.orders.Repo.)j" + m +
         "(Repo.java:" + std::to_string(line_base + seq % 7) +
         R"j()\n\tat com.acme.orders.Service.handle(Service.java:)j" +
         std::to_string(line_base + 3) +
         R"j()\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"})j";
}

std::string batch(int from, int to, int site_mod = 3) {
  std::string b = "[";
  for (int i = from; i < to; ++i) {
    b += std::string(i > from ? "," : "") + java_record(i, i % site_mod);
  }
  return b + "]";
}

std::vector<std::map<std::string, std::string>> events(const redis_process& redis) {
  return stream_entries(redis, luffy::events_stream_key("luffy"));
}

}  // namespace

TEST_CASE("posted records become clusters and the query API reads them", "[clustering]") {
  redis_process redis;
  server_process server(config(redis));
  auto fixture = ingest_post(read_text(fixtures_dir() / "captures" / "json.tail.body"));
  auto r = server.call(fixture);
  REQUIRE(r.status == 202);
  long accepted = json_int(r.body, "accepted_count");
  // 30 errors from 3 crash sites, two "deploys" (different line numbers): 3 clusters.
  r = server.call(ingest_post(batch(0, 30)));
  REQUIRE(r.status == 202);
  accepted += json_int(r.body, "accepted_count");
  REQUIRE(wait_processed(redis, accepted));
  CHECK(sum_of_cluster_counts(redis) == accepted);

  auto list = server.call(api_call("GET", "/api/v1/clusters?service_id=orders&sort=count", "tok"));
  INFO(list.body);
  REQUIRE(list.status == 200);
  CHECK(json_int(list.body, "count") == 10);  // the first (largest) cluster
  CHECK(json_str(list.body, "exception_type") == "java.lang.IllegalStateException");
  CHECK(json_int(list.body, "fingerprint_level") == 1);
  const std::string id = json_str(list.body, "id");
  REQUIRE(id.size() == 32);

  // One new_cluster event per cluster.
  const auto ev = events(redis);
  const long clusters = redis.cmd({"ZCARD", luffy::clusters_index_key("luffy", "count")}).integer;
  CHECK(static_cast<long>(std::count_if(ev.begin(), ev.end(), [](auto& e) {
          return e.at("type") == "new_cluster";
        })) == clusters);

  // Detail with samples, hosts and the per-minute series.
  http_call get = api_call("GET", "/api/v1/clusters/" + id, "tok");
  auto detail = server.call(get);
  REQUIRE(detail.status == 200);
  CHECK(detail.body.find("\"samples\":[{") != std::string::npos);
  CHECK(detail.body.find("\"hosts\":[\"host-") != std::string::npos);
  CHECK(detail.body.find("\"per_minute\":[{\"minute\":\"2026-11-30T10:") != std::string::npos);

  // A token sees only its services.
  get.headers = {{"Authorization", "Bearer orders-tok"}};
  CHECK(server.call(get).status == 200);
  auto gateway = server.call(api_call("GET", "/api/v1/clusters?service_id=gateway", "orders-tok"));
  CHECK(gateway.status == 403);
  get.headers = {};
  CHECK(server.call(get).status == 401);

  // Resolve, then the same problem again: a regression event and the cluster is open again.
  REQUIRE(server.call(api_call("POST", "/api/v1/clusters/" + id + "/resolve", "tok")).status ==
          200);
  CHECK(redis.cmd({"HGET", luffy::cluster_key("luffy", id), "status"}).str == "resolved");
  // The same crash site as the resolved cluster, from a later deploy (other line numbers).
  const std::string culprit = json_str(list.body, "culprit");
  const int site = culprit.find("findById") != std::string::npos ? 0
                   : culprit.find("charge") != std::string::npos ? 1
                                                                 : 2;
  r = server.call(ingest_post("[" + java_record(3000, site, "orders", 40) + "]"));
  REQUIRE(json_int(r.body, "accepted_count") == 1);
  REQUIRE(wait_processed(redis, accepted + 1));
  CHECK(redis.cmd({"HGET", luffy::cluster_key("luffy", id), "status"}).str == "open");
  const auto after = events(redis);
  CHECK(std::count_if(after.begin(), after.end(), [&](auto& e) {
          return e.at("type") == "regression" && e.at("cluster_id") == id;
        }) == 1);
}

TEST_CASE("SIGKILL at any moment, restart: every cluster count is exact", "[clustering][crash]") {
  redis_process redis;
  const int batches = 40, per_batch = 250;
  std::vector<std::string> bodies;
  for (int b = 0; b < batches; ++b)
    bodies.push_back(batch(b * per_batch, (b + 1) * per_batch, 5));
  std::vector<bool> acked(batches, false);
  for (int round = 0; round < 3; ++round) {
    // No rate limit in the way: the shared bucket lives in Redis across the restarts, and the
    // tokens a killed process had leased are gone with it (docs/SCALING.md), so 10,000 records of
    // one service in three lives would meet the default 10,000 per minute.
    server_process server(config(redis) + "rate_limit: {per_minute: 100000000}\n");
    std::atomic<bool> stop{false};
    std::thread killer;
    if (round < 2) {
      // Kill while requests and clustering are in full flow.
      killer = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
        ::kill(server.pid(), SIGKILL);
        stop = true;
      });
    }
    for (int b = 0; b < batches && !stop; ++b) {
      if (acked[b])
        continue;
      try {
        auto r = server.call(ingest_post(bodies[b]));
        if (r.status == 202) {
          acked[b] = true;
          CHECK(json_int(r.body, "rate_limited_count") <= 0);
        }
      } catch (...) {
        break;  // the server died under us: this batch was not acknowledged
      }
    }
    if (killer.joinable())
      killer.join();
    if (round == 2) {
      REQUIRE(std::all_of(acked.begin(), acked.end(), [](bool a) { return a; }));
      REQUIRE(wait_processed(redis, batches * per_batch, 60));
    }
  }
  // Every record was acknowledged once (retries of unacknowledged batches were duplicates of what
  // had landed), and every one is counted in exactly one cluster.
  CHECK(stats_field(redis, "processed") == batches * per_batch);
  CHECK(sum_of_cluster_counts(redis) == batches * per_batch);
  // Nothing left unapplied in any shard's journal stream.
  for (int shard = 0; shard < 4; ++shard) {
    const auto key = luffy::journal_stream_key("luffy", shard);
    CHECK(redis.cmd({"XLEN", key}).integer == 0);
  }
}

TEST_CASE("level-3 clusters keep their ids when templates generalise and across a restart",
          "[clustering][templates]") {
  redis_process redis;
  int second = 0;  // distinct event times: a repeated message is a new event, not a duplicate
  auto plain = [&second](const std::string& message) {
    return R"({"timestamp":"2026-11-30T10:00:)" + std::to_string(10 + second++) +
           R"(Z","level":"ERROR","service_id":"billing","message":")" + message + R"("})";
  };
  auto ids_by_title = [&] {
    std::map<std::string, std::string> out;  // title -> id
    for (const auto& id :
         redis.cmd({"ZRANGE", luffy::service_index_key("luffy", "billing", "count"), "0", "-1"})
             .elements) {
      out[redis.cmd({"HGET", luffy::cluster_key("luffy", id.str), "title"}).str] = id.str;
    }
    return out;
  };
  std::map<std::string, std::string> before;
  {
    server_process server(config(redis));
    // One request per message: each generalisation happens in its own apply.
    for (const char* m :
         {"payment for customer alice declined by issuer", "ledger closed for region emea",
          "nightly export skipped", "payment for customer bob declined by issuer"}) {
      REQUIRE(server.call(ingest_post("[" + plain(m) + "]")).status == 202);
    }
    REQUIRE(wait_processed(redis, 4));
    before = ids_by_title();
    REQUIRE(before.size() == 3);
    // The generalised template is the cluster's title; its id is the one it was created with.
    CHECK(before.count("payment for customer <*> declined by issuer") == 1);
    CHECK(before.count("ledger closed for region emea") == 1);
    CHECK(redis.cmd({"HLEN", luffy::service_templates_key("luffy", "billing")}).integer == 3);
    // Generalised inside one request: the cluster and the saved template take the newest form.
    REQUIRE(server
                .call(ingest_post("[" + plain("refund for order alpha failed at gateway") + "," +
                                  plain("refund for order beta failed at gateway") + "]"))
                .status == 202);
    REQUIRE(wait_processed(redis, 6));
    const auto saved = redis.cmd({"HGETALL", luffy::service_templates_key("luffy", "billing")});
    bool found = false;
    for (size_t i = 0; i + 1 < saved.elements.size(); i += 2) {
      if (saved.elements[i].str == "refund for order alpha failed at gateway") {
        found = true;
        CHECK(saved.elements[i + 1].str.ends_with("\trefund for order <*> failed at gateway"));
      }
    }
    CHECK(found);
    CHECK(ids_by_title().count("refund for order <*> failed at gateway") == 1);
    CHECK(server.stop() == 0);
  }
  {
    server_process server(config(redis));
    for (const char* m : {"payment for customer carol declined by issuer",
                          "ledger closed for region apac", "nightly export skipped"}) {
      REQUIRE(server.call(ingest_post("[" + plain(m) + "]")).status == 202);
    }
    const bool caught_up = wait_processed(redis, 9);
    INFO("processed " << stats_field(redis, "processed") << "\n" << server.log());
    REQUIRE(caught_up);
  }
  // The restarted miner continued the saved groups: no new cluster, the same ids.
  const auto after = ids_by_title();
  CHECK(after.size() == 4);  // and the refund cluster
  CHECK(after.at("payment for customer <*> declined by issuer") ==
        before.at("payment for customer <*> declined by issuer"));
  CHECK(after.at("ledger closed for region <*>") == before.at("ledger closed for region emea"));
  CHECK(after.at("nightly export skipped") == before.at("nightly export skipped"));
  CHECK(sum_of_cluster_counts(redis) == 9);
  long new_cluster_events = 0;
  for (const auto& e : events(redis)) {
    new_cluster_events += e.at("type") == "new_cluster" ? 1 : 0;
  }
  CHECK(new_cluster_events == 4);
}

TEST_CASE("cluster list parameters that are not whole integers in range are refused",
          "[clustering][errors]") {
  redis_process redis;
  server_process server(config(redis));
  auto get = [&](const std::string& query) {
    return server.call(api_call("GET", "/api/v1/clusters" + query, "tok"));
  };
  for (const char* bad : {"?limit=abc", "?limit=0", "?limit=501", "?limit=10abc", "?limit=",
                          "?limit=-5", "?cursor=-1", "?cursor=1x", "?cursor=", "?limit=1e3"}) {
    INFO(bad);
    const auto r = get(bad);
    CHECK(r.status == 400);
    CHECK(json_str(r.body, "error") == "bad_parameter");
  }
  for (const char* good : {"", "?limit=1", "?limit=500", "?cursor=0", "?limit=10&cursor=20"}) {
    INFO(good);
    CHECK(get(good).status == 200);
  }
}
