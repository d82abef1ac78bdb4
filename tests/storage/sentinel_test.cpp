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

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

const std::string password = "s3cr3t-pw";

// One command on a password-protected server; nullopt when it did not answer.
std::optional<redis_value> authed(int port, const std::vector<std::string_view>& cmd) {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(port);
  ep.timeout = 2s;
  redis_client c(ep);
  auto r = c.pipeline({{"AUTH", password}, cmd});
  if (!r.ok() || r.value->size() != 2) {
    return std::nullopt;
  }
  return r.value->back();
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

class sentinel_process {
 public:
  explicit sentinel_process(int primary_port)
      : dir_(make_temp_dir("sentinel")), port_(free_port()) {
    std::ofstream(dir_ / "sentinel.conf")
        << "port " << port_ << "\nbind 127.0.0.1\ndaemonize no\ndir " << dir_.string()
        << "\nsentinel monitor mymaster 127.0.0.1 " << primary_port << " 2\n"
        << "sentinel auth-pass mymaster " << password << "\n"
        << "sentinel down-after-milliseconds mymaster 1000\n"
        << "sentinel failover-timeout mymaster 5000\n";
    pid_ = spawn_process({"redis-server", (dir_ / "sentinel.conf").string(), "--sentinel"},
                         dir_ / "sentinel.log");
    redis_endpoint ep;
    ep.port = static_cast<uint16_t>(port_);
    REQUIRE(eventually(
        [&] {
          redis_client c(ep);
          auto r = c.command({"PING"});
          return r.ok() && r.value->str == "PONG";
        },
        5s));
  }
  ~sentinel_process() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void stop() {
    if (pid_ > 0) {
      stop_process(pid_);
      pid_ = -1;
    }
  }
  int port() const { return port_; }
  std::string log() const { return read_text(dir_ / "sentinel.log"); }

 private:
  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
};

// A primary and a replica that both require `password`, watched by three sentinels.
struct sentinel_deployment {
  redis_process primary;
  std::unique_ptr<redis_process> replica;
  std::vector<std::unique_ptr<sentinel_process>> sentinels;

  sentinel_deployment() {
    primary.cmd({"CONFIG", "SET", "masterauth", password});
    primary.cmd({"CONFIG", "SET", "requirepass", password});
    replica = std::make_unique<redis_process>(std::vector<std::string>{
        "--replicaof", "127.0.0.1", std::to_string(primary.port()), "--masterauth", password});
    replica->cmd({"CONFIG", "SET", "requirepass", password});
    REQUIRE(eventually(
        [&] {
          auto r = authed(replica->port(), {"INFO", "replication"});
          return r && r->str.find("master_link_status:up") != std::string::npos;
        },
        10s));
    for (int i = 0; i < 3; ++i) {
      sentinels.push_back(std::make_unique<sentinel_process>(primary.port()));
    }
    // Every sentinel knows the replica and the two other sentinels before a failover can work.
    REQUIRE(eventually(
        [&] {
          for (const auto& s : sentinels) {
            redis_endpoint ep;
            ep.port = static_cast<uint16_t>(s->port());
            redis_client c(ep);
            auto r = c.command({"SENTINEL", "master", "mymaster"});
            if (!r.ok() || r.value->type != redis_value::kind::array) {
              return false;
            }
            const auto& kv = r.value->elements;
            long replicas = 0, others = 0;
            for (size_t i = 0; i + 1 < kv.size(); i += 2) {
              if (kv[i].str == "num-slaves")
                replicas = std::stol(kv[i + 1].str);
              if (kv[i].str == "num-other-sentinels")
                others = std::stol(kv[i + 1].str);
            }
            if (replicas < 1 || others < 2) {
              return false;
            }
          }
          return true;
        },
        20s));
  }

  std::string url(const std::string& credentials = ":" + password + "@",
                  const std::string& master = "mymaster") const {
    std::string u = "sentinel://" + credentials;
    for (size_t i = 0; i < sentinels.size(); ++i) {
      u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinels[i]->port());
    }
    return u + "/" + master;
  }
};

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
