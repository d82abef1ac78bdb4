#pragma once
// The HTTP edge: a Poco HTTPServer whose handlers authenticate, bound and decode requests, then
// hand them to the ingest gateway. Every response has a JSON body (Prometheus text on /metrics).
#include <memory>

#include "net/server_context.hpp"

namespace Poco::Net {
class HTTPServer;
}

namespace luffy {

class http_server {
 public:
  explicit http_server(server_context& ctx);
  ~http_server();
  // Throws Poco::Exception when the address cannot be bound.
  void start();
  // Stops accepting, lets in-flight requests finish (up to the request timeout), then closes.
  void stop();
  uint16_t port() const;

 private:
  server_context& ctx_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace luffy
