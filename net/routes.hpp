#pragma once
// Every HTTP route, in one table: the router (net/router.hpp) matches requests against it,
// `luffy-ingest routes` prints it, and a test compares it with docs/openapi.yaml.
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
  clusters_list,
  cluster_get,
  cluster_resolve,
  cluster_reopen,
  cluster_merge,
  agents_list,
  admin_reload,
  admin_actors,
  admin_shards,
  admin_rebalance,
  console_index,
  console_asset,
  admin_dead_letters,
  admin_dead_letter_retry,
  admin_audit,
  service_delete,
};

struct route {
  std::string_view method;
  std::string_view path;
  route_id id;
  // A valid token; admin routes need the admin scope (checked by their handlers), ingest routes
  // the ingest scope, the others read (net/route_dispatch.cpp).
  bool authenticated;
  // The handler reads the request body (through read_body); any other route's body is read and
  // dropped by the server before the handler runs (net/request_exchange.cpp).
  bool reads_body = false;
};

inline constexpr route routes[] = {
    {"POST", "/api/v1/ingest/logs", route_id::ingest_logs, true, true},
    {"POST", "/api/v1/ingest/logs/single", route_id::ingest_single, true, true},
    {"GET", "/health", route_id::health, false},
    {"GET", "/ready", route_id::ready, false},
    {"GET", "/api/v1/ingest/health", route_id::ingest_health, false},
    {"GET", "/api/v1/ingest/metrics", route_id::ingest_metrics, false},
    {"GET", "/metrics", route_id::prometheus_metrics, false},
    {"GET", "/api/v1/clusters", route_id::clusters_list, true},
    {"GET", "/api/v1/clusters/{id}", route_id::cluster_get, true},
    {"POST", "/api/v1/clusters/{id}/resolve", route_id::cluster_resolve, true},
    {"POST", "/api/v1/clusters/{id}/reopen", route_id::cluster_reopen, true},
    {"POST", "/api/v1/clusters/{id}/merge", route_id::cluster_merge, true, true},
    {"GET", "/api/v1/agents", route_id::agents_list, true},
    {"POST", "/api/v1/admin/reload", route_id::admin_reload, true},
    {"GET", "/api/v1/admin/actors", route_id::admin_actors, true},
    {"GET", "/api/v1/admin/shards", route_id::admin_shards, true},
    {"POST", "/api/v1/admin/shards/rebalance", route_id::admin_rebalance, true},
    // The operator console (docs/CONSOLE.md): static assets, no data, so no token.
    {"GET", "/", route_id::console_index, false},
    {"GET", "/console/{asset}", route_id::console_asset, false},
    {"GET", "/api/v1/admin/dead_letters", route_id::admin_dead_letters, true},
    {"POST", "/api/v1/admin/dead_letters/{id}/retry", route_id::admin_dead_letter_retry, true},
    {"GET", "/api/v1/admin/audit", route_id::admin_audit, true},
    {"DELETE", "/api/v1/services/{id}", route_id::service_delete, true},
};

}  // namespace luffy
