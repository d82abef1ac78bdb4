#include "net/route_dispatch.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <string>

#include "net/audit_log.hpp"
#include "net/framed_request.hpp"
#include "net/request_body.hpp"

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

// The scope a route needs beyond a valid token: ingest for POST /api/v1/ingest/*, none for the
// admin routes (their handlers answer 403 "forbidden" without the admin scope, as they always
// have), read for every other authenticated route (clusters, agents). Derived from the path so
// that a route added to the table is covered without a second table to keep in step.
unsigned required_scope(const route& r) {
  if (!r.authenticated) {
    return 0;
  }
  if (r.path.starts_with("/api/v1/ingest/")) {
    return scope_ingest;
  }
  if (r.path.starts_with("/api/v1/admin/")) {
    return 0;
  }
  return scope_read;
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
    case route_id::cluster_reopen:
      return handle_cluster_reopen(ctx, req, res, param);
    case route_id::cluster_merge:
      return handle_cluster_merge(ctx, req, res, param);
    case route_id::agents_list:
      return handle_agents_list(ctx, req, res);
    case route_id::admin_reload:
      return handle_admin_reload(ctx, req, res);
    case route_id::admin_actors:
      return handle_admin_actors(ctx, req, res);
    case route_id::admin_shards:
      return handle_admin_shards(ctx, req, res);
    case route_id::admin_rebalance:
      return handle_admin_rebalance(ctx, req, res);
    case route_id::console_index:
      return handle_console_index(ctx, req, res);
    case route_id::console_asset:
      return handle_console_asset(ctx, req, res, param);
    case route_id::admin_dead_letters:
      return handle_dead_letters_list(ctx, req, res);
    case route_id::admin_dead_letter_retry:
      return handle_dead_letter_retry(ctx, req, res, param);
    case route_id::admin_audit:
      return handle_admin_audit(ctx, req, res);
    case route_id::service_delete:
      return handle_service_delete(ctx, req, res, param);
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
  const unsigned need = required_scope(r);
  if (need == scope_ingest) {
    // The ingest handler authenticates on its own, in its own order (503 while ingestion is off,
    // then 401, draining the body, counting the status): only a valid token without the ingest
    // scope is answered here. One more token check per request: a SHA-256 or an HS256 check.
    const auto auth = ctx.auth->authenticate(req.get("Authorization", ""), tls_client_of(req));
    if (auth.ok && !auth.has(scope_ingest)) {
      if (!discard_body(req, static_cast<size_t>(ctx.config->server.max_body_bytes))) {
        res.setKeepAlive(false);
      }
      ctx.metrics.count_status(403);
      send_json(res, 403,
                error_body("insufficient_scope",
                           "token \"" + auth.scope.token_name + "\" lacks the \"ingest\" scope " +
                               std::string(r.method) + " " + std::string(r.path) + " needs"));
      return;
    }
    return run_handler(ctx, r, match.param, req, res);
  }
  if (r.authenticated) {
    auto auth = authenticate_or_401(ctx, req, res);
    if (!auth) {
      return;
    }
    // Admin and state-changing routes leave one audit entry per authenticated request, allowed
    // or refused (net/audit_log.hpp); the outcome is what was answered.
    const std::string_view action = audited_action(r.id);
    auto audit = [&](std::string result) {
      if (!action.empty()) {
        record_audit(ctx, audit_entry{0, auth->scope.token_name, std::string(action),
                                      match.param.substr(0, 256), std::move(result),
                                      req.clientAddress().host().toString()});
      }
    };
    if (!auth->has(need)) {
      send_json(res, 403,
                error_body("insufficient_scope",
                           "token \"" + auth->scope.token_name + "\" lacks the \"read\" scope " +
                               std::string(r.method) + " " + std::string(r.path) + " needs"));
      audit("insufficient_scope");
      return;
    }
    // The handler asks for the caller again (authenticate_or_401): it gets this result instead of
    // a second hash or JWT verification.
    const dispatched_auth remember(*auth);
    note_sent_body(200, "");
    run_handler(ctx, r, match.param, req, res);
    if (!action.empty()) {
      const int status = static_cast<int>(res.getStatus());
      audit(status < 300 ? "ok" : last_sent_error());
    }
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
