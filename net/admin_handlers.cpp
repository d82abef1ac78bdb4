// The admin API (admin tokens only: auth.tokens[].admin: true):
//   POST /api/v1/admin/reload   re-read the configuration and apply what can change live
//   GET  /api/v1/admin/actors   every actor group and backpressure gate
// A missing or wrong token is 401, a valid token without `admin` 403.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "actors/pipeline.hpp"
#include "core/json_writer.hpp"
#include "net/config_reload.hpp"
#include "net/handlers.hpp"

namespace luffy {

namespace {

// Answers 401/403 and returns false unless the request carries an admin token.
bool authorize_admin(server_context& ctx, http_request& req, http_response& res,
                     std::string& token_name) {
  const auto auth = authenticate_or_401(ctx, req, res);
  if (!auth) {
    return false;
  }
  if (!auth->admin) {
    send_json(res, 403,
              error_body("forbidden", "token \"" + auth->scope.token_name +
                                          "\" is not an admin token (auth.tokens[].admin: true)"));
    return false;
  }
  token_name = auth->scope.token_name;
  return true;
}

void append_gate(json_object_writer& gates, const watermark_gate& g) {
  json_object_writer o(gates.key(g.name()));
  o.string("name", g.name())
      .boolean("closed", g.closed())
      .integer("high", g.high())
      .integer("low", g.low())
      .integer("last_depth", g.last_depth())
      .uinteger("trips", g.trips())
      .uinteger("refused", g.refused());
  o.close();
}

}  // namespace

void handle_admin_reload(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto r = reload_config(ctx, "POST /api/v1/admin/reload, token \"" + token + "\"");
  std::string b;
  json_object_writer o(b);
  if (!r.applied) {
    o.string("status", "error")
        .string("error", "invalid_config")
        .string("message", "the new configuration was refused; the running one is unchanged (" +
                               ctx.source.path + ")");
    append_json_string_array(o.key("problems"), r.problems);
    o.close();
    return send_json(res, 422, b);
  }
  o.string("status", r.changed.empty() ? "unchanged" : "reloaded");
  append_json_string_array(o.key("changed"), r.changed);
  o.close();
  send_json(res, 200, b);
}

void handle_admin_actors(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  std::string b;
  json_object_writer o(b);
  json_array_writer groups(o.key("groups"));
  if (ctx.gateway) {
    for (const auto& g : ctx.gateway->stages().group_stats()) {
      json_object_writer group(groups.item());
      group.string("name", g.name)
          .integer("size", g.size)
          .integer("queue_depth", g.queue_depth)
          .integer("restarts", g.restarts)
          .uinteger("processed", g.processed);
      group.close();
    }
  }
  groups.close();
  json_object_writer gates(o.key("backpressure"));
  append_gate(gates, ctx.gates.journal);
  append_gate(gates, ctx.gates.pipeline);
  append_gate(gates, ctx.gates.redis_memory);
  gates.close();
  o.close();
  send_json(res, 200, b);
}

}  // namespace luffy
