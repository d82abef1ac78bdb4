#include "storage/redis_endpoint.hpp"

namespace luffy {

redis_endpoint endpoint_of(const redis_url& url, const std::string& password) {
  redis_endpoint ep;
  ep.db = url.db;
  ep.user = url.user;
  ep.password = url.password.empty() ? password : url.password;
  switch (url.type) {
    case redis_url::kind::tcp:
      ep.host = url.hosts.at(0).host;
      ep.port = url.hosts.at(0).port;
      break;
    case redis_url::kind::unix_socket:
      ep.unix_socket = url.socket_path;
      break;
    case redis_url::kind::sentinel:
      ep.sentinels = url.hosts;
      ep.master = url.master;
      ep.host.clear();
      ep.port = 0;
      break;
  }
  return ep;
}

std::string redis_endpoint::describe() const {
  std::string out;
  if (!sentinels.empty()) {
    out = "sentinel://";
    for (size_t i = 0; i < sentinels.size(); ++i) {
      out += (i ? "," : "") + sentinels[i].host + ":" + std::to_string(sentinels[i].port);
    }
    out += "/" + master;
  } else if (!unix_socket.empty()) {
    out = "unix://" + unix_socket;
  } else {
    out = "redis://" + host + ":" + std::to_string(port);
  }
  out += "/" + std::to_string(db);
  if (!password.empty()) {
    out += user.empty() ? " (AUTH)" : " (AUTH as " + user + ")";
  }
  return out;
}

}  // namespace luffy
