#pragma once
// Where Redis is: the address every store module (storage/*_store.hpp) and the Redis client
// connect to. Its own header so that the layers above storage/ (actors/, net/, app/) can carry an
// endpoint in their settings without seeing the client: only store modules talk to Redis
// (tools/check_layers.sh).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luffy {

struct redis_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string unix_socket;  // preferred when set
  int db = 0;
  std::chrono::milliseconds timeout{2000};
};

// Parses redis://host:port/db.
std::optional<redis_endpoint> parse_redis_url(std::string_view url);

}  // namespace luffy
