#include "core/redis_url.hpp"

#include <catch2/catch.hpp>

using namespace luffy;

namespace {

redis_url ok(std::string_view text) {
  auto r = parse_redis_url_text(text);
  INFO(text << " -> " << r.error);
  REQUIRE(r.url);
  return *r.url;
}

std::string refused(std::string_view text) {
  auto r = parse_redis_url_text(text);
  INFO(text);
  REQUIRE(!r.url);
  REQUIRE(!r.error.empty());
  return r.error;
}

}  // namespace

TEST_CASE("redis_url: one server over TCP", "[redis_url]") {
  auto u = ok("redis://127.0.0.1:6380/2");
  CHECK(u.type == redis_url::kind::tcp);
  CHECK(u.hosts == std::vector<redis_host>{{"127.0.0.1", 6380}});
  CHECK(u.db == 2);
  CHECK(u.password.empty());
  CHECK(ok("redis://redis").hosts[0].port == 6379);
  CHECK(ok("redis://redis/").db == 0);
  CHECK(ok("redis://redis-0.redis.svc.cluster.local:6379/0").hosts[0].host ==
        "redis-0.redis.svc.cluster.local");
  auto v6 = ok("redis://[::1]:7000/1");
  CHECK(v6.hosts[0].host == "::1");
  CHECK(v6.hosts[0].port == 7000);
}

TEST_CASE("redis_url: the password, with or without an ACL user", "[redis_url]") {
  // The issue's example: this used to pass check-config and fail later with "Name or service
  // not known" (the host parsed as ":secret@host").
  auto u = ok("redis://:secret@host:6379/0");
  CHECK(u.hosts[0].host == "host");
  CHECK(u.user.empty());
  CHECK(u.password == "secret");
  auto acl = ok("redis://luffy:p%40ss%3Aw%2Fd@host/3");
  CHECK(acl.user == "luffy");
  CHECK(acl.password == "p@ss:w/d");
  // '@' inside the password, unencoded: the last '@' before the path ends the user info.
  CHECK(ok("redis://:a@b@host").password == "a@b");
}

TEST_CASE("redis_url: Unix sockets and Sentinel", "[redis_url]") {
  auto s = ok("unix:///run/redis/redis.sock?db=4");
  CHECK(s.type == redis_url::kind::unix_socket);
  CHECK(s.socket_path == "/run/redis/redis.sock");
  CHECK(s.db == 4);
  CHECK(ok("unix://:pw@/tmp/r.sock").password == "pw");
  auto st = ok("sentinel://s1:26379,s2,[fd00::3]:26380/mymaster/1");
  CHECK(st.type == redis_url::kind::sentinel);
  CHECK(st.hosts == std::vector<redis_host>{{"s1", 26379}, {"s2", 26379}, {"fd00::3", 26380}});
  CHECK(st.master == "mymaster");
  CHECK(st.db == 1);
  auto with_pw = ok("sentinel://:pw@10.0.0.1/primary");
  CHECK(with_pw.password == "pw");
  CHECK(with_pw.hosts == std::vector<redis_host>{{"10.0.0.1", 26379}});
}

TEST_CASE("redis_url: every broken form is refused with a sentence that names it", "[redis_url]") {
  CHECK(refused("rediss://host:6379").find("TLS") != std::string::npos);
  CHECK(refused("http://host").find("expected redis://") != std::string::npos);
  CHECK(refused("host:6379").find("expected redis://") != std::string::npos);
  CHECK(refused("redis://").find("host is missing") != std::string::npos);
  CHECK(refused("redis://:6379").find("host is missing") != std::string::npos);
  CHECK(refused("redis://host:0").find("1 to 65535") != std::string::npos);
  CHECK(refused("redis://host:65536").find("1 to 65535") != std::string::npos);
  CHECK(refused("redis://host:99999999999999").find("1 to 65535") != std::string::npos);
  CHECK(refused("redis://host:").find("empty") != std::string::npos);
  CHECK(refused("redis://host:-1").find("1 to 65535") != std::string::npos);
  CHECK(refused("redis://host/x").find("database") != std::string::npos);
  CHECK(refused("redis://host/-1").find("database") != std::string::npos);
  CHECK(refused("redis://::1:6379").find("brackets") != std::string::npos);
  CHECK(refused("redis://[::1").find("IPv6") != std::string::npos);
  CHECK(refused("redis://[zz]:1").find("IPv6") != std::string::npos);
  CHECK(refused("redis://ho st").find("space") != std::string::npos);
  CHECK(refused(std::string("redis://host\n:1")).find("control") != std::string::npos);
  CHECK(refused("redis://user@host").find("needs a password") != std::string::npos);
  CHECK(refused("redis://:%zz@host").find("hex") != std::string::npos);
  CHECK(refused("redis://:%4@host").find("hex") != std::string::npos);
  CHECK(refused("redis://host?timeout=1").find("query") != std::string::npos);
  CHECK(refused("redis://h%6fst").find("not a host name") != std::string::npos);
  CHECK(refused("unix://host/sock").find("path, not a host") != std::string::npos);
  CHECK(refused("unix://").find("path is missing") != std::string::npos);
  CHECK(refused("unix:///s.sock?x=1").find("db=N") != std::string::npos);
  CHECK(refused("sentinel://s1,s2").find("master name is missing") != std::string::npos);
  CHECK(refused("sentinel://s1,/m").find("sentinel 2") != std::string::npos);
  CHECK(refused("sentinel://s1/m/x").find("database") != std::string::npos);
  // No refusal quotes the password.
  CHECK(refused("redis://:hunter2@").find("hunter2") == std::string::npos);
  CHECK(refused("redis://:hunter2@host:x").find("hunter2") == std::string::npos);
}
