#include "net/request_exchange.hpp"

#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Timestamp.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>

#include "net/framed_request.hpp"
#include "net/handlers.hpp"
#include "net/route_dispatch.hpp"
#include "net/router.hpp"

namespace luffy {

namespace {

// No route answers HEAD, and its answer must have no body (the client reads none).
exchange_result refuse_head(framed_request& request, Poco::Net::HTTPServerResponseImpl& response) {
  request.discard(kDiscardLimit);
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                              std::string(reason_phrase(405)));
  response.set("Allow", "GET, POST");
  response.setContentType("application/json");
  response.setContentLength(0);
  response.send();
  return {exchange_result::ending::head_refused, response.getKeepAlive(), request.body_done()};
}

exchange_result answer_route(server_context& ctx, framed_request& request,
                             Poco::Net::HTTPServerResponseImpl& response) {
  const route_match match = find_route(request.getMethod(), request.getURI());
  if (!match.reads_body() && !request.discard(kDiscardLimit)) {
    response.setKeepAlive(false);  // a body the route does not read, too long to drop
  }
  dispatch_request(ctx, match, request, response);
  if (!response.sent()) {
    send_json(response, 500,
              error_body("internal_error", "the server failed to handle the request"));
  }
  return {exchange_result::ending::answered, response.getKeepAlive(), request.body_done()};
}

}  // namespace

exchange_result exchange_request(server_context& ctx, connection& c, request_framer& framer,
                                 const Poco::Net::HTTPServerParams::Ptr& params,
                                 const std::atomic<bool>& stopping) {
  const request_head& head = framer.head();
  try {
    write_session session(c.socket, params);
    Poco::Net::HTTPServerResponseImpl response(session);
    framed_request request(c, framer, response, *params);
    response.setDate(Poco::Timestamp());
    response.setVersion(request.getVersion());
    response.setKeepAlive(head.keep_alive && !stopping.load());
    if (head.method == "HEAD") {
      return refuse_head(request, response);
    }
    return answer_route(ctx, request, response);
  } catch (const std::exception& e) {
    spdlog::debug("connection closed: {}", e.what());  // a write failed or was cut
    return {};
  }
}

}  // namespace luffy
