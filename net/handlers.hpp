#pragma once
// Request handlers, one function per route (net/ingest_handler.cpp, net/status_handlers.cpp,
// net/cluster_handlers.cpp, net/admin_handlers.cpp, net/console_handlers.cpp).
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <optional>
#include <string>

#include "net/server_context.hpp"

namespace luffy {

using http_request = Poco::Net::HTTPServerRequest;
using http_response = Poco::Net::HTTPServerResponse;
class json_object_writer;

// "backpressure": {"journal": {name, closed, high, low, last_depth, trips, refused}, "pipeline":
// {...}, "redis_memory": {...}} into `o` (the metrics JSON and GET /api/v1/admin/actors).
// The gates are brought up to date first (admission_gates::observe): what a reader sees is the
// state the next request would meet.
void append_backpressure(json_object_writer& o, server_context& ctx);

void handle_ingest(server_context& ctx, http_request& req, http_response& res, bool single);
void handle_health(server_context& ctx, http_request& req, http_response& res);
void handle_ready(server_context& ctx, http_request& req, http_response& res);
void handle_metrics_json(server_context& ctx, http_request& req, http_response& res);
void handle_metrics_prometheus(server_context& ctx, http_request& req, http_response& res);

void handle_clusters_list(server_context& ctx, http_request& req, http_response& res);
void handle_cluster_get(server_context& ctx, http_request& req, http_response& res,
                        const std::string& id);
void handle_cluster_resolve(server_context& ctx, http_request& req, http_response& res,
                            const std::string& id);
void handle_cluster_reopen(server_context& ctx, http_request& req, http_response& res,
                           const std::string& id);
void handle_cluster_merge(server_context& ctx, http_request& req, http_response& res,
                          const std::string& id);

// The sending agents (net/agent_handlers.cpp): admin tokens see all, others their services'.
void handle_agents_list(server_context& ctx, http_request& req, http_response& res);

// Admin token only (401 without a valid token, 403 for a non-admin one).
void handle_admin_reload(server_context& ctx, http_request& req, http_response& res);
void handle_admin_actors(server_context& ctx, http_request& req, http_response& res);
void handle_admin_shards(server_context& ctx, http_request& req, http_response& res);
void handle_admin_rebalance(server_context& ctx, http_request& req, http_response& res);
void handle_dead_letters_list(server_context& ctx, http_request& req, http_response& res);
void handle_dead_letter_retry(server_context& ctx, http_request& req, http_response& res,
                              const std::string& id);
// The audit trail, newest first (net/admin_handlers.cpp; docs/API.md "Audit trail").
void handle_admin_audit(server_context& ctx, http_request& req, http_response& res);
// DELETE /api/v1/services/{id} (admin): the service's clusters, samples, indexes and stream
// entries (storage/retention_store.hpp forget_service; docs/OPERATIONS.md "Deletion").
void handle_service_delete(server_context& ctx, http_request& req, http_response& res,
                           const std::string& service);

// The operator console's embedded files (no token; security headers on every answer).
void handle_console_index(server_context& ctx, http_request& req, http_response& res);
void handle_console_asset(server_context& ctx, http_request& req, http_response& res,
                          const std::string& name);

// Sends a JSON body with the status; adds Retry-After when retry_after > 0.
void send_json(http_response& res, int status, const std::string& body, uint32_t retry_after = 0);

// The caller's bearer token, checked; or nothing, after answering 401 with WWW-Authenticate.
// Inside a dispatched_auth (the router authenticated the request already) its result.
std::optional<auth_result> authenticate_or_401(server_context& ctx, http_request& req,
                                               http_response& res);

// auth.failure_limit: counts a failed authentication from req's client address and answers the
// seconds it should wait (0: answer 401 as usual; > 0: answer 429 too_many_auth_failures with
// that Retry-After, the connection closed). auth_succeeded forgets the address's failures.
uint32_t auth_failure_wait(server_context& ctx, http_request& req, http_response& res);
void auth_succeeded(server_context& ctx, http_request& req);
std::string too_many_auth_failures_body();

// While alive, authenticate_or_401 on this thread answers `auth` (one request is handled on one
// thread, start to end: net/route_dispatch.cpp checks scopes before the handler runs).
class dispatched_auth {
 public:
  explicit dispatched_auth(const auth_result& auth);
  ~dispatched_auth();
  dispatched_auth(const dispatched_auth&) = delete;
  dispatched_auth& operator=(const dispatched_auth&) = delete;
  static const auth_result* current();
};

}  // namespace luffy
