#pragma once
// A blocking Redis connection (hiredis) with timeouts, pipelining and reconnect.
//
// Contract: every call either returns the server's reply or a `redis_error` saying what failed;
// it never blocks longer than the configured timeout per round trip. After an I/O error the
// connection is dropped and the next call reconnects, at most once per backoff period (100 ms
// doubling to 2 s; to 400 ms with Sentinel, whose retries only ask the sentinels) so a Redis outage
// costs a fast failure, not a connect storm. A connect sends AUTH when the endpoint has a password
// (a refusal is an error: "redis AUTH failed: WRONGPASS ..."), and with Sentinel it first asks the
// sentinels for the primary (storage/sentinel.hpp). A -READONLY reply (a primary demoted by a
// failover) is returned to the caller and drops the connection, so the next call finds the new
// primary. Not thread-safe: use one per thread/detached actor. Lives in storage/, the only layer
// that includes hiredis (tools/check_layers.sh).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/redis_endpoint.hpp"

struct redisContext;

namespace luffy {

struct redis_value {
  enum class kind { nil, integer, string, status, array, error } type = kind::nil;
  int64_t integer = 0;
  std::string str;  // string, status and error text
  std::vector<redis_value> elements;
};

struct redis_error {
  std::string message;
};

template <class T>
struct redis_result {
  std::optional<T> value;
  redis_error error;
  bool ok() const { return value.has_value(); }
};

// A store's replies: an error, or a value.
template <class T>
redis_result<T> redis_failed(redis_error e) {
  redis_result<T> r;
  r.error = std::move(e);
  return r;
}
template <class T>
redis_result<T> redis_done(T value) {
  redis_result<T> r;
  r.value = std::move(value);
  return r;
}

class redis_client {
 public:
  explicit redis_client(redis_endpoint ep);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // One command; arguments are binary-safe.
  redis_result<redis_value> command(const std::vector<std::string_view>& args);
  // Several commands in one round trip; replies in order. Fails whole on an I/O error.
  redis_result<std::vector<redis_value>> pipeline(
      const std::vector<std::vector<std::string_view>>& commands);
  // EVALSHA, loading the script on NOSCRIPT. `keys` then `args`.
  redis_result<redis_value> eval(const std::string& script, const std::string& sha1,
                                 const std::vector<std::string_view>& keys,
                                 const std::vector<std::string_view>& args);

  bool connected() const { return ctx_ != nullptr; }
  const redis_endpoint& endpoint() const { return ep_; }

 private:
  bool ensure_connected(redis_error& err);
  void drop();

  redis_endpoint ep_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

// SHA-1 hex of a script, as Redis computes it for EVALSHA.
std::string script_sha1(const std::string& script);

}  // namespace luffy
