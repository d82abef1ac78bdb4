#pragma once
// Request handlers, one function per route (net/ingest_handler.cpp, net/status_handlers.cpp,
// net/cluster_handlers.cpp, net/admin_handlers.cpp).
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <optional>
#include <string>

#include "net/server_context.hpp"

namespace luffy {

using http_request = Poco::Net::HTTPServerRequest;
using http_response = Poco::Net::HTTPServerResponse;

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
void handle_cluster_merge(server_context& ctx, http_request& req, http_response& res,
                          const std::string& id);

// Admin token only (401 without a valid token, 403 for a non-admin one).
void handle_admin_reload(server_context& ctx, http_request& req, http_response& res);
void handle_admin_actors(server_context& ctx, http_request& req, http_response& res);
void handle_admin_shards(server_context& ctx, http_request& req, http_response& res);
void handle_admin_rebalance(server_context& ctx, http_request& req, http_response& res);

// Sends a JSON body with the status; adds Retry-After when retry_after > 0.
void send_json(http_response& res, int status, const std::string& body, uint32_t retry_after = 0);

// The caller's bearer token, checked; or nothing, after answering 401 with WWW-Authenticate.
std::optional<auth_result> authenticate_or_401(server_context& ctx, http_request& req,
                                               http_response& res);

}  // namespace luffy
