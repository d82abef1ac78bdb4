#include "net/route_dispatch.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <string>

namespace luffy {

namespace {

// A query string that is not valid percent-encoding is the client's error, whatever the route
// (handlers parse it with Poco, which throws): true when it decodes.
bool query_decodes(const std::string& uri) {
  const auto q = uri.find('?');
  if (q == std::string::npos) {
    return true;
  }
  try {
    std::string decoded;
    Poco::URI::decode(uri.substr(q + 1), decoded);
  } catch (const Poco::Exception&) {
    return false;
  }
  return true;
}

void run_handler(server_context& ctx, const route& r, const std::string& param, http_request& req,
                 http_response& res) {
  switch (r.id) {
    case route_id::ingest_logs:
      return handle_ingest(ctx, req, res, false);
    case route_id::ingest_single:
      return handle_ingest(ctx, req, res, true);
    case route_id::health:
      return handle_health(ctx, req, res);
    case route_id::ready:
    case route_id::ingest_health:
      return handle_ready(ctx, req, res);
    case route_id::ingest_metrics:
      return handle_metrics_json(ctx, req, res);
    case route_id::prometheus_metrics:
      return handle_metrics_prometheus(ctx, req, res);
    case route_id::clusters_list:
      return handle_clusters_list(ctx, req, res);
    case route_id::cluster_get:
      return handle_cluster_get(ctx, req, res, param);
    case route_id::cluster_resolve:
      return handle_cluster_resolve(ctx, req, res, param);
    case route_id::cluster_merge:
      return handle_cluster_merge(ctx, req, res, param);
    case route_id::admin_reload:
      return handle_admin_reload(ctx, req, res);
    case route_id::admin_actors:
      return handle_admin_actors(ctx, req, res);
    case route_id::admin_shards:
      return handle_admin_shards(ctx, req, res);
    case route_id::admin_rebalance:
      return handle_admin_rebalance(ctx, req, res);
  }
}

void dispatch(server_context& ctx, const route_match& match, http_request& req,
              http_response& res) {
  if (!query_decodes(req.getURI())) {
    send_json(res, 400,
              error_body("bad_parameter", "the query string is not valid percent-encoding"));
    return;
  }
  if (match.matched == nullptr) {
    ctx.metrics.count_status(404);
    send_json(res, 404, error_body("not_found", "no route " + req.getURI()));
    return;
  }
  const route& r = *match.matched;
  if (!match.method_ok) {
    res.set("Allow", std::string(r.method));
    send_json(res, 405,
              error_body("method_not_allowed",
                         std::string(r.path) + " accepts " + std::string(r.method)));
    return;
  }
  run_handler(ctx, r, match.param, req, res);
}

}  // namespace

void dispatch_request(server_context& ctx, const route_match& match, http_request& req,
                      http_response& res) {
  try {
    dispatch(ctx, match, req, res);
  } catch (const std::exception& e) {
    // Handlers never throw by design; this keeps a bug from killing the connection silently.
    spdlog::error("handler for {} {} failed: {}", req.getMethod(), req.getURI(), e.what());
    if (!res.sent()) {
      send_json(res, 500, error_body("internal_error", "the server failed to handle the request"));
    }
  }
}

}  // namespace luffy
