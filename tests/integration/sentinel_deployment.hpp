#pragma once
// A Redis Sentinel deployment on loopback for tests: a primary and a replica that both require
// `sentinel_password`, watched by three sentinels (redis-server --sentinel), all started on free
// ports and stopped by PID. Used by tests/storage/sentinel_test.cpp and the server's Sentinel
// integration test.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace luffy::test {

inline const std::string sentinel_password = "s3cr3t-pw";

// One command on a server that requires sentinel_password; nullopt when it did not answer.
std::optional<redis_value> authed(int port, const std::vector<std::string_view>& cmd);

class sentinel_process {
 public:
  explicit sentinel_process(int primary_port);
  ~sentinel_process();
  void stop();
  int port() const { return port_; }
  std::string log() const;

 private:
  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
};

struct sentinel_deployment {
  redis_process primary;
  std::unique_ptr<redis_process> replica;
  std::vector<std::unique_ptr<sentinel_process>> sentinels;

  // Returns when the replica is in sync and every sentinel knows the replica and the others.
  sentinel_deployment();
  // sentinel://<credentials>127.0.0.1:p1,...:p3/<master>
  std::string url(const std::string& credentials = ":" + sentinel_password + "@",
                  const std::string& master = "mymaster") const;
};

}  // namespace luffy::test
