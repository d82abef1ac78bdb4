#include "net/http_server.hpp"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "net/connection_gate.hpp"
#include "net/edge_settings.hpp"
#include "net/tls_terminator.hpp"
#include "net/worker_pool.hpp"

namespace luffy {

namespace {

edge_settings settings_from(const luffy_config& cfg) {
  const auto& s = cfg.server;
  edge_settings e;
  e.header_timeout = std::chrono::seconds(s.header_timeout_seconds);
  e.body_timeout = std::chrono::seconds(s.body_timeout_seconds);
  e.keepalive_timeout = std::chrono::seconds(s.keepalive_timeout_seconds);
  e.request_timeout = std::chrono::seconds(s.request_timeout_seconds);
  e.write_timeout = std::chrono::seconds(s.write_timeout_seconds);
  e.min_body_rate = s.min_body_rate;
  e.max_body_bytes = s.max_body_bytes;
  e.max_per_client = s.max_connections_per_client;
  e.max_open = s.max_open_connections;
  e.max_queued = static_cast<size_t>(s.max_queued);
  e.threads = static_cast<size_t>(s.threads);
  e.limits.max_head_bytes = kMaxHeadBytes;
  return e;
}

// The parameters Poco's response objects read (our own gate does the accepting and the reading).
Poco::Net::HTTPServerParams::Ptr poco_params(const luffy_config& cfg) {
  const auto& s = cfg.server;
  Poco::Net::HTTPServerParams::Ptr p = new Poco::Net::HTTPServerParams;
  p->setKeepAlive(true);
  p->setMaxKeepAliveRequests(0);  // unlimited: Fluent Bit keeps its connection
  p->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(s.keepalive_timeout_seconds), 0));
  // Per-read socket timeout inside a request; the watchdog enforces the total deadlines.
  p->setTimeout(Poco::Timespan(static_cast<long>(s.request_timeout_seconds), 0));
  p->setServerName("luffy-ingest");
  return p;
}

// Every open connection is a descriptor: raises the soft limit to fit the cap if we may, else
// returns the cap lowered to fit the limit.
int64_t fit_descriptor_limit(int64_t max_open) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return max_open;
  }
  const auto want = static_cast<rlim_t>(max_open + 256);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min(want, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < want) {
    max_open = std::max<int64_t>(16, static_cast<int64_t>(lim.rlim_cur) - 256);
    spdlog::warn("server.max_open_connections lowered to {}: the descriptor limit is {}", max_open,
                 lim.rlim_cur);
  }
  return max_open;
}

}  // namespace

// Declared in the order they must be destroyed in reverse: the gate uses the pool, both use the
// settings and the stopping flag.
struct http_server::impl {
  edge_settings settings;
  std::atomic<bool> stopping{false};
  std::unique_ptr<worker_pool> pool;
  std::unique_ptr<connection_gate> gate;
  std::thread gate_thread;
  // With server.tls.*: the public socket, and the relay that hands sessions to the gate.
  Poco::Net::ServerSocket tls_listener;
  std::unique_ptr<tls_terminator> tls;
  std::thread tls_thread;
};

http_server::http_server(server_context& ctx) : ctx_(ctx) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  std::string host;
  uint16_t port = 0;
  const auto cfg = ctx_.config.load();  // server.* keys are never reloaded: fixed from here on
  split_host_port(cfg->server.listen, host, port);
  auto d = std::make_unique<impl>();
  d->settings = settings_from(*cfg);
  // One client address holds at most server.max_connections_per_client connections; and at
  // server.max_open_connections the connection closed to make room is taken from the address
  // holding the most (gate_rules.hpp evicted_before).
  d->settings.max_open = fit_descriptor_limit(d->settings.max_open);

  const bool tls = !cfg->server.tls.cert_file.empty();
  // Made before the socket is bound: a bad certificate stops the start with its reason.
  std::shared_ptr<ssl_ctx_st> tls_ctx;
  if (tls) {
    tls_ctx = make_server_tls_context(cfg->server.tls.cert_file, cfg->server.tls.key_file,
                                      cfg->server.tls.client_ca_file,
                                      cfg->server.tls.require_client_cert);
    ctx_.tls_context.store(tls_ctx);
  }
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress(host, port),
                                   static_cast<int>(cfg->server.max_connections));
  listener.setBlocking(false);
  // A worker that gives a connection back wakes the gate (made next; workers start after it).
  d->pool = std::make_unique<worker_pool>(ctx_, d->settings, poco_params(*cfg), d->stopping,
                                          [p = d.get()] { p->gate->wake(); });
  if (tls) {
    // The gate gets no listener: every connection comes from the TLS relay, already decrypted.
    d->tls_listener = std::move(listener);
    d->gate = std::make_unique<connection_gate>(d->settings, Poco::Net::ServerSocket(), *d->pool,
                                                d->stopping);
    d->tls = std::make_unique<tls_terminator>(
        d->settings, d->tls_listener.impl()->sockfd(), ctx_.tls_context,
        [g = d->gate.get()](int fd, const sockaddr_storage& peer,
                            std::shared_ptr<const client_identity> client) {
          g->adopt(fd, peer, std::move(client));
        },
        d->stopping);
    spdlog::info("TLS on {} ({})", cfg->server.listen, cfg->server.tls.cert_file);
  } else {
    d->gate =
        std::make_unique<connection_gate>(d->settings, std::move(listener), *d->pool, d->stopping);
  }
  d->pool->start();
  d->gate_thread = std::thread([g = d->gate.get()] { g->run(); });
  if (d->tls) {
    d->tls_thread = std::thread([t = d->tls.get()] { t->run(); });
  }
  impl_ = std::move(d);
}

void http_server::stop() {
  if (!impl_) {
    return;
  }
  impl_->stopping = true;
  impl_->gate->wake();
  impl_->gate_thread.join();  // returns once every worker has finished
  // The relay stops after the gate: the last responses were relayed while workers finished.
  if (impl_->tls) {
    impl_->tls->wake();
    impl_->tls_thread.join();
    impl_->tls.reset();
  }
  impl_.reset();
}

uint16_t http_server::port() const {
  if (!impl_) {
    return 0;
  }
  return impl_->tls ? impl_->tls->port() : impl_->gate->port();
}

}  // namespace luffy
