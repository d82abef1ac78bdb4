#pragma once
// Every HTTP route, in one table: the router dispatches from it, `luffy-ingest routes` prints it,
// and a test compares it with docs/openapi.yaml.
#include <string>
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
  cluster_merge,
  admin_reload,
  admin_actors,
};

struct route {
  std::string_view method;
  std::string_view path;
  route_id id;
  bool authenticated;  // admin routes need an admin token (checked by their handlers)
  // The handler reads the request body (through read_body); any other route's body is read and
  // dropped by the server before the handler runs (net/http_server.cpp).
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
    {"POST", "/api/v1/clusters/{id}/merge", route_id::cluster_merge, true, true},
    {"POST", "/api/v1/admin/reload", route_id::admin_reload, true},
    {"GET", "/api/v1/admin/actors", route_id::admin_actors, true},
};

// True when `path` matches `pattern`, where a `{name}` segment matches one non-empty segment;
// the value of the first such segment is stored in `param`.
inline bool route_matches(std::string_view pattern, std::string_view path, std::string& param) {
  while (true) {
    const auto ps = pattern.find('/', 1);
    const auto qs = path.find('/', 1);
    const auto pseg = pattern.substr(0, ps);
    const auto qseg = path.substr(0, qs);
    if (pseg.size() > 2 && pseg[1] == '{') {
      if (qseg.size() < 2)
        return false;
      param = std::string(qseg.substr(1));
    } else if (pseg != qseg) {
      return false;
    }
    if (ps == std::string_view::npos || qs == std::string_view::npos) {
      return ps == qs;
    }
    pattern = pattern.substr(ps);
    path = path.substr(qs);
  }
}

}  // namespace luffy
