#include "storage/redis_endpoint.hpp"

#include <charconv>

namespace luffy {

std::optional<redis_endpoint> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    return std::nullopt;
  }
  url.remove_prefix(scheme.size());
  redis_endpoint ep;
  const auto slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    const auto dbs = url.substr(slash + 1);
    if (!dbs.empty()) {
      auto r = std::from_chars(dbs.data(), dbs.data() + dbs.size(), ep.db);
      if (r.ec != std::errc() || r.ptr != dbs.data() + dbs.size()) {
        return std::nullopt;
      }
    }
  }
  const auto colon = hostport.rfind(':');
  if (colon == std::string_view::npos) {
    ep.host = std::string(hostport);
  } else {
    ep.host = std::string(hostport.substr(0, colon));
    const auto ps = hostport.substr(colon + 1);
    auto r = std::from_chars(ps.data(), ps.data() + ps.size(), ep.port);
    if (r.ec != std::errc() || r.ptr != ps.data() + ps.size()) {
      return std::nullopt;
    }
  }
  if (ep.host.empty()) {
    return std::nullopt;
  }
  return ep;
}

}  // namespace luffy
