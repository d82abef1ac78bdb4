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

void append_string_array(std::string& b, const std::vector<std::string>& items) {
  b.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) {
      b.push_back(',');
    }
    append_json_string(b, items[i]);
  }
  b.push_back(']');
}

void append_gate(std::string& b, const watermark_gate& g) {
  append_json_key(b, g.name());
  b += "{\"name\":";
  append_json_string(b, g.name());
  b += ",\"closed\":";
  b += g.closed() ? "true" : "false";
  b += ",\"high\":";
  append_json_int(b, g.high());
  b += ",\"low\":";
  append_json_int(b, g.low());
  b += ",\"last_depth\":";
  append_json_int(b, g.last_depth());
  b += ",\"trips\":";
  append_json_uint(b, g.trips());
  b += ",\"refused\":";
  append_json_uint(b, g.refused());
  b += "}";
}

}  // namespace

void handle_admin_reload(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto r = reload_config(ctx, "POST /api/v1/admin/reload, token \"" + token + "\"");
  std::string b;
  if (!r.applied) {
    b = "{\"status\":\"error\",\"error\":\"invalid_config\",\"message\":";
    append_json_string(b, "the new configuration was refused; the running one is unchanged (" +
                              ctx.source.path + ")");
    b += ",\"problems\":";
    append_string_array(b, r.problems);
    b += "}";
    return send_json(res, 422, b);
  }
  b = "{\"status\":";
  append_json_string(b, r.changed.empty() ? "unchanged" : "reloaded");
  b += ",\"changed\":";
  append_string_array(b, r.changed);
  b += "}";
  send_json(res, 200, b);
}

void handle_admin_actors(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  std::string b = "{\"groups\":[";
  if (ctx.gateway) {
    bool first = true;
    for (const auto& g : ctx.gateway->stages().group_stats()) {
      if (!first) {
        b.push_back(',');
      }
      first = false;
      b += "{\"name\":";
      append_json_string(b, g.name);
      b += ",\"size\":";
      append_json_int(b, g.size);
      b += ",\"queue_depth\":";
      append_json_int(b, g.queue_depth);
      b += ",\"restarts\":";
      append_json_int(b, g.restarts);
      b += ",\"processed\":";
      append_json_uint(b, g.processed);
      b += "}";
    }
  }
  b += "],\"backpressure\":{";
  append_gate(b, ctx.gates.journal);
  b.push_back(',');
  append_gate(b, ctx.gates.pipeline);
  b.push_back(',');
  append_gate(b, ctx.gates.redis_memory);
  b += "}}";
  send_json(res, 200, b);
}

}  // namespace luffy
