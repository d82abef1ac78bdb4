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
// Every response has a JSON body (Prometheus text on /metrics).
#include <Poco/Net/HTTPServerRequest.h>

#include <cstdint>
#include <ios>
#include <memory>

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

// Reads up to `n` bytes of `req`'s body straight from its connection, in one system call when
// the kernel has them (Poco's request stream reads 4 KiB per call: 375 calls for a 1.5 MB Fluent
// Bit chunk). The caller must know the body's length (Content-Length, not chunked), never ask
// for more than what is left of it, and never mix this with req.stream() for the same body.
// Returns the bytes read, 0 at the end of the connection (or a timeout, or a cut by the slow-body
// watchdog), or -1, having read nothing, when `req` was not read by http_server's sessions.
std::streamsize read_body_direct(Poco::Net::HTTPServerRequest& req, char* buf, std::streamsize n);

}  // namespace luffy
