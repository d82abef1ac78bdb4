#include "net/router.hpp"

namespace luffy {

route_match find_route(std::string_view method, std::string_view target) {
  std::string_view path = target;
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  route_match by_path;
  std::string param;
  for (const auto& r : routes) {
    if (route_matches(r.path, path, param)) {
      if (r.method == method) {
        return route_match{&r, true, param};
      }
      by_path.matched = &r;
    }
  }
  return by_path;
}

bool route_matches(std::string_view pattern, std::string_view path, std::string& param) {
  while (true) {
    const auto ps = pattern.find('/', 1);
    const auto qs = path.find('/', 1);
    const auto pseg = pattern.substr(0, ps);
    const auto qseg = path.substr(0, qs);
    if (pseg.size() > 2 && pseg[1] == '{') {
      if (qseg.size() < 2) {
        return false;
      }
      param = std::string(qseg.substr(1));
    } else if (pseg != qseg) {
      return false;
    }
    if (ps == std::string_view::npos || qs == std::string_view::npos) {
      return ps == qs;
    }
    pattern = pattern.substr(ps);
    path = path.substr(qs);
  }
}

}  // namespace luffy
