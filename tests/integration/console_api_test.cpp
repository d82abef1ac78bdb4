// The console's backend (issue 14) through the real binary: token scopes, the cluster list's
// filters, sorts, sparkline, trend and badges with cursor paging, the cluster detail's events,
// why and per-sample frames, and the admin dead-letter list and retry.
#include <Poco/JSON/Array.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timestamp.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string config(const redis_process& redis, const std::string& extra = "") {
  return R"(
auth:
  tokens:
    - {name: all, token: tok, services: ["*"], default_service: app}
    - {name: reader, token: read-tok, services: ["*"], scopes: [read]}
    - {name: orders-reader, token: orders-read-tok, services: [orders], scopes: [read]}
    - {name: shipper, token: ingest-tok, services: ["*"], scopes: [ingest]}
    - {name: admin, token: tok-admin, services: ["*"], admin: true}
server: {request_timeout_seconds: 5}
testing: {fault_injection: true}
)" + storage_yaml(redis) +
         extra;
}

const std::string clustering_yaml =
    "clustering: {spike_minimum: 3, max_new_clusters_per_minute: 0}\n";

// An event time `seconds_ago` before now, as RFC 3339 with milliseconds.
std::string ago(int seconds_ago) {
  const auto now = std::chrono::system_clock::now() - std::chrono::seconds(seconds_ago);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  char out[64];
  snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string java_record(int seq, const std::string& method, const std::string& env,
                        const std::string& service = "orders") {
  return R"j({"timestamp":")j" + ago(20) + R"j(","level":"ERROR","service_id":")j" + service +
         R"j(","environment":")j" + env + R"j(","hostname":"h1","message":"request )j" +
         std::to_string(seq) +
         R"j( failed","stack_trace":"java.lang.IllegalStateException: order )j" +
         std::to_string(1000 + seq) + R"j( not found\n\tat com.acme.orders.Repo.)j" + method +
         R"j((Repo.java:12)\n\tat com.acme.orders.Service.handle(Service.java:40)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"})j";
}

std::string python_record(int seq, const std::string& env) {
  return R"j({"timestamp":")j" + ago(20) +
         R"j(","level":"WARNING","service_id":"orders","environment":")j" + env +
         R"j(","message":"payment failed","stack_trace":"Traceback (most recent call last):\n  File \"/app/shop/views.py\", line 10, in checkout\n    pay()\n  File \"/usr/lib/python3/site-packages/requests/api.py\", line 20, in get\n    raise ValueError(\"bad\")\nValueError: payment )j" +
         std::to_string(seq) + R"j( failed"})j";
}

std::string plain_record(int seq) {
  return R"j({"timestamp":")j" + ago(20) +
         R"j(","level":"INFO","service_id":"billing","environment":"prod","message":"cache miss for key )j" +
         std::to_string(seq) + R"j("})j";
}

// The `field` string of every cluster in a list body, in order.
std::vector<std::string> all_str(const std::string& body, const std::string& field) {
  std::vector<std::string> out;
  const std::string key = "\"" + field + "\":\"";
  for (size_t at = body.find(key); at != std::string::npos; at = body.find(key, at + 1)) {
    const size_t start = at + key.size();
    out.push_back(body.substr(start, body.find('"', start) - start));
  }
  return out;
}

std::vector<std::string> ids_of(const std::string& body) {
  return all_str(body, "id");
}

// Every id of a list, following next_cursor (at most 100 pages).
std::vector<std::string> all_pages(const server_process& server, const std::string& query,
                                   const std::string& token = "tok") {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const auto r = server.call(api_call(
        "GET", "/api/v1/clusters?" + query + (cursor.empty() ? "" : "&cursor=" + cursor), token));
    REQUIRE(r.status == 200);
    for (auto& id : ids_of(r.body))
      ids.push_back(id);
    if (r.body.find("\"next_cursor\":null") != std::string::npos)
      return ids;
    cursor = json_str(r.body, "next_cursor");
  }
  FAIL("more than 100 pages");
  return ids;
}

// The object of cluster `id` in a list body ("" when absent).
std::string cluster_in(const std::string& body, const std::string& id) {
  const auto at = body.find("{\"id\":\"" + id + "\"");
  if (at == std::string::npos)
    return "";
  return body.substr(at, body.find("\"environments\"", at) + 64 - at);
}

// Posts the corpus: orders: 5 Java at findById (prod), 2 Java at charge (staging), 3 Python
// (prod); billing: 1 plain message (prod). Returns the records accepted.
long post_corpus(const server_process& server) {
  std::string b = "[";
  for (int i = 0; i < 5; ++i)
    b += java_record(i, "findById", "prod") + ",";
  for (int i = 0; i < 2; ++i)
    b += java_record(10 + i, "charge", "staging") + ",";
  for (int i = 0; i < 3; ++i)
    b += python_record(20 + i, "prod") + ",";
  b += plain_record(30) + "]";
  const auto r = server.call(ingest_post(b));
  REQUIRE(r.status == 202);
  return json_int(r.body, "accepted_count");
}

}  // namespace

TEST_CASE("console scopes: read-only tokens read, ingest-only tokens write", "[console_api]") {
  redis_process redis;
  server_process server(config(redis));
  const auto one = "[" + java_record(1, "findById", "prod") + "]";
  // read-only: lists clusters, may not ingest
  CHECK(server.call(api_call("GET", "/api/v1/clusters", "read-tok")).status == 200);
  auto r = server.call(ingest_post(one, "read-tok"));
  CHECK(r.status == 403);
  CHECK(json_str(r.body, "error") == "insufficient_scope");
  // ingest-only: ingests, may not read clusters, resolve or merge
  CHECK(server.call(ingest_post(one, "ingest-tok")).status == 202);
  r = server.call(api_call("GET", "/api/v1/clusters", "ingest-tok"));
  CHECK(r.status == 403);
  CHECK(json_str(r.body, "error") == "insufficient_scope");
  CHECK(server.call(api_call("GET", "/api/v1/clusters/abc", "ingest-tok")).status == 403);
  CHECK(server.call(api_call("POST", "/api/v1/clusters/abc/resolve", "ingest-tok")).status == 403);
  // neither is an admin; the admin keeps its old powers; tokens without scopes keep both
  r = server.call(api_call("GET", "/api/v1/admin/dead_letters", "read-tok"));
  CHECK(r.status == 403);
  CHECK(json_str(r.body, "error") == "forbidden");
  CHECK(server.call(api_call("GET", "/api/v1/admin/dead_letters", "tok-admin")).status == 200);
  CHECK(server.call(api_call("GET", "/api/v1/clusters", "tok")).status == 200);
  CHECK(server.call(api_call("GET", "/api/v1/clusters", "")).status == 401);
}

TEST_CASE("console scopes: the JWT scope claim, a string or an array, default ingest and read",
          "[console_api][jwt]") {
  redis_process redis;
  const std::string secret = "0123456789abcdef0123456789abcdef";
  server_process server("auth:\n  jwt: {secret: \"" + secret + "\"}\n" + storage_yaml(redis));
  auto jwt = [&](const std::optional<std::string>& text, const std::vector<std::string>& list) {
    Poco::JWT::Token t;
    Poco::JSON::Array::Ptr services = new Poco::JSON::Array;
    services->add("*");
    t.payload().set("services", services);
    if (text) {
      t.payload().set("scope", *text);
    } else if (!list.empty()) {
      Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
      for (const auto& s : list)
        arr->add(s);
      t.payload().set("scope", arr);
    }
    t.payload().set("exp", static_cast<Poco::Int64>(Poco::Timestamp().epochTime() + 3600));
    Poco::JWT::Signer signer(secret);
    return signer.sign(t, Poco::JWT::Signer::ALGO_HS256);
  };
  const std::string one = R"([{"message":"jwt record","service_id":"checkout"}])";
  auto clusters = [&](const std::string& token) {
    return server.call(api_call("GET", "/api/v1/clusters", token)).status;
  };
  auto ingest = [&](const std::string& token) {
    return server.call(ingest_post(one, token)).status;
  };
  const auto none = jwt(std::nullopt, {});
  CHECK(clusters(none) == 200);
  CHECK(ingest(none) == 202);
  const auto read = jwt(std::string("read"), {});
  CHECK(clusters(read) == 200);
  CHECK(ingest(read) == 403);
  const auto ingest_only = jwt(std::nullopt, {"ingest"});
  CHECK(clusters(ingest_only) == 403);
  CHECK(ingest(ingest_only) == 202);
  const auto admin = jwt(std::string("read admin"), {});
  CHECK(server.call(api_call("GET", "/api/v1/admin/dead_letters", admin)).status == 200);
  CHECK(server.call(api_call("GET", "/api/v1/admin/dead_letters", read)).status == 403);
}

TEST_CASE("check-config refuses unknown scopes", "[console_api]") {
  redis_process redis;
  const auto dir = make_temp_dir("console-scopes");
  const auto path = dir / "luffy.yaml";
  {
    std::ofstream f(path);
    f << "auth:\n  tokens:\n    - {name: x, token: t, services: [\"*\"], scopes: [read, "
         "write]}\n"
      << storage_yaml(redis);
  }
  const auto [status, out] = run_binary({"check-config", "--config", path.string()});
  CHECK(status != 0);
  CHECK(out.find("auth.tokens[0].scopes: \"write\" is not a scope") != std::string::npos);
}

TEST_CASE("cluster list: filters, sorts, q, cursor paging, sparkline and badges", "[console_api]") {
  redis_process redis;
  server_process server(config(redis, clustering_yaml));
  const long accepted = post_corpus(server);
  REQUIRE(accepted == 11);
  REQUIRE(wait_processed(redis, accepted));

  auto all = server.call(api_call("GET", "/api/v1/clusters?sort=count", "tok"));
  INFO(all.body);
  REQUIRE(all.status == 200);
  const auto ids = ids_of(all.body);
  REQUIRE(ids.size() == 4);
  const std::string java_a = ids[0];  // 5 records
  const std::string python = ids[1];  // 3 records
  const std::string java_b = ids[2];  // 2 records
  const std::string plain = ids[3];   // 1 record
  CHECK(json_str(cluster_in(all.body, python), "language") == "python");

  // sparkline: 24 buckets, this hour holds the records; trend; badges; environments
  const std::string a = cluster_in(all.body, java_a);
  CHECK(a.find("\"sparkline\":[0,") != std::string::npos);
  CHECK((a.find(",5],\"trend\":5") != std::string::npos ||
         a.find(",5,0],\"trend\"") != std::string::npos));  // the minute may straddle an hour
  CHECK(a.find("\"badges\":[\"new\",\"spiking\"]") != std::string::npos);
  CHECK(a.find("\"environments\":[\"prod\"]") != std::string::npos);
  CHECK(cluster_in(all.body, java_b).find("\"badges\":[\"new\"]") != std::string::npos);

  auto ids_for = [&](const std::string& query, const std::string& token = "tok") {
    auto r = server.call(api_call("GET", "/api/v1/clusters?" + query, token));
    INFO(query << " " << r.body);
    REQUIRE(r.status == 200);
    auto got = ids_of(r.body);
    return std::set<std::string>(got.begin(), got.end());
  };
  using set = std::set<std::string>;
  CHECK(ids_for("environment=prod") == set{java_a, python, plain});
  CHECK(ids_for("environment=staging") == set{java_b});
  CHECK(ids_for("environment=nowhere").empty());
  CHECK(ids_for("level=warning") == set{python});  // stored as WARN
  CHECK(ids_for("level=Warn") == set{python});
  CHECK(ids_for("level=ERROR") == set{java_a, java_b});
  CHECK(ids_for("language=python") == set{python});
  CHECK(ids_for("language=java&environment=prod") == set{java_a});
  CHECK(ids_for("q=findbyid") == set{java_a});     // culprit, any case
  CHECK(ids_for("q=VALUEERROR") == set{python});   // exception type
  CHECK(ids_for("q=cache%20miss") == set{plain});  // template / title
  CHECK(ids_for("q=illegalstate") == set{java_a, java_b});
  CHECK(ids_for("service_id=billing") == set{plain});
  CHECK(ids_for("q=cache", "orders-read-tok").empty());  // another service's cluster
  for (const char* sort : {"first_seen", "trend", "last_seen", "count"}) {
    CHECK(ids_for(std::string("sort=") + sort).size() == 4);
  }
  // trend: this hour minus the mean of the 23 before, so the largest cluster leads
  auto trend = server.call(api_call("GET", "/api/v1/clusters?sort=trend", "tok"));
  CHECK(ids_of(trend.body)[0] == java_a);
  // first_seen survives an index written before it existed: dropped, rebuilt on demand
  redis.cmd({"DEL", luffy::clusters_index_key("luffy", "first_seen")});
  CHECK(ids_for("sort=first_seen") == set{java_a, python, java_b, plain});
  CHECK(redis.cmd({"ZCARD", luffy::clusters_index_key("luffy", "first_seen")}).integer == 4);

  // cursor paging with a filter: every matching cluster exactly once
  auto paged = all_pages(server, "environment=prod&limit=1");
  CHECK(paged.size() == 3);
  CHECK(set(paged.begin(), paged.end()) == set{java_a, python, plain});
  paged = all_pages(server, "sort=first_seen&limit=3");
  CHECK(paged.size() == 4);
  CHECK(set(paged.begin(), paged.end()).size() == 4);

  // hostile parameters
  for (const std::string& q : std::vector<std::string>{
           "limit=-1", "limit=abc", "limit=0", "limit=501", "sort=bogus", "cursor=garbage",
           "cursor=-3", "status=maybe", "q=" + std::string(300, 'x'),
           "environment=" + std::string(201, 'e')}) {
    auto r = server.call(api_call("GET", "/api/v1/clusters?" + q, "tok"));
    INFO(q);
    CHECK(r.status == 400);
    CHECK(json_str(r.body, "error") == "bad_parameter");
  }
  CHECK(server.call(api_call("GET", "/api/v1/clusters?cursor=99999", "tok")).status == 200);
}

TEST_CASE("cluster detail: events after resolve and regression, why, frames with in_app",
          "[console_api]") {
  redis_process redis;
  server_process server(config(redis, clustering_yaml));
  long accepted = post_corpus(server);
  REQUIRE(wait_processed(redis, accepted));
  auto all = server.call(api_call("GET", "/api/v1/clusters?sort=count", "tok"));
  const auto ids = ids_of(all.body);
  REQUIRE(ids.size() == 4);
  const std::string java_a = ids[0], python = ids[1], plain = ids[3];

  REQUIRE(server.call(api_call("POST", "/api/v1/clusters/" + java_a + "/resolve", "tok")).status ==
          200);
  auto r = server.call(ingest_post("[" + java_record(100, "findById", "prod") + "]"));
  REQUIRE(json_int(r.body, "accepted_count") == 1);
  REQUIRE(wait_processed(redis, ++accepted));

  auto d = server.call(api_call("GET", "/api/v1/clusters/" + java_a, "tok"));
  INFO(d.body);
  REQUIRE(d.status == 200);
  // newest first: the regression, the resolve, (a spike,) the new cluster
  const auto types = all_str(d.body.substr(d.body.find("\"events\":")), "type");
  REQUIRE(types.size() >= 3);
  CHECK(types[0] == "regression");
  CHECK(types[1] == "resolved");
  CHECK(types.back() == "new_cluster");
  CHECK(d.body.find("\"at\":\"20") != std::string::npos);
  // why: level 1, the in-app call path
  CHECK(d.body.find("\"why\":{\"level\":1,") != std::string::npos);
  CHECK(d.body.find(
            "\"frames\":[\"com.acme.orders.Repo.findById\",\"com.acme.orders.Service.handle\"]") !=
        std::string::npos);
  // frames of a Java sample
  CHECK(d.body.find(
            "{\"text\":\"at com.acme.orders.Repo.findById(Repo.java:12)\",\"in_app\":true}") !=
        std::string::npos);
  CHECK(d.body.find("\"in_app\":false}") != std::string::npos);  // Thread.run
  CHECK(d.body.find("java.lang.Thread.run") != std::string::npos);
  // the list shows it regressed
  all = server.call(api_call("GET", "/api/v1/clusters?sort=count", "tok"));
  CHECK(cluster_in(all.body, java_a).find("\"regressed\"") != std::string::npos);

  // Python: the app's frame in-app, site-packages not
  d = server.call(api_call("GET", "/api/v1/clusters/" + python, "tok"));
  REQUIRE(d.status == 200);
  CHECK(d.body.find(
            R"({"text":"File \"/app/shop/views.py\", line 10, in checkout","in_app":true})") !=
        std::string::npos);
  CHECK(d.body.find(R"(requests/api.py\", line 20, in get","in_app":false})") != std::string::npos);

  // A plain message: no frames, why names the template
  d = server.call(api_call("GET", "/api/v1/clusters/" + plain, "tok"));
  REQUIRE(d.status == 200);
  CHECK(d.body.find("\"frames\":[]") != std::string::npos);
  CHECK(d.body.find("\"why\":{\"level\":3,") != std::string::npos);
  CHECK(d.body.find("\"template\":\"cache miss for key") != std::string::npos);

  // Reopen: the operator's undo of a resolve, recorded in the history; 404 / 403 as resolve.
  REQUIRE(server.call(api_call("POST", "/api/v1/clusters/" + python + "/resolve", "tok")).status ==
          200);
  r = server.call(api_call("POST", "/api/v1/clusters/" + python + "/reopen", "tok"));
  CHECK(r.status == 200);
  CHECK(r.body == "{\"id\":\"" + python + "\",\"status\":\"open\"}");
  d = server.call(api_call("GET", "/api/v1/clusters/" + python, "tok"));
  CHECK(json_str(d.body, "status") == "open");
  const auto after = all_str(d.body.substr(d.body.find("\"events\":")), "type");
  REQUIRE(after.size() >= 3);
  CHECK(after[0] == "reopened");
  CHECK(after[1] == "resolved");
  CHECK(
      server
          .call(api_call("POST", "/api/v1/clusters/0123456789abcdef0123456789abcdef/reopen", "tok"))
          .status == 404);
  CHECK(server.call(api_call("GET", "/api/v1/clusters/" + python + "/reopen", "tok")).status ==
        405);
}

TEST_CASE("dead letters: list, retry a whole entry, 409 for a poison record, hostile ids",
          "[console_api]") {
  redis_process redis;
  server_process server(config(redis, "supervision: {max_attempts: 2, max_restarts: 10}\n"));
  auto crash = java_record(1, "findById", "prod");
  crash.replace(crash.find("request 1 failed"), 16, "luffy-fault:shard-crash");
  REQUIRE(server.call(ingest_post("[" + crash + "]")).status == 202);
  auto poison = java_record(2, "findById", "prod");
  poison.replace(poison.find("request 2 failed"), 16, "luffy-fault:parser-throw");
  REQUIRE(server.call(ingest_post("[" + poison + "]")).status == 202);
  // the parser's poison record at once, the entry after max_attempts sweeps
  REQUIRE(eventually(
      [&] {
        return json_int(
                   server.call(api_call("GET", "/api/v1/admin/dead_letters", "tok-admin")).body,
                   "total") == 2;
      },
      std::chrono::seconds(40)));
  auto list = server.call(api_call("GET", "/api/v1/admin/dead_letters", "tok-admin"));
  INFO(list.body);
  REQUIRE(list.status == 200);
  CHECK(list.body.find("\"next_cursor\":null") != std::string::npos);
  // newest first: the entry (moved later) then the parser's record
  const auto ids = all_str(list.body, "id");
  REQUIRE(ids.size() == 2);
  const std::string entry_id = ids[0], poison_id = ids[1];
  const auto sources = all_str(list.body, "source");
  CHECK(sources == std::vector<std::string>{"cluster_shard", "parser"});
  CHECK(list.body.find("\"retryable\":true") < list.body.find("\"retryable\":false"));
  CHECK(list.body.find("\"service_id\":\"orders\"") != std::string::npos);
  CHECK(list.body.find("luffy-fault:shard-crash") != std::string::npos);  // preview

  // paging: one per page
  auto page = server.call(api_call("GET", "/api/v1/admin/dead_letters?limit=1", "tok-admin"));
  CHECK(json_str(page.body, "next_cursor") == entry_id);
  page = server.call(
      api_call("GET", "/api/v1/admin/dead_letters?limit=1&cursor=" + entry_id, "tok-admin"));
  CHECK(all_str(page.body, "id") == std::vector<std::string>{poison_id});
  CHECK(page.body.find("\"next_cursor\":null") != std::string::npos);

  auto r = server.call(
      api_call("POST", "/api/v1/admin/dead_letters/" + poison_id + "/retry", "tok-admin"));
  CHECK(r.status == 409);
  CHECK(json_str(r.body, "error") == "not_retryable");
  r = server.call(api_call("POST", "/api/v1/admin/dead_letters/" + entry_id + "/retry", "tok"));
  CHECK(r.status == 403);  // not an admin token
  r = server.call(
      api_call("POST", "/api/v1/admin/dead_letters/" + entry_id + "/retry", "tok-admin"));
  INFO(r.body);
  REQUIRE(r.status == 202);
  CHECK(json_str(r.body, "status") == "requeued");
  CHECK(json_str(r.body, "id") == entry_id);
  r = server.call(
      api_call("POST", "/api/v1/admin/dead_letters/" + entry_id + "/retry", "tok-admin"));
  CHECK(r.status == 404);
  CHECK(json_str(r.body, "error") == "not_found");
  // Back on its journal stream, the entry crashes its shard again and, after max_attempts
  // sweeps, is dead-lettered again under a new id: the retry went through the real pipeline.
  CHECK(eventually(
      [&] {
        const auto b = server.call(api_call("GET", "/api/v1/admin/dead_letters", "tok-admin")).body;
        const auto now = all_str(b, "id");
        return json_int(b, "total") == 2 && now.size() == 2 && now[0] != entry_id &&
               now[1] == poison_id;
      },
      std::chrono::seconds(40)));

  for (const std::string bad : {"abc", "1-2-3", "-1", "12345678901234567890123-0"}) {
    r = server.call(api_call("POST", "/api/v1/admin/dead_letters/" + bad + "/retry", "tok-admin"));
    INFO(bad);
    CHECK(r.status == 400);
  }
  for (const std::string q : {"limit=0", "limit=abc", "limit=-1", "cursor=xyz", "cursor=1-"}) {
    r = server.call(api_call("GET", "/api/v1/admin/dead_letters?" + q, "tok-admin"));
    INFO(q);
    CHECK(r.status == 400);
  }
}

// The figure in docs/PERFORMANCE.md ("Console: cluster list with 10,000 clusters"): hidden, run
// with ./build/tests/integration/integration_tests "[console_perf]" -s
TEST_CASE("cluster list pages stay fast with 10,000 clusters", "[.][console_perf]") {
  redis_process redis;
  server_process server(config(redis, clustering_yaml));
  long accepted = 0;
  for (int batch = 0; batch < 20; ++batch) {
    std::string b = "[";
    for (int i = 0; i < 500; ++i) {
      const int n = batch * 500 + i;
      b += std::string(i ? "," : "") + java_record(n, "m" + std::to_string(n),
                                                   n % 3 ? "prod" : "staging",
                                                   "svc" + std::to_string(n % 10));
    }
    const auto r = server.call(ingest_post(b + "]"));
    REQUIRE(r.status == 202);
    accepted += json_int(r.body, "accepted_count");
  }
  REQUIRE(accepted == 10000);
  REQUIRE(wait_processed(redis, accepted, 300));
  REQUIRE(redis.cmd({"ZCARD", luffy::clusters_index_key("luffy", "last_seen")}).integer == 10000);
  for (const std::string q :
       {"limit=50", "sort=count&limit=50", "sort=first_seen&limit=50", "sort=trend&limit=50",
        "environment=staging&limit=50", "q=m9999&limit=50", "q=nomatch&limit=50",
        "limit=500&level=error&language=java"}) {
    for (int round = 0; round < 3; ++round) {  // the first first_seen/trend request builds
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = server.call(api_call("GET", "/api/v1/clusters?" + q, "tok"));
      const double ms = seconds_since(t0) * 1000;
      REQUIRE(r.status == 200);
      std::printf("GET /api/v1/clusters?%s  round %d  %.1f ms  %zu bytes\n", q.c_str(), round, ms,
                  r.body.size());
      CHECK(ms < 2000);
    }
  }
  // The upgrade path: a Redis written before by_first_seen existed (dropped here) is indexed by
  // the first sort=first_seen request.
  redis.cmd({"DEL", luffy::clusters_index_key("luffy", "first_seen")});
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = server.call(api_call("GET", "/api/v1/clusters?sort=first_seen&limit=50", "tok"));
  std::printf("GET /api/v1/clusters?sort=first_seen&limit=50  rebuilding the index  %.1f ms\n",
              seconds_since(t0) * 1000);
  CHECK(r.status == 200);
  CHECK(redis.cmd({"ZCARD", luffy::clusters_index_key("luffy", "first_seen")}).integer == 10000);
  // A filter that matches nothing: every cluster examined once over two requests.
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(all_pages(server, "q=nomatch&limit=50").empty());
  std::printf("q=nomatch, every page (10,000 clusters examined)  %.1f ms\n",
              seconds_since(t1) * 1000);
}
