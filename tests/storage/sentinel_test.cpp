// storage/sentinel against a real Redis Sentinel deployment on loopback: a password-protected
// primary, its replica and three sentinels (redis-server --sentinel), then a SIGKILL of the
// primary and the failover.
#include "storage/sentinel.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "sentinel_deployment.hpp"

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string& password = sentinel_password;

redis_result<redis_host> discover_primary(const redis_url& url, std::chrono::milliseconds timeout) {
  auto ep = endpoint_of(url);
  ep.timeout = timeout;
  return luffy::discover_primary(ep);
}

redis_url parsed(const std::string& text) {
  auto r = parse_redis_url_text(text);
  INFO(r.error);
  REQUIRE(r.url);
  return *r.url;
}

}  // namespace

TEST_CASE(
    "sentinel: discovers the primary, confirms it, survives dead sentinels, follows a failover",
    "[sentinel]") {
  sentinel_deployment d;
  const auto url = parsed(d.url());

  SECTION("the primary, confirmed by ROLE") {
    auto r = discover_primary(url, 1s);
    INFO(r.error.message);
    REQUIRE(r.ok());
    CHECK(r.value->host == "127.0.0.1");
    CHECK(r.value->port == d.primary.port());
  }

  SECTION("a sentinel that is down is skipped; none up is an error naming each") {
    d.sentinels[0]->stop();
    auto r = discover_primary(url, 1s);
    INFO(r.error.message);
    REQUIRE(r.ok());
    CHECK(r.value->port == d.primary.port());
    for (auto& s : d.sentinels) {
      s->stop();
    }
    auto none = discover_primary(url, 500ms);
    REQUIRE(!none.ok());
    for (auto& s : d.sentinels) {
      CHECK(none.error.message.find("sentinel 127.0.0.1:" + std::to_string(s->port())) !=
            std::string::npos);
    }
  }

  SECTION("a wrong password or an unknown master name is an error that says so") {
    auto wrong = discover_primary(parsed(d.url(":not-the-password@")), 1s);
    REQUIRE(!wrong.ok());
    CHECK(wrong.error.message.find("WRONGPASS") != std::string::npos);
    CHECK(wrong.error.message.find("not-the-password") == std::string::npos);
    auto none = discover_primary(parsed(d.url(":" + password + "@", "other")), 1s);
    REQUIRE(!none.ok());
    CHECK(none.error.message.find("does not monitor a master named 'other'") != std::string::npos);
  }

  SECTION("after a SIGKILL of the primary, the promoted replica") {
    const int old_port = d.primary.port();
    d.primary.kill();
    const auto t0 = std::chrono::steady_clock::now();
    redis_result<redis_host> r;
    const bool moved = eventually(
        [&] {
          r = discover_primary(url, 500ms);
          return r.ok() && r.value->port == d.replica->port();
        },
        30s);
    INFO(r.error.message << "\n" << d.sentinels[0]->log());
    REQUIRE(moved);
    CHECK(r.value->port != old_port);
    WARN("failover seen by discover_primary after "
         << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  t0)
                .count()
         << " ms (down-after-milliseconds 1000)");
    auto set = authed(d.replica->port(), {"SET", "after-failover", "1"});
    REQUIRE(set);
    CHECK(set->str == "OK");
  }
}
