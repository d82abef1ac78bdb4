#pragma once
// redis_url: the text of `storage.redis` parsed and checked, without connecting.
//
//   redis://[[user]:password@]host[:port][/db]      one server (port 6379); host a name, an IPv4
//                                                   address or [an IPv6 address]
//   unix://[[user]:password@]/path/to.sock[?db=N]   one server on a Unix socket
//   sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
//                                                   Redis Sentinel (port 26379): the primary of
//                                                   `master`, discovered by asking the sentinels
//
// The user and password (percent-encoded, RFC 3986) are those of the Redis servers (AUTH, or
// AUTH user password with ACLs); a user needs a password. `rediss://` (TLS) is refused by name.
// Contract: pure; every refusal is one sentence naming what is wrong, never quoting the password.
// Never log the URL text: log storage/redis_endpoint.hpp's describe() of the endpoint it yields.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luffy {

struct redis_host {
  std::string host;
  uint16_t port = 0;
  bool operator==(const redis_host&) const = default;
};

struct redis_url {
  enum class kind { tcp, unix_socket, sentinel };
  kind type = kind::tcp;
  std::vector<redis_host> hosts;  // tcp: the server; sentinel: the sentinels, in the URL's order
  std::string socket_path;        // unix_socket
  std::string master;             // sentinel: the monitored master's name
  int db = 0;
  std::string user, password;  // both empty: no AUTH
};

struct redis_url_result {
  std::optional<redis_url> url;
  std::string error;  // why `url` is empty
};

redis_url_result parse_redis_url_text(std::string_view text);

}  // namespace luffy
