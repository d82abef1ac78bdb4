#pragma once
// What the HTTP handlers share: configuration, authenticator, the gateway into the actor
// pipeline and the metrics. Owned by main (net/serve.cpp); handlers hold a reference.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/ingest_metrics.hpp"
#include "net/auth.hpp"
#include "net/ingest_gateway.hpp"

namespace luffy {

struct server_context {
  luffy_config config;
  std::unique_ptr<authenticator> auth;
  std::unique_ptr<ingest_gateway> gateway;
  ingest_metrics metrics;
  std::atomic<bool> pipeline_up{false};
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string version;
  redis_endpoint redis;  // for the query API (each HTTP thread opens its own connection)
};

}  // namespace luffy
