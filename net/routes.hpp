#pragma once
// Every HTTP route, in one table: the router dispatches from it, `luffy-ingest routes` prints it,
// and a test compares it with docs/openapi.yaml.
#include <string_view>

namespace luffy {

enum class route_id {
  ingest_logs,
  ingest_single,
  health,
  ready,
  ingest_health,
  ingest_metrics,
  prometheus_metrics,
};

struct route {
  std::string_view method;
  std::string_view path;
  route_id id;
  bool authenticated;
};

inline constexpr route routes[] = {
    {"POST", "/api/v1/ingest/logs", route_id::ingest_logs, true},
    {"POST", "/api/v1/ingest/logs/single", route_id::ingest_single, true},
    {"GET", "/health", route_id::health, false},
    {"GET", "/ready", route_id::ready, false},
    {"GET", "/api/v1/ingest/health", route_id::ingest_health, false},
    {"GET", "/api/v1/ingest/metrics", route_id::ingest_metrics, false},
    {"GET", "/metrics", route_id::prometheus_metrics, false},
};

}  // namespace luffy
