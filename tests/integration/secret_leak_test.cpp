// No secret reaches a log line, an error body, /metrics or check-config output: the real binary at
// log.level trace, distinctive static tokens, a JWT secret and a Redis password, every route in
// net/routes.hpp called with valid, invalid and missing credentials and bad bodies, both reload
// paths, `check-config` and `routes`; then every byte the server produced is searched for each
// secret and its SHA-256 hex (tokens are kept hashed, and a hash is as good as the token to anyone
// who can replay a comparison).
#include <Poco/DigestEngine.h>
#include <Poco/JSON/Array.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "net/routes.hpp"

using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string ingest_token = "ingest-SECRET-7f3a9c1e5b2d";
const std::string admin_token = "admin-SECRET-c4e8a2f6d0b1";
const std::string read_token = "read-SECRET-9b5d3f7a1c6e";
const std::string wrong_token = "wrong-SECRET-e2a6c0f4b8d3";  // a mistyped token is a secret too
const std::string jwt_secret = "jwt-SECRET-0a1b2c3d4e5f6a7b8c9d0e1f2a3b";
const std::string redis_password = "redis-SECRET-5e7c9a1b3d";
// A webhook URL's path is its credential (Slack, Google Chat): the notifier posts to it (a closed
// loopback port: every attempt fails and is logged, with the URL redacted) and nothing shows it.
const std::string webhook_secret = "webhook-SECRET-3c9e1a7f5b";

std::string sha256_hex(const std::string& s) {
  Poco::SHA2Engine e(Poco::SHA2Engine::SHA_256);
  e.update(s);
  return Poco::DigestEngine::digestToHex(e.digest());
}

std::string make_jwt(const std::string& secret, const std::string& scope) {
  Poco::JWT::Token t;
  t.setSubject("leak-agent");
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  arr->add("*");
  t.payload().set("services", arr);
  t.payload().set("scope", scope);
  t.payload().set("exp", static_cast<Poco::Int64>(Poco::Timestamp().epochTime() + 3600));
  Poco::JWT::Signer signer(secret);
  return signer.sign(t, Poco::JWT::Signer::ALGO_HS256);
}

// A concrete path for a route: {id} is a known cluster id (or an unknown one), {asset} a file.
std::string concrete(std::string path, const std::string& id) {
  const std::vector<std::pair<std::string, std::string>> params = {{"{id}", id},
                                                                   {"{asset}", "app.js"}};
  for (const auto& [param, value] : params) {
    const auto at = path.find(param);
    if (at != std::string::npos)
      path.replace(at, param.size(), value);
  }
  return path;
}

}  // namespace

TEST_CASE("no secret in the log, a reply body, /metrics or check-config output at trace level",
          "[secrets]") {
  redis_process redis;
  redis.cmd({"CONFIG", "SET", "requirepass", redis_password});
  const std::string redis_url =
      "redis://:" + redis_password + "@127.0.0.1:" + std::to_string(redis.port()) + "/0";
  const std::string jwt_admin = make_jwt(jwt_secret, "ingest read admin");
  const std::string jwt_forged = make_jwt("not-the-" + jwt_secret, "ingest read admin");
  const std::string yaml =
      "log: {level: trace}\n"
      "auth:\n"
      "  jwt: {secret: \"" +
      jwt_secret +
      "\"}\n"
      "  tokens:\n"
      "    - {name: leak-ingest, token: \"" +
      ingest_token +
      "\", services: [\"*\"], scopes: [ingest]}\n"
      "    - {name: leak-read, token: \"" +
      read_token +
      "\", services: [\"*\"], scopes: [read]}\n"
      "    - {name: leak-admin, token: \"" +
      admin_token +
      "\", services: [\"*\"], admin: true}\n"
      "storage: {redis: \"" +
      redis_url +
      "\"}\n"
      "notifications:\n"
      "  max_attempts: 2\n"
      "  webhooks:\n"
      "    - {name: leak-hook, format: slack, url: \"http://127.0.0.1:" +
      std::to_string(free_port()) + "/services/T1/B1/" + webhook_secret + "\"}\n";
  server_process server(yaml);
  std::string seen;  // every reply body and header, every CLI output
  auto record = [&](const http_reply& r) {
    seen += r.body;
    seen += '\n';
    for (const auto& [k, v] : r.headers)
      seen += k + ": " + v + "\n";
  };

  // Some data, so the cluster routes have something to show.
  const std::string records =
      R"j([{"level":"ERROR","service_id":"billing","message":"payment 1 failed","stack_trace":"java.lang.IllegalStateException: boom\n\tat com.acme.Pay.run(Pay.java:10)"},)j"
      R"j({"level":"ERROR","service_id":"billing","message":"disk full on /var"}])j";
  auto r = server.call(ingest_post(records, ingest_token));
  record(r);
  CHECK(r.status == 202);
  std::string cluster_id;
  eventually([&] {
    auto list = server.call(api_call("GET", "/api/v1/clusters", read_token));
    const auto at = list.body.find("\"id\":\"");
    if (at == std::string::npos)
      return false;
    const auto end = list.body.find('"', at + 6);
    cluster_id = list.body.substr(at + 6, end - at - 6);
    return true;
  });
  INFO("cluster " << cluster_id);

  const std::vector<std::string> credentials = {
      ingest_token, read_token, admin_token, wrong_token,
      jwt_admin,    jwt_forged, "",          "Basic " + admin_token};
  const std::vector<std::string> bodies = {
      "", "{", "not json", R"({"into":")" + cluster_id + R"("})", R"({"into":"nope"})"};
  int calls = 0;
  for (const auto& rt : luffy::routes) {
    for (const auto& id : {cluster_id, std::string("unknown-cluster"), std::string("..%2f")}) {
      if (rt.path.find('{') == std::string_view::npos && id != cluster_id)
        continue;  // no parameter: once is enough
      const auto path = concrete(std::string(rt.path), id);
      for (const auto& cred : credentials) {
        for (const auto& body : bodies) {
          if (!rt.reads_body && !body.empty() && body != "{")
            continue;  // a body the route drops: one bad body is enough
          http_call c;
          c.method = std::string(rt.method);
          c.path = path;
          if (cred.rfind("Basic ", 0) == 0)
            c.headers.push_back({"Authorization", cred});
          else if (!cred.empty())
            c.headers.push_back({"Authorization", "Bearer " + cred});
          if (!body.empty()) {
            c.headers.push_back({"Content-Type", "application/json"});
            c.body = body;
          }
          record(server.call(c));
          ++calls;
        }
      }
    }
  }
  INFO(calls << " calls");
  CHECK(calls > 300);
  // The token in a header the server does not read.
  record(server.call({"GET", "/api/v1/clusters", {{"X-Api-Key", admin_token}}, ""}));

  // Both reload paths: an unchanged file, then a changed one, then a broken one.
  record(server.call(api_call("POST", "/api/v1/admin/reload", admin_token)));
  record(server.call(api_call("POST", "/api/v1/admin/reload", jwt_admin)));
  std::ofstream(server.config_path(), std::ios::app) << "ingest: {max_records: 5000}\n";
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  CHECK(eventually([&] { return server.log().find("reload (SIGHUP)") != std::string::npos; }));
  record(server.call(api_call("POST", "/api/v1/admin/reload", admin_token)));
  {
    std::ofstream broken(server.config_path(), std::ios::app);
    broken << "auth: {tokens: [{name: x, token: \"" << admin_token << "\", scopes: [bogus]}]}\n";
  }
  record(server.call(api_call("POST", "/api/v1/admin/reload", admin_token)));
  ::kill(server.pid(), SIGHUP);
  std::this_thread::sleep_for(500ms);

  record(server.get("/metrics"));
  record(server.get("/api/v1/ingest/metrics"));

  // The CLI: check-config on the good file and a broken one (with the password in the URL), and
  // the environment's password; routes.
  const auto dir = make_temp_dir("secrets");
  std::ofstream(dir / "good.yaml") << yaml;
  std::ofstream(dir / "bad.yaml") << yaml << "server: {max_body_bytes: -1}\n"
                                  << "auth: {tokens: [{token: \"" << admin_token
                                  << "\", scopes: [bogus]}]}\n";
  for (const auto* file : {"good.yaml", "bad.yaml"}) {
    auto [code, out] = run_binary({"check-config", "--config", (dir / file).string()});
    seen += out;
    auto env = run_binary(
        {"check-config", "--config", (dir / file).string(), "--set",
         "storage.redis=redis://127.0.0.1:" + std::to_string(redis.port()) + "/0"},
        {{"LUFFY_STORAGE_REDIS_PASSWORD", redis_password}, {"LUFFY_AUTH_JWT_SECRET", jwt_secret}});
    seen += env.second;
  }
  seen += run_binary({"routes"}).second;
  std::filesystem::remove_all(dir);

  const std::string log = server.log();
  CHECK(log.find("/api/v1/admin/reload") != std::string::npos);  // requests were logged
  CHECK(log.find("notifier: webhook leak-hook (slack, http://127.0.0.1:") !=
        std::string::npos);  // the webhook was configured and logged, redacted
  for (const auto& secret : {ingest_token, read_token, admin_token, wrong_token, jwt_secret,
                             redis_password, jwt_admin, jwt_forged, webhook_secret}) {
    for (const auto& needle : {secret, sha256_hex(secret)}) {
      INFO("secret " << needle);
      const auto in_log = log.find(needle);
      const auto in_replies = seen.find(needle);
      if (in_log != std::string::npos)
        INFO("log: " << log.substr(in_log > 200 ? in_log - 200 : 0, 400));
      if (in_replies != std::string::npos)
        INFO("replies: " << seen.substr(in_replies > 200 ? in_replies - 200 : 0, 400));
      CHECK(in_log == std::string::npos);
      CHECK(in_replies == std::string::npos);
    }
  }
}
