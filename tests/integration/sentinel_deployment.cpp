#include "sentinel_deployment.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

namespace luffy::test {

using namespace std::chrono_literals;

std::optional<redis_value> authed(int port, const std::vector<std::string_view>& cmd) {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(port);
  ep.timeout = 2s;
  redis_client c(ep);
  auto r = c.pipeline({{"AUTH", sentinel_password}, cmd});
  if (!r.ok() || r.value->size() != 2) {
    return std::nullopt;
  }
  return r.value->back();
}

sentinel_process::sentinel_process(int primary_port)
    : dir_(make_temp_dir("sentinel")), port_(free_port()) {
  std::ofstream(dir_ / "sentinel.conf")
      << "port " << port_ << "\nbind 127.0.0.1\ndaemonize no\ndir " << dir_.string()
      << "\nsentinel monitor mymaster 127.0.0.1 " << primary_port << " 2\n"
      << "sentinel auth-pass mymaster " << sentinel_password << "\n"
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

sentinel_process::~sentinel_process() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void sentinel_process::stop() {
  if (pid_ > 0) {
    stop_process(pid_);
    pid_ = -1;
  }
}

std::string sentinel_process::log() const {
  return read_text(dir_ / "sentinel.log");
}

sentinel_deployment::sentinel_deployment() {
  primary.cmd({"CONFIG", "SET", "masterauth", sentinel_password});
  primary.cmd({"CONFIG", "SET", "requirepass", sentinel_password});
  replica = std::make_unique<redis_process>(
      std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(primary.port()),
                               "--masterauth", sentinel_password});
  replica->cmd({"CONFIG", "SET", "requirepass", sentinel_password});
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

std::string sentinel_deployment::url(const std::string& credentials,
                                     const std::string& master) const {
  std::string u = "sentinel://" + credentials;
  for (size_t i = 0; i < sentinels.size(); ++i) {
    u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinels[i]->port());
  }
  return u + "/" + master;
}

}  // namespace luffy::test
