#pragma once
// Where Redis is: the address every store module (storage/*_store.hpp) and the Redis client
// connect to, with its credentials. Its own header so that the layers above storage/ (actors/,
// net/, app/) can carry an endpoint in their settings without seeing the client: only store
// modules talk to Redis (tools/check_layers.sh).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_url.hpp"

namespace luffy {

struct redis_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string unix_socket;  // preferred when set
  int db = 0;
  std::chrono::milliseconds timeout{2000};
  // AUTH after connecting when `password` is set (AUTH user password when `user` is too).
  std::string user, password;
  // Redis Sentinel when not empty: host and port are found by asking these sentinels for the
  // primary of `master` (storage/sentinel.hpp) at every connect.
  std::vector<redis_host> sentinels;
  std::string master;

  // For logs: where, never the password ("redis://127.0.0.1:6379/0 (AUTH)").
  std::string describe() const;
};

// The endpoint of a parsed storage.redis URL; `password` is used when the URL has none.
redis_endpoint endpoint_of(const redis_url& url, const std::string& password = "");

}  // namespace luffy
