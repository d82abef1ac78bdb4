#pragma once
// Route dispatch: answers one request the router has matched (net/router.hpp), through the
// route's handler (net/handlers.hpp).
//
// Contract: always answers, never throws. In order: a query string that is not valid
// percent-encoding is 400 bad_parameter (whatever the route); no route is 404 not_found; a route
// without this method is 405 method_not_allowed with Allow; otherwise the route's handler runs, and
// an exception escaping it (a bug: handlers do not throw) is logged and, when nothing was sent
// yet, answered 500 internal_error.
#include "net/handlers.hpp"
#include "net/router.hpp"
#include "net/server_context.hpp"

namespace luffy {

void dispatch_request(server_context& ctx, const route_match& match, http_request& req,
                      http_response& res);

}  // namespace luffy
