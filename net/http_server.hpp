#pragma once
// The HTTP edge: Poco's HTTP request parsing and handlers, behind our own accept loop.
//
// Poco's HTTPServer gives every connection a worker thread from accept to close, so idle
// keep-alive connections and clients trickling their headers or body pin the worker pool, and a
// per-read socket timeout never fires for a client sending a byte every few seconds. Here one
// "gate" thread owns every connection that is not in a request: it accepts, waits (poll) until
// a complete request head is in the kernel buffer, and only then hands the connection to a
// worker; after the response a kept-alive connection comes back to the gate. Workers therefore
// only ever hold requests whose head has arrived. The gate also enforces total deadlines (head,
// body, idle) and a minimum body rate when requests are waiting for a worker, and caps the
// number of open connections (server.* keys, docs/CONFIGURATION.md, docs/RELIABILITY.md).
// Where each request ends is decided once, by the gate, with core/http_framing (Boost.Beast's
// parser): the gate refuses ambiguous heads itself (JSON, then the connection closes), a worker
// reads exactly the framed body, and a kept-alive connection's next request is parsed only after
// its previous body was read to its end and its response has left (bounded pipelining).
// Every response has a JSON body (Prometheus text on /metrics).
#include <Poco/Net/HTTPServerRequest.h>

#include <cstdint>
#include <ios>
#include <memory>

#include "core/http_framing.hpp"
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

// The request body, exactly as the gate framed it (core/http_framing): Content-Length bytes,
// a chunked body decoded, or nothing. Never a byte of the next request.
//
// read_body: up to n bytes, straight from the connection in one system call when the kernel has
// them (a 1.5 MB Fluent Bit chunk in a few calls). > 0 bytes read, 0 at the end of the body, -1
// when it cannot be read to its end (the client closed, a deadline cut it, a chunk is
// malformed): body_error() says why (status, code, message), and the connection closes after
// the answer. A 100 Continue the client waits for is sent before the first read, so a handler
// reads only after it has authenticated and admitted the request.
std::streamsize read_body(Poco::Net::HTTPServerRequest& req, char* buf, size_t n);
framing_error body_error(Poco::Net::HTTPServerRequest& req);
// none, length (and the length) or chunked.
body_framing request_framing(Poco::Net::HTTPServerRequest& req, uint64_t& length);
// Reads and drops the rest of the body, up to `limit` bytes; true when it ended, so that the
// connection can serve its next request. Does not ask for a body the client sends only after a
// 100 Continue (false: the connection closes after the answer).
bool discard_body(Poco::Net::HTTPServerRequest& req, size_t limit);

}  // namespace luffy
