#pragma once
// The request exchange: on a connection a worker holds, turns the head the gate parsed into
// Poco's request and response, routes it (net/router.hpp) and answers it
// (net/route_dispatch.hpp). HEAD, which no route answers, gets a 405 without a body here. A body
// the route does not read is read and dropped first (up to kDiscardLimit; a longer one closes the
// connection after the answer).
//
// Contract: the request's head bytes were already taken from the socket; reads exactly the framed
// body (never a byte of the next request); always answers unless a write fails or is cut; never
// throws; never closes the socket (the worker pool decides what becomes of the connection).
#include <Poco/Net/HTTPServerParams.h>

#include <atomic>

#include "core/http_framing.hpp"
#include "net/connection.hpp"
#include "net/server_context.hpp"

namespace luffy {

struct exchange_result {
  enum class ending {
    failed,        // a write failed or the connection was cut: close it
    head_refused,  // HEAD answered 405 (the watchdog's cut is not consulted)
    answered,      // a route's answer (or 404/405/500) was sent
  } how = ending::failed;
  bool keep_alive = false;     // the response kept the connection alive
  bool body_complete = false;  // the body was read to its end (the next request starts there)
};

exchange_result exchange_request(server_context& ctx, connection& c, request_framer& framer,
                                 const Poco::Net::HTTPServerParams::Ptr& params,
                                 const std::atomic<bool>& stopping);

}  // namespace luffy
