#include "net/http_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <spdlog/spdlog.h>

#include "net/handlers.hpp"
#include "net/routes.hpp"

namespace luffy {

namespace {

class route_handler : public Poco::Net::HTTPRequestHandler {
 public:
  route_handler(server_context& ctx, const route* r, bool method_ok, std::string param = "")
      : ctx_(ctx), route_(r), method_ok_(method_ok), param_(std::move(param)) {}

  void handleRequest(http_request& req, http_response& res) override {
    try {
      dispatch(req, res);
    } catch (const std::exception& e) {
      // Handlers never throw by design; this keeps a bug from killing the connection silently.
      spdlog::error("handler for {} {} failed: {}", req.getMethod(), req.getURI(), e.what());
      if (!res.sent()) {
        send_json(res, 500,
                  error_body("internal_error", "the server failed to handle the request"));
      }
    }
  }

 private:
  void dispatch(http_request& req, http_response& res) {
    if (route_ == nullptr) {
      ctx_.metrics.count_status(404);
      res.setKeepAlive(false);
      send_json(res, 404, error_body("not_found", "no route " + req.getURI()));
      return;
    }
    if (!method_ok_) {
      res.set("Allow", std::string(route_->method));
      res.setKeepAlive(false);
      send_json(res, 405,
                error_body("method_not_allowed",
                           std::string(route_->path) + " accepts " + std::string(route_->method)));
      return;
    }
    switch (route_->id) {
      case route_id::ingest_logs:
        return handle_ingest(ctx_, req, res, false);
      case route_id::ingest_single:
        return handle_ingest(ctx_, req, res, true);
      case route_id::health:
        return handle_health(ctx_, req, res);
      case route_id::ready:
      case route_id::ingest_health:
        return handle_ready(ctx_, req, res);
      case route_id::ingest_metrics:
        return handle_metrics_json(ctx_, req, res);
      case route_id::prometheus_metrics:
        return handle_metrics_prometheus(ctx_, req, res);
      case route_id::clusters_list:
        return handle_clusters_list(ctx_, req, res);
      case route_id::cluster_get:
        return handle_cluster_get(ctx_, req, res, param_);
      case route_id::cluster_resolve:
        return handle_cluster_resolve(ctx_, req, res, param_);
    }
  }

  server_context& ctx_;
  const route* route_;
  bool method_ok_;
  std::string param_;
};

class router : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit router(server_context& ctx) : ctx_(ctx) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(const http_request& req) override {
    std::string_view path = req.getURI();
    const auto q = path.find('?');
    if (q != std::string_view::npos) {
      path = path.substr(0, q);
    }
    const route* by_path = nullptr;
    std::string param;
    for (const auto& r : routes) {
      if (route_matches(r.path, path, param)) {
        if (r.method == req.getMethod()) {
          return new route_handler(ctx_, &r, true, param);
        }
        by_path = &r;
      }
    }
    return new route_handler(ctx_, by_path, false);
  }

 private:
  server_context& ctx_;
};

}  // namespace

http_server::http_server(server_context& ctx) : ctx_(ctx) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  std::string host;
  uint16_t port = 0;
  split_host_port(ctx_.config.server.listen, host, port);
  const auto& s = ctx_.config.server;
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(static_cast<int>(s.threads));
  params->setMaxQueued(static_cast<int>(s.max_queued));
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited: Fluent Bit keeps its connection
  params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(s.keepalive_timeout_seconds), 0));
  // Bounds a slow client: a request (headers or body) idle this long is dropped.
  params->setTimeout(Poco::Timespan(static_cast<long>(s.request_timeout_seconds), 0));
  params->setServerName("luffy-ingest");
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host, port),
                                 static_cast<int>(s.max_connections));
  static Poco::ThreadPool pool("http", 2, static_cast<int>(s.threads) + 4, 60);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new router(ctx_), pool, socket, params);
  server_->start();
}

void http_server::stop() {
  if (server_) {
    server_->stopAll(false);
    server_.reset();
  }
}

uint16_t http_server::port() const {
  return server_ ? server_->port() : 0;
}

}  // namespace luffy
