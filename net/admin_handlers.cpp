// The admin API (admin tokens only: auth.tokens[].admin: true):
//   POST /api/v1/admin/reload   re-read the configuration and apply what can change live
//   GET  /api/v1/admin/actors   every actor group and backpressure gate, this node and the others
//   GET  /api/v1/admin/shards   every node and virtual shard: owner, lease epoch, journal entries
//   POST /api/v1/admin/shards/rebalance   every node hands over, at its next heartbeat, the shards
//                               another live node should own, without waiting for the minimum hold
//   GET  /api/v1/admin/dead_letters?limit=&cursor=   the dead-letter stream, newest first
//   POST /api/v1/admin/dead_letters/{id}/retry       a dead-lettered journal entry back on its
//                               journal stream (storage/lua/dead_letter_retry.lua)
//   GET  /api/v1/admin/audit?limit=&cursor=   the audit trail (<prefix>:audit), newest first
//   DELETE /api/v1/services/{id}    erases a service: its clusters with samples, series and
//                               indexes, its miner state and its stream entries (audited)
// A missing or wrong token is 401, a valid token without `admin` 403.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/URI.h>

#include <charconv>
#include <memory>
#include <optional>

#include "core/event_time.hpp"
#include "core/journal_codec.hpp"
#include "core/utf8.hpp"

#include "actors/pipeline.hpp"
#include "core/json_writer.hpp"
#include "net/config_reload.hpp"
#include "net/handlers.hpp"
#include "net/query_params.hpp"
#include "net/thread_store.hpp"
#include "storage/audit_store.hpp"
#include "storage/dead_letter_store.hpp"
#include "storage/retention_store.hpp"
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

// ISO-8601 with milliseconds ("2026-12-05T09:10:00.000Z"), as the console contract has it.
std::string iso_ms(int64_t ms) {
  std::string t = format_time_iso8601(ms * 1000);
  const auto dot = t.find('.');
  if (dot != std::string::npos && t.size() > dot + 4) {
    t.resize(dot + 4);
    t += 'Z';
  }
  return t;
}

// At most 500 bytes of `text`, cut on a character boundary, invalid UTF-8 repaired.
std::string preview_of(std::string_view text) {
  return repair_utf8(text.substr(0, utf8_truncation_point(text, 500)));
}

// The service_id of a record's JSON text, nullopt when it is not JSON or has none.
std::optional<std::string> service_of(std::string_view record) {
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(std::string(record)).extract<Poco::JSON::Object::Ptr>();
    if (obj && obj->has("service_id") && obj->get("service_id").isString()) {
      return obj->getValue<std::string>("service_id");
    }
  } catch (...) {
  }
  return std::nullopt;
}

void append_dead_letter(json_array_writer& list, const dead_letter_item& d) {
  json_object_writer o(list.item());
  const auto ms = std::atoll(d.id.c_str());  // a stream id starts with its time in ms
  auto get = [&](std::string_view k) {
    const auto* v = d.field(k);
    return v == nullptr ? std::string_view() : std::string_view(*v);
  };
  std::string reason(get("error"));
  std::optional<std::string> service;
  std::string preview;
  if (const auto* rec = d.field("record")) {
    service = service_of(*rec);
    preview = preview_of(*rec);
  } else if (const auto* recs = d.field("records")) {
    const auto enc = journal_encoding_from(get("enc").empty() ? "json" : get("enc"));
    // At most 1 MiB decoded: enough for a preview and the first record's service.
    const auto lines = enc ? decode_payload(*recs, *enc, size_t{1} << 20) : std::nullopt;
    if (lines) {
      // JSON lines: the first record names the service
      const std::string_view all(*lines);
      service = service_of(all.substr(0, all.find('\n')));
      preview = preview_of(all);
    } else {
      preview = std::string(get("n")) + " records, " + std::string(get("enc")) + " encoded, " +
                std::to_string(recs->size()) + " bytes (not decodable here)";
    }
  }
  o.string("id", d.id)
      .string("at", iso_ms(ms))
      .string("source", get("source"))
      .string("reason", preview_of(reason));
  if (service) {
    o.string("service_id", preview_of(*service));
  } else {
    o.raw("service_id", "null");
  }
  o.string("preview", preview).boolean("retryable", d.retryable());
  if (const auto* entry = d.field("entry")) {
    o.string("entry", *entry);
  }
  if (const auto* stream = d.field("stream")) {
    o.string("stream", *stream);
  }
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
  append_backpressure(o, ctx);
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

namespace luffy {

namespace {

// ?limit=&cursor= of a page of a Redis stream (dead letters, audit): the limit from 1 to `max`
// (`fallback` when absent) and an exclusive stream-id cursor. nullopt after answering 400.
struct stream_query {
  int64_t limit;
  std::string cursor;
};
std::optional<stream_query> stream_page_query(http_request& req, http_response& res,
                                              int64_t fallback, int64_t max) {
  std::optional<Poco::Net::HTMLForm> form;
  if (!parse_query(req, res, form)) {
    return std::nullopt;
  }
  const auto limit = page_limit(*form, fallback, max);
  if (!limit) {
    send_json(res, 400, error_body("bad_parameter", page_limit_error(max)));
    return std::nullopt;
  }
  std::string cursor = form->get("cursor", "");
  if (!cursor.empty() && !is_stream_id(cursor)) {
    send_json(res, 400, error_body("bad_parameter", "cursor must be a next_cursor value"));
    return std::nullopt;
  }
  return stream_query{*limit, std::move(cursor)};
}

}  // namespace

void handle_dead_letters_list(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto q = stream_page_query(req, res, 50, 500);
  if (!q) {
    return;
  }
  const auto cfg = ctx.config.load();
  auto page =
      thread_store<dead_letter_store>(ctx).page(cfg->storage.key_prefix, q->cursor, q->limit);
  if (!page.ok()) {
    return send_json(res, 503, error_body("unavailable", "redis: " + page.error.message), 5);
  }
  std::string b;
  json_object_writer o(b);
  json_array_writer list(o.key("dead_letters"));
  for (const auto& d : page.value->letters) {
    append_dead_letter(list, d);
  }
  list.close();
  if (page.value->more && !page.value->letters.empty()) {
    o.string("next_cursor", page.value->letters.back().id);
  } else {
    o.raw("next_cursor", "null");
  }
  o.integer("total", page.value->total);
  o.close();
  send_json(res, 200, b);
}

void handle_dead_letter_retry(server_context& ctx, http_request& req, http_response& res,
                              const std::string& id) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  if (!is_stream_id(id)) {
    return send_json(res, 400,
                     error_body("bad_parameter", "a dead letter id looks like 1733390000000-0"));
  }
  const auto cfg = ctx.config.load();
  auto r = thread_store<dead_letter_store>(ctx).retry(cfg->storage.key_prefix, id);
  if (!r.ok()) {
    return send_json(res, 503, error_body("unavailable", "redis: " + r.error.message), 5);
  }
  const auto& v = *r.value;
  if (v.result == retry_outcome::kind::not_found) {
    return send_json(res, 404, error_body("not_found", "no dead letter " + id));
  }
  if (v.result == retry_outcome::kind::not_retryable) {
    return send_json(
        res, 409,
        error_body("not_retryable", "dead letter " + id + " cannot be retried: " + v.reason));
  }
  spdlog::info("dead letter {} requeued on {} as {} by token \"{}\"", id, v.stream, v.new_id,
               token);
  std::string b;
  json_object_writer o(b);
  o.string("status", "requeued")
      .string("id", id)
      .string("entry", v.new_id)
      .string("stream", v.stream);
  o.close();
  send_json(res, 202, b);
}

void handle_service_delete(server_context& ctx, http_request& req, http_response& res,
                           const std::string& raw_service) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  std::string service;
  try {
    Poco::URI::decode(raw_service, service, true);
  } catch (const Poco::Exception&) {
    return send_json(res, 400,
                     error_body("bad_parameter",
                                "the service id is not valid "
                                "percent-encoding"));
  }
  // The same bound as a record's service_id (core/record_builder): no longer id can own data.
  if (service.empty() || service.size() > 256 || !is_valid_utf8(service)) {
    return send_json(res, 400,
                     error_body("bad_parameter", "a service id is 1 to 256 bytes of UTF-8"));
  }
  const auto cfg = ctx.config.load();
  auto r = thread_store<retention_store>(ctx).forget_service(cfg->storage.key_prefix, service);
  if (!r.ok()) {
    // What was deleted stays deleted; the call is safe to repeat.
    return send_json(res, 503, error_body("unavailable", "redis: " + r.error.message), 5);
  }
  const auto& v = *r.value;
  ingest_metrics::add(ctx.metrics.services_erased, 1);
  ingest_metrics::add(ctx.metrics.erased_clusters, static_cast<uint64_t>(v.clusters));
  spdlog::info(
      "service \"{}\" erased by token \"{}\": {} cluster(s), {} event(s), {} dead "
      "letter(s)",
      service, token, v.clusters, v.events, v.dead_letters);
  std::string b;
  json_object_writer o(b);
  o.string("status", "deleted")
      .string("service_id", service)
      .integer("clusters", v.clusters)
      .integer("events", v.events)
      .integer("dead_letters", v.dead_letters)
      // Records of the service journaled but not clustered yet are applied after this and make
      // new clusters: the erasure covers what was clustered when it ran.
      .integer("journal_entries_waiting",
               ctx.metrics.journal_entries_waiting.load(std::memory_order_relaxed));
  o.close();
  send_json(res, 200, b);
}

void handle_admin_audit(server_context& ctx, http_request& req, http_response& res) {
  std::string token;
  if (!authorize_admin(ctx, req, res, token)) {
    return;
  }
  const auto q = stream_page_query(req, res, 100, 1000);
  if (!q) {
    return;
  }
  const auto cfg = ctx.config.load();
  auto page = thread_store<audit_store>(ctx).page(cfg->storage.key_prefix, q->cursor, q->limit);
  if (!page.ok()) {
    return send_json(res, 503, error_body("unavailable", "redis: " + page.error.message), 5);
  }
  std::string b;
  json_object_writer o(b);
  json_array_writer list(o.key("entries"));
  for (const auto& e : page.value->letters) {
    json_object_writer item(list.item());
    item.string("id", e.id);
    for (const char* k : {"at", "actor", "action", "target", "result", "client"}) {
      const auto* v = e.field(k);
      if (std::string_view(k) == "at") {
        item.integer("at_ms", v == nullptr ? 0 : std::atoll(v->c_str()));
      } else {
        item.string(k, v == nullptr ? std::string() : *v);
      }
    }
    item.close();
  }
  list.close();
  if (page.value->more && !page.value->letters.empty()) {
    o.string("next_cursor", page.value->letters.back().id);
  } else {
    o.raw("next_cursor", "null");
  }
  o.integer("total", page.value->total);
  o.close();
  send_json(res, 200, b);
}

}  // namespace luffy
