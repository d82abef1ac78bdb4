#pragma once
// The router: which route of the table (net/routes.hpp) a request's method and target name.
//
// Contract: pure (no sockets, no Poco, no allocation beyond the path parameter). The query string
// is ignored. A path no route has is a 404 (route == nullptr); a path some route has, but not with
// this method, is a 405 naming that route (its method is the Allow value); otherwise the route
// and the value of its `{name}` segment, if it has one. When several routes share a path, the
// first one with the method wins, and a 405 names the last one with the path.
#include <string>
#include <string_view>

#include "net/routes.hpp"

namespace luffy {

struct route_match {
  const route* matched = nullptr;  // nullptr: no route has this path (404)
  bool method_ok = false;          // false with a route: the path exists, not the method (405)
  std::string param;               // the `{id}` segment's value, when the route has one

  // Only routes declared with reads_body read a request body; any other route's body is read
  // and dropped by the server before the handler runs.
  bool reads_body() const { return matched != nullptr && method_ok && matched->reads_body; }
};

route_match find_route(std::string_view method, std::string_view target);

// True when `path` matches `pattern`, where a `{name}` segment matches one non-empty segment;
// the value of the first such segment is stored in `param`.
bool route_matches(std::string_view pattern, std::string_view path, std::string& param);

}  // namespace luffy
