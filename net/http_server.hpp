#pragma once
// The HTTP edge: Poco's HTTP request and response objects and our handlers, behind our own
// accept loop.
//
// Poco's HTTPServer gives every connection a worker thread from accept to close, so idle
// keep-alive connections and clients trickling their headers or body pin the worker pool, and a
// per-read socket timeout never fires for a client sending a byte every few seconds. Here one
// "gate" thread (net/connection_gate.hpp) owns every connection that is not in a request: it
// accepts, waits (poll) until a complete request head is in the kernel buffer, and only then
// hands the connection to a worker (net/worker_pool.hpp); after the response a kept-alive
// connection comes back to the gate. Workers therefore only ever hold requests whose head has
// arrived. The gate also enforces total deadlines (head, body, idle) and a minimum body rate when
// requests are waiting for a worker, and caps the number of open connections (server.* keys,
// docs/CONFIGURATION.md, docs/RELIABILITY.md).
// Where each request ends is decided once, by the gate, with core/http_framing (Boost.Beast's
// parser): the gate refuses ambiguous heads itself (JSON, then the connection closes), a worker
// reads exactly the framed body (net/request_body.hpp), and a kept-alive connection's next
// request is parsed only after its previous body was read to its end and its response has left
// (bounded pipelining). Requests are routed by net/router.hpp over the table in net/routes.hpp.
// Every response has a JSON body (Prometheus text on /metrics).
#include <cstdint>
#include <memory>

#include "net/request_body.hpp"
#include "net/server_context.hpp"

namespace luffy {

class http_server {
 public:
  explicit http_server(server_context& ctx);
  ~http_server();
  // Throws Poco::Exception when the address cannot be bound.
  void start();
  // Stops accepting and closes idle connections, lets in-flight requests finish (slow bodies
  // are cut), then returns.
  void stop();
  uint16_t port() const;

  struct impl;

 private:
  server_context& ctx_;
  std::unique_ptr<impl> impl_;
};

}  // namespace luffy
