// The audit trail (<prefix>:audit) through the real binary: every admin and state-changing action
// (resolve, reopen, merge, dead-letter retry, shard rebalance, reload by route and by SIGHUP)
// leaves exactly one entry with who, what, on what, the outcome and the client address, refused
// attempts by a valid token included; reads and requests without credentials leave none.
#include <Poco/JSON/Array.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timestamp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string jwt_secret = "audit-jwt-secret-0123456789abcdef";

std::string record(const std::string& exception, const std::string& method) {
  return R"j({"level":"ERROR","service_id":"orders","message":"request failed","stack_trace":")j" +
         exception + R"j(: boom\n\tat com.acme.orders.Repo.)j" + method +
         R"j((Repo.java:12)\n\tat com.acme.orders.Service.handle(Service.java:40)"})j";
}

std::vector<std::string> cluster_ids(const std::string& body) {
  std::vector<std::string> ids;
  for (size_t at = body.find("\"id\":\""); at != std::string::npos;
       at = body.find("\"id\":\"", at + 1)) {
    const auto end = body.find('"', at + 6);
    ids.push_back(body.substr(at + 6, end - at - 6));
  }
  return ids;
}

std::string make_jwt() {
  Poco::JWT::Token t;
  t.setSubject("ops-bot");
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  arr->add("*");
  t.payload().set("services", arr);
  t.payload().set("scope", "read admin");
  t.payload().set("exp", static_cast<Poco::Int64>(Poco::Timestamp().epochTime() + 3600));
  Poco::JWT::Signer signer(jwt_secret);
  return signer.sign(t, Poco::JWT::Signer::ALGO_HS256);
}

}  // namespace

TEST_CASE("audit trail: one entry per admin or state-changing action, refused ones included",
          "[audit]") {
  redis_process redis;
  server_process server(R"(
auth:
  jwt: {secret: ")" + jwt_secret +
                        R"("}
  tokens:
    - {name: all, token: tok, services: ["*"]}
    - {name: reader, token: read-tok, services: ["*"], scopes: [read]}
    - {name: shipper, token: ingest-tok, services: ["*"], scopes: [ingest]}
    - {name: root, token: tok-admin, services: ["*"], admin: true}
audit: {max_entries: 1000}
)" + storage_yaml(redis));
  const std::string key = "luffy:audit";
  REQUIRE(server
              .call(ingest_post("[" + record("java.lang.IllegalStateException", "findById") + "," +
                                    record("java.io.UncheckedIOException", "save") + "]",
                                "tok"))
              .status == 202);
  std::vector<std::string> ids;
  REQUIRE(eventually([&] {
    ids = cluster_ids(server.call(api_call("GET", "/api/v1/clusters", "tok")).body);
    return ids.size() == 2;
  }));

  size_t seen = 0;
  // Runs `call`, expects `status`, then exactly one new entry with these fields.
  auto expect = [&](const http_call& call, int status, const std::string& actor,
                    const std::string& action, const std::string& target,
                    const std::string& result) {
    const auto r = server.call(call);
    INFO(call.method << " " << call.path << " -> " << r.status << " " << r.body);
    CHECK(r.status == status);
    std::vector<std::map<std::string, std::string>> entries;
    CHECK(eventually(
        [&] {
          entries = stream_entries(redis, key);
          return entries.size() > seen;
        },
        5s));
    std::this_thread::sleep_for(100ms);  // a second entry would show up by now
    entries = stream_entries(redis, key);
    REQUIRE(entries.size() == seen + 1);
    seen = entries.size();
    auto& e = entries.back();
    CHECK(e["actor"] == actor);
    CHECK(e["action"] == action);
    CHECK(e["target"] == target);
    CHECK(e["result"] == result);
    CHECK(e["client"] == "127.0.0.1");
    const long long at = std::stoll(e["at"]);
    const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    CHECK(at <= now);
    CHECK(at > now - 10000);
  };
  const auto& a = ids[0];
  const auto& b = ids[1];
  expect(api_call("POST", "/api/v1/clusters/" + a + "/resolve", "tok"), 200, "all",
         "cluster.resolve", a, "ok");
  expect(api_call("POST", "/api/v1/clusters/" + a + "/reopen", make_jwt()), 200, "jwt:ops-bot",
         "cluster.reopen", a, "ok");
  expect(api_call("POST", "/api/v1/clusters/no-such-cluster/resolve", "tok"), 404, "all",
         "cluster.resolve", "no-such-cluster", "not_found");
  expect(api_call("POST", "/api/v1/clusters/" + a + "/resolve", "ingest-tok"), 403, "shipper",
         "cluster.resolve", a, "insufficient_scope");
  expect(api_call("POST", "/api/v1/clusters/" + b + "/merge", "tok", R"({"into":")" + a + R"("})"),
         200, "all", "cluster.merge", b, "ok");
  expect(api_call("POST", "/api/v1/admin/reload", "tok-admin"), 200, "root", "config.reload", "",
         "ok");
  expect(api_call("POST", "/api/v1/admin/reload", "read-tok"), 403, "reader", "config.reload", "",
         "forbidden");
  expect(api_call("POST", "/api/v1/admin/dead_letters/1-1/retry", "tok-admin"), 404, "root",
         "dead_letter.retry", "1-1", "not_found");

  // Rebalance: whatever a single node answers, it is recorded with that outcome.
  {
    const auto r = server.call(api_call("POST", "/api/v1/admin/shards/rebalance", "tok-admin"));
    CHECK(eventually([&] { return stream_entries(redis, key).size() == seen + 1; }, 5s));
    auto entries = stream_entries(redis, key);
    REQUIRE(entries.size() == seen + 1);
    seen = entries.size();
    CHECK(entries.back()["action"] == "shards.rebalance");
    CHECK(entries.back()["actor"] == "root");
    CHECK((entries.back()["result"] == "ok") == (r.status / 100 == 2));
  }

  // Reads, requests without credentials and wrong tokens leave nothing.
  CHECK(server.call(api_call("GET", "/api/v1/clusters", "tok")).status == 200);
  CHECK(server.call(api_call("GET", "/api/v1/admin/dead_letters", "tok-admin")).status == 200);
  CHECK(server.call(api_call("POST", "/api/v1/admin/reload", "")).status == 401);
  CHECK(server.call(api_call("POST", "/api/v1/clusters/" + a + "/resolve", "bad")).status == 401);
  std::this_thread::sleep_for(200ms);
  CHECK(stream_entries(redis, key).size() == seen);

  // SIGHUP: actor "signal", no client address.
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  CHECK(eventually([&] { return stream_entries(redis, key).size() == seen + 1; }, 10s));
  auto entries = stream_entries(redis, key);
  REQUIRE(entries.size() == seen + 1);
  CHECK(entries.back()["actor"] == "signal");
  CHECK(entries.back()["action"] == "config.reload");
  CHECK(entries.back()["result"] == "ok");
  CHECK(entries.back()["client"] == "");
  // GET /api/v1/admin/audit: newest first, paged; admin only; hostile parameters are 400s.
  auto page = server.call(api_call("GET", "/api/v1/admin/audit?limit=2", "tok-admin"));
  CHECK(page.status == 200);
  CHECK(json_int(page.body, "total") == static_cast<long>(seen + 1));
  CHECK(page.body.find("\"actor\":\"signal\"") != std::string::npos);
  const auto cursor = json_str(page.body, "next_cursor");
  CHECK(!cursor.empty());
  auto next =
      server.call(api_call("GET", "/api/v1/admin/audit?limit=2&cursor=" + cursor, "tok-admin"));
  CHECK(next.status == 200);
  CHECK(next.body.find("\"action\":\"dead_letter.retry\"") != std::string::npos);
  CHECK(server.call(api_call("GET", "/api/v1/admin/audit", "read-tok")).status == 403);
  CHECK(server.call(api_call("GET", "/api/v1/admin/audit", "")).status == 401);
  for (const char* bad : {"?limit=0", "?limit=1001", "?limit=x", "?cursor=abc", "?cursor=1-2-3"}) {
    CHECK(server.call(api_call("GET", std::string("/api/v1/admin/audit") + bad, "tok-admin"))
              .status == 400);
  }
  // The stream is bounded (MAXLEN ~ audit.max_entries) and the entries were counted.
  CHECK(server.get("/metrics")
            .body.find("luffy_ingest_audit_entries_total " + std::to_string(seen + 1)) !=
        std::string::npos);
}

TEST_CASE("audit trail: a write Redis refuses does not fail the action", "[audit]") {
  redis_process redis;
  server_process server(R"(
auth:
  tokens:
    - {name: root, token: tok-admin, services: ["*"], admin: true}
)" + storage_yaml(redis));
  // A key of the wrong type makes every XADD fail with WRONGTYPE.
  redis.cmd({"SET", "luffy:audit", "not a stream"});
  CHECK(server.call(api_call("POST", "/api/v1/admin/reload", "tok-admin")).status == 200);
  CHECK(server.get("/metrics").body.find("luffy_ingest_audit_write_failures_total 1") !=
        std::string::npos);
  CHECK(server.log().find("audit: entry not written") != std::string::npos);
}
