// The admin API (admin tokens only: auth.tokens[].admin: true):
//   POST /api/v1/admin/reload   re-read the configuration and apply what can change live
//   GET  /api/v1/admin/actors   every actor group and backpressure gate, this node and the others
//   GET  /api/v1/admin/shards   every node and virtual shard: owner, lease epoch, journal entries
//   POST /api/v1/admin/shards/rebalance   every node hands over, at its next heartbeat, the shards
//                               another live node should own, without waiting for the minimum hold
// A missing or wrong token is 401, a valid token without `admin` 403.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "actors/pipeline.hpp"
#include "core/json_writer.hpp"
#include "net/config_reload.hpp"
#include "net/handlers.hpp"
#include "net/thread_store.hpp"
#include "storage/shard_lease_store.hpp"

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

// "nodes": every node that heartbeated lately, with its age and whether it counts as live.
void append_nodes(json_object_writer& o, const deployment_overview& view) {
  json_array_writer nodes(o.key("nodes"));
  for (const auto& [name, at] : view.nodes) {
    json_object_writer n(nodes.item());
    int64_t held = 0;
    for (const auto& l : view.leases) {
      held += l.node == name ? 1 : 0;
    }
    n.string("name", name)
        .integer("last_heartbeat_ms_ago", view.now_ms - at)
        .boolean("live", view.now_ms - at < node_ttl_ms)
        .integer("shards", held);
    n.close();
  }
  nodes.close();
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
  const auto cfg = ctx.config.load();
  o.string("node", cfg->node.name).string("role", cfg->node.role);
  // The other nodes of the deployment, from their heartbeats in Redis (best effort: the local
  // groups above are the answer's point).
  auto view = thread_store<shard_lease_store>(ctx).overview(cfg->storage.key_prefix, 0);
  if (view.ok()) {
    append_nodes(o, *view.value);
  } else {
    o.string("nodes_error", "redis: " + view.error.message);
  }
  o.close();
  send_json(res, 200, b);
}

void handle_admin_shards(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto cfg = ctx.config.load();
  const auto shards =
      cfg->clustering.enabled ? static_cast<uint32_t>(cfg->actors.cluster_shards) : uint32_t{0};
  auto view = thread_store<shard_lease_store>(ctx).overview(cfg->storage.key_prefix, shards);
  if (!view.ok()) {
    return send_json(res, 503, error_body("unavailable", "redis: " + view.error.message), 5);
  }
  const auto& v = *view.value;
  std::string b;
  json_object_writer o(b);
  o.string("node", cfg->node.name)
      .string("role", cfg->node.role)
      .integer("virtual_shards", shards)
      .integer("now_ms", v.now_ms);
  append_nodes(o, v);
  json_array_writer list(o.key("shards"));
  for (uint32_t i = 0; i < shards; ++i) {
    const auto& l = v.leases[i];
    json_object_writer s(list.item());
    s.integer("shard", i);
    if (l.held()) {
      s.string("owner", l.node)
          .uinteger("epoch", l.epoch)
          .integer("held_for_ms", v.now_ms - l.since_ms);
    } else {
      s.raw("owner", "null");
    }
    s.integer("journal_entries", v.journal_entries[i]);
    if (l.held() && l.node == cfg->node.name && i < ingest_metrics::max_shards) {
      s.integer("queue_depth", ctx.metrics.shard_backlog[i].load(std::memory_order_relaxed))
          .integer("lag_ms", ctx.metrics.shard_lag_ms[i].load(std::memory_order_relaxed));
    }
    s.close();
  }
  list.close();
  o.close();
  send_json(res, 200, b);
}

void handle_admin_rebalance(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto cfg = ctx.config.load();
  auto at = thread_store<shard_lease_store>(ctx).request_rebalance(cfg->storage.key_prefix);
  if (!at.ok()) {
    return send_json(res, 503, error_body("unavailable", "redis: " + at.error.message), 5);
  }
  spdlog::info("shard rebalance requested by token \"{}\"", token);
  std::string b;
  json_object_writer o(b);
  o.string("status", "requested")
      .integer("requested_at_ms", *at.value)
      .string("message",
              "every node hands the shards another live node should own to that node at its "
              "next heartbeat (about a second), without waiting for node.min_hold_seconds");
  o.close();
  send_json(res, 202, b);
}

}  // namespace luffy
