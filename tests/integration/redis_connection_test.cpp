// The server's Redis connection as an operator configures it: AUTH from the URL or the
// environment (never logged), a wrong or missing password stopping start-up, check-config on
// broken URLs, and Redis Sentinel with a SIGKILL of the primary under load.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "harness.hpp"
#include "sentinel_deployment.hpp"

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string pw = "pw-Zq81-never-logged";

std::string records(int from, int n, const std::string& service = "billing") {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    body +=
        (i ? "," : "") + std::string(R"j({"level":"ERROR","service_id":")j") + service +
        R"j(","message":"payment )j" + std::to_string(from + i) +
        R"j( failed","stack_trace":"java.lang.IllegalStateException: boom\n\tat com.acme.Pay.run(Pay.java:10)"})j";
  }
  return body + "]";
}

// processed, from the stats hash of a password-protected Redis on `port`.
long processed(int port, const std::string& password = pw) {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(port);
  ep.password = password;
  redis_client c(ep);
  auto r = c.command({"HGET", "luffy:stats", "processed"});
  return r.ok() && r.value->type == redis_value::kind::string ? std::stol(r.value->str) : -1;
}

}  // namespace

TEST_CASE("Redis AUTH: the password from the URL or the environment, never in the log",
          "[redis_auth]") {
  redis_process redis;
  redis.cmd({"CONFIG", "SET", "requirepass", pw});
  const std::string url_no_pw = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
  const std::string url_pw = "redis://:" + pw + "@127.0.0.1:" + std::to_string(redis.port()) + "/0";

  SECTION("in the URL") {
    server_process server("auth: {disabled: true}\nstorage: {redis: \"" + url_pw + "\"}\n");
    CHECK(server.call(ingest_post(records(0, 3), "")).status == 202);
    CHECK(eventually([&] { return processed(redis.port()) == 3; }, 20s));
    CHECK(server.get("/ready").status == 200);
    CHECK(server.log().find(pw) == std::string::npos);
    CHECK(server.log().find("(AUTH)") != std::string::npos);
  }
  SECTION("from LUFFY_STORAGE_REDIS_PASSWORD") {
    server_process server("auth: {disabled: true}\nstorage: {redis: \"" + url_no_pw + "\"}\n", {},
                          {{"LUFFY_STORAGE_REDIS_PASSWORD", pw}});
    CHECK(server.call(ingest_post(records(10, 2), "")).status == 202);
    CHECK(eventually([&] { return processed(redis.port()) == 2; }, 20s));
    CHECK(server.log().find(pw) == std::string::npos);
  }
  SECTION("a wrong or missing password stops start-up with Redis's words") {
    const auto dir = make_temp_dir("auth");
    const std::string listen =
        "server: {listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"}\n";
    std::ofstream(dir / "wrong.yaml") << "auth: {disabled: true}\n"
                                      << listen << "storage: {redis: \"redis://:not-" << pw
                                      << "@127.0.0.1:" << redis.port() << "/0\"}\n";
    auto [code, out] = run_binary({"serve", "--config", (dir / "wrong.yaml").string()});
    INFO(out);
    CHECK(code == 1);
    CHECK(out.find("WRONGPASS") != std::string::npos);
    CHECK(out.find("LUFFY_STORAGE_REDIS_PASSWORD") != std::string::npos);
    CHECK(out.find(pw) == std::string::npos);
    std::ofstream(dir / "none.yaml") << "auth: {disabled: true}\n"
                                     << listen << "storage: {redis: \"" << url_no_pw << "\"}\n";
    auto none = run_binary({"serve", "--config", (dir / "none.yaml").string()});
    INFO(none.second);
    CHECK(none.first == 1);
    CHECK(none.second.find("requires a password") != std::string::npos);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("check-config names a broken storage.redis without quoting its password",
          "[redis_auth][cli]") {
  const auto dir = make_temp_dir("url");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"redis://:" + pw + "@host:99999/0", "1 to 65535"},
      {"redis://user@host", "a user needs a password"},
      {"rediss://:" + pw + "@host", "TLS"},
      {"sentinel://:" + pw + "@s1,s2", "master name is missing"},
      {"localhost:6379", "expected redis://"},
  };
  for (const auto& [url, why] : cases) {
    std::ofstream(dir / "c.yaml") << "auth: {disabled: true}\nstorage: {redis: \"" << url
                                  << "\"}\n";
    auto [code, out] = run_binary({"check-config", "--config", (dir / "c.yaml").string()});
    INFO(url << "\n" << out);
    CHECK(code == 1);
    CHECK(out.find("storage.redis: ") != std::string::npos);
    CHECK(out.find(why) != std::string::npos);
    CHECK(out.find(pw) == std::string::npos);
  }
  std::ofstream(dir / "ok.yaml") << "auth: {disabled: true}\nstorage: {redis: "
                                 << "\"sentinel://10.0.0.1,10.0.0.2:26380/mymaster/2\"}\n";
  CHECK(run_binary({"check-config", "--config", (dir / "ok.yaml").string()}).first == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "Redis Sentinel: SIGKILL of the primary under load, every answer 202 or 503, nothing "
    "acknowledged is lost",
    "[sentinel]") {
  sentinel_deployment d;
  server_process server("auth: {disabled: true}\nstorage: {redis: \"" + d.url() +
                        "\", timeout_ms: 1000}\nserver: {request_timeout_seconds: 5}\n");
  REQUIRE(server.wait_ready());
  CHECK(server.log().find(sentinel_password) == std::string::npos);
  long acked = 0;
  int seq = 0;
  for (int i = 0; i < 20; ++i, seq += 10) {
    const auto r = server.call(ingest_post(records(seq, 10), ""));
    REQUIRE(r.status == 202);
    acked += 10;
  }
  // Replication is asynchronous: wait until the replica has everything acknowledged so far (a
  // 202 does not wait for a replica: docs/SCALING.md), then kill the primary.
  REQUIRE(eventually(
      [&] {
        auto p = authed(d.primary.port(), {"INFO", "replication"});
        auto r = authed(d.replica->port(), {"INFO", "replication"});
        auto offset = [](const std::string& info) {
          const auto at = info.find("master_repl_offset:");
          return at == std::string::npos ? -1L : std::stol(info.substr(at + 19));
        };
        return p && r && offset(p->str) > 0 && offset(p->str) == offset(r->str);
      },
      10s));
  d.primary.kill();
  const auto killed = std::chrono::steady_clock::now();
  std::map<int, int> statuses;
  int consecutive_ok = 0;
  std::chrono::milliseconds recovered{0};
  while (consecutive_ok < 5 && std::chrono::steady_clock::now() - killed < 40s) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = server.call(ingest_post(records(seq, 10), ""));  // throws on a reset
    seq += 10;
    ++statuses[r.status];
    CHECK(std::chrono::steady_clock::now() - t0 < 7s);  // never a hang
    if (r.status == 202) {
      acked += 10;
      if (consecutive_ok++ == 0) {
        recovered = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - killed);
      }
    } else {
      CHECK(r.status == 503);
      CHECK(r.headers.count("retry-after") == 1);
      consecutive_ok = 0;
    }
    std::this_thread::sleep_for(100ms);
  }
  INFO(server.log());
  REQUIRE(consecutive_ok == 5);
  WARN("ingest answered 202 again " << recovered.count() << " ms after the SIGKILL; 503s: "
                                    << statuses[503] << ", 202s: " << statuses[202]);
  // Every acknowledged record is clustered, counted once, in the promoted replica.
  CHECK(eventually([&] { return processed(d.replica->port(), sentinel_password) == acked; }, 30s));
  CHECK(processed(d.replica->port(), sentinel_password) == acked);
}

TEST_CASE("Redis Sentinel: a wrong or missing password stops start-up with Redis's words",
          "[sentinel][redis_auth]") {
  sentinel_deployment d;
  const auto dir = make_temp_dir("sentinel-auth");
  const std::string listen =
      "server: {listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"}\n";
  std::ofstream(dir / "wrong.yaml")
      << "auth: {disabled: true}\n"
      << listen << "storage: {redis: \"" << d.url(":not-it@") << "\", timeout_ms: 1000}\n";
  auto [code, out] = run_binary({"serve", "--config", (dir / "wrong.yaml").string()});
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("WRONGPASS") != std::string::npos);
  CHECK(out.find("LUFFY_STORAGE_REDIS_PASSWORD") != std::string::npos);
  CHECK(out.find("not-it") == std::string::npos);
  std::ofstream(dir / "none.yaml")
      << "auth: {disabled: true}\n"
      << listen << "storage: {redis: \"" << d.url("") << "\", timeout_ms: 1000}\n";
  auto none = run_binary({"serve", "--config", (dir / "none.yaml").string()});
  INFO(none.second);
  CHECK(none.first == 1);
  CHECK(none.second.find("NOAUTH") != std::string::npos);
  std::filesystem::remove_all(dir);
}
