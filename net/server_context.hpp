#pragma once
// What the HTTP handlers share: configuration, authenticator, the gateway into the actor
// pipeline and the metrics. Owned by main (app/serve.cpp); handlers hold a reference.
//
// Hot reload (net/config_reload) replaces `config` and `auth` while HTTP workers use them, so both
// are atomic snapshots: a handler takes one with load() (or uses `->` for a single call) and keeps
// a consistent, live object for as long as it holds it.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "config/config_loader.hpp"
#include "core/auth_failure_tracker.hpp"
#include "core/backpressure.hpp"
#include "core/config.hpp"
#include "core/ingest_metrics.hpp"
#include "core/memory_budget.hpp"
#include "net/auth.hpp"
#include "net/ingest_gateway.hpp"

struct ssl_ctx_st;

namespace luffy {

// A value many threads read and one replaces whole, rarely. Readers get a shared_ptr snapshot
// that stays valid while they hold it, even across a swap.
template <class T>
class atomic_snapshot {
 public:
  std::shared_ptr<const T> load() const { return p_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const T> next) {
    p_.store(std::move(next), std::memory_order_release);
  }
  // `snapshot->member(...)`: the temporary snapshot lives until the end of the full expression.
  std::shared_ptr<const T> operator->() const { return load(); }

 private:
  std::atomic<std::shared_ptr<const T>> p_;
};

struct server_context {
  atomic_snapshot<luffy_config> config;  // the running configuration (replaced by hot reload)
  atomic_snapshot<authenticator> auth;   // built from config.auth (replaced with it)
  config_source source;                  // where `config` came from: a reload reads it again
  std::mutex reload_mutex;               // one reload at a time (SIGHUP and the admin API)
  std::unique_ptr<ingest_gateway> gateway;
  ingest_metrics metrics;
  admission_gates gates;  // backpressure at the edge (configured from config.backpressure)
  // Bytes held by ingest requests in flight (server.max_in_flight_bytes): bodies draw from it.
  memory_budget in_flight_bytes;
  // The TLS certificate and key new connections get (null: plain HTTP). Set at start by
  // net/http_server, replaced by a reload that re-read the files (net/config_reload).
  std::atomic<std::shared_ptr<ssl_ctx_st>> tls_context;
  std::atomic<bool> pipeline_up{false};
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string version;
  redis_endpoint redis;  // for the query API (each HTTP thread opens its own connection)
  // Failed authentications per client address (auth.failure_limit.*; net/status_handlers.cpp).
  auth_failure_tracker auth_failures;
};

}  // namespace luffy
