// The query API over cluster state (docs/CLUSTERING.md "Redis schema"):
//   GET  /api/v1/clusters?service_id=&status=&since=&sort=last_seen|count&limit=&cursor=
//   GET  /api/v1/clusters/{id}             with samples, hosts, environments, per-minute series
//   POST /api/v1/clusters/{id}/resolve
//   POST /api/v1/clusters/{id}/merge       {"into": "<id>"}: folds the cluster into another one
// Same bearer tokens as ingest; a token sees only its services (another service's cluster is a
// 404, so ids do not leak). Each HTTP thread keeps its own Redis connection.
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "net/handlers.hpp"
#include "net/http_server.hpp"
#include "net/thread_store.hpp"
#include "storage/cluster_store.hpp"

namespace luffy {

namespace {

bool allowed(const auth_scope& scope, const std::string& service) {
  return scope.all_services ||
         std::find(scope.services.begin(), scope.services.end(), service) != scope.services.end();
}

// The members of a cluster's summary (the caller opens and closes the object).
void cluster_members(json_object_writer& o, const std::map<std::string, std::string>& h) {
  auto str = [&](const char* key) -> std::string_view {
    auto it = h.find(key);
    return it == h.end() ? std::string_view() : std::string_view(it->second);
  };
  auto num = [&](const char* key) {
    auto it = h.find(key);
    return it == h.end() ? 0LL : std::atoll(it->second.c_str());
  };
  o.string("id", str("id"))
      .string("service_id", str("service_id"))
      .integer("fingerprint_level", num("fingerprint_level"))
      .string("level", str("severity"))
      .string("exception_type", str("exception_type"))
      .string("title", str("title"))
      .string("template", str("template"))
      .string("culprit", str("culprit"))
      .string("language", str("language"))
      .string("status", str("status"))
      .integer("count", num("count"))
      .string("first_seen", format_time_iso8601(num("first_seen_us")))
      .string("last_seen", format_time_iso8601(num("last_seen_us")));
}

bool authenticate(server_context& ctx, http_request& req, http_response& res, auth_scope& scope,
                  bool* admin = nullptr) {
  auto auth = authenticate_or_401(ctx, req, res);
  if (auth) {
    scope = std::move(auth->scope);
    if (admin != nullptr) {
      *admin = auth->admin;
    }
  }
  return auth.has_value();
}

// Reads a small JSON request body (at most 64 KiB) as the gate framed it (read_body: never a
// byte of the next request); nullopt when it is larger or cannot be read to its end.
std::optional<std::string> read_small_body(http_request& req) {
  std::string body;
  char buf[4096];
  for (;;) {
    const std::streamsize got = read_body(req, buf, sizeof buf);
    if (got < 0) {
      return std::nullopt;
    }
    if (got == 0) {
      return body;
    }
    body.append(buf, static_cast<size_t>(got));
    if (body.size() > 65536) {
      return std::nullopt;
    }
  }
}

void redis_down(http_response& res, const std::string& why) {
  send_json(res, 503, error_body("unavailable", "cluster state is unavailable: " + why), 5);
}

}  // namespace

void handle_clusters_list(server_context& ctx, http_request& req, http_response& res) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  std::optional<Poco::Net::HTMLForm> parsed;
  try {
    parsed.emplace(req);
  } catch (const Poco::Exception&) {
    return send_json(res, 400, error_body("bad_parameter", "the query string is not valid"));
  }
  const Poco::Net::HTMLForm& form = *parsed;
  const std::string service = form.get("service_id", "");
  const std::string status = form.get("status", "");
  const std::string sort = form.get("sort", "last_seen");
  const std::string since_text = form.get("since", "");
  // Whole decimal integers only: "10abc", "-1" or "" are refused, never guessed at.
  auto integer = [](const std::string& text, long& out) {
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, out);
    return !text.empty() && ec == std::errc() && p == end;
  };
  long limit = 50;
  if (form.has("limit") && (!integer(form.get("limit"), limit) || limit < 1 || limit > 500)) {
    return send_json(res, 400,
                     error_body("bad_parameter", "limit must be an integer from 1 to 500"));
  }
  long cursor = 0;
  if (form.has("cursor") && (!integer(form.get("cursor"), cursor) || cursor < 0)) {
    return send_json(res, 400, error_body("bad_parameter", "cursor must be a next_cursor value"));
  }
  if (sort != "last_seen" && sort != "count") {
    return send_json(res, 400, error_body("bad_parameter", "sort must be last_seen or count"));
  }
  if (!status.empty() && status != "open" && status != "resolved") {
    return send_json(res, 400, error_body("bad_parameter", "status must be open or resolved"));
  }
  int64_t since_ms = 0;
  if (!since_text.empty()) {
    auto t = parse_time_string(since_text);
    if (!t)
      return send_json(res, 400, error_body("bad_parameter", "since is not a date"));
    since_ms = *t / 1000;
  }
  if (!service.empty() && !allowed(scope, service)) {
    return send_json(
        res, 403,
        error_body("forbidden_service",
                   "token \"" + scope.token_name + "\" may not read service \"" + service + "\""));
  }
  const std::string p = ctx.config->storage.key_prefix;
  std::optional<std::vector<std::string>> services;  // nullopt: every service
  if (!service.empty()) {
    services.emplace({service});
  } else if (!scope.all_services) {
    services = scope.services;
  }
  auto& store = thread_store<cluster_store>(ctx);
  auto ranked = store.ranked_ids(p, sort, services);
  if (!ranked.ok())
    return redis_down(res, ranked.error.message);
  const auto& ids = *ranked.value;
  std::string body;
  json_object_writer o(body);
  json_array_writer clusters(o.key("clusters"));
  long taken = 0;
  size_t pos = static_cast<size_t>(cursor);
  while (pos < ids.size() && taken < limit) {
    const size_t chunk_end = std::min(ids.size(), pos + 100);
    std::vector<std::string> chunk;
    chunk.reserve(chunk_end - pos);
    for (size_t i = pos; i < chunk_end; ++i)
      chunk.push_back(ids[i].second);
    auto r = store.read_clusters(p, chunk);
    if (!r.ok())
      return redis_down(res, r.error.message);
    size_t i = pos;
    for (; i < chunk_end && taken < limit; ++i) {
      auto& h = (*r.value)[i - pos];
      if (h.empty())
        continue;
      if (!status.empty() && h["status"] != status)
        continue;
      if (since_ms > 0 && std::atoll(h["last_seen_us"].c_str()) / 1000 < since_ms)
        continue;
      json_object_writer c(clusters.item());
      cluster_members(c, h);
      c.close();
      ++taken;
    }
    pos = i;
  }
  clusters.close();
  if (pos < ids.size()) {
    o.string("next_cursor", std::to_string(pos));
  } else {
    o.raw("next_cursor", "null");
  }
  o.close();
  send_json(res, 200, body);
}

void handle_cluster_get(server_context& ctx, http_request& req, http_response& res,
                        const std::string& id) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  auto r = thread_store<cluster_store>(ctx).read_cluster(ctx.config->storage.key_prefix, id);
  if (!r.ok())
    return redis_down(res, r.error.message);
  auto& h = r.value->fields;
  if (h.empty() || !allowed(scope, h["service_id"])) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  if (h.count("merged_into") != 0) {
    // A merged cluster answers with a pointer to the cluster that holds its records now.
    std::string body;
    json_object_writer o(body);
    o.string("id", id)
        .string("service_id", h["service_id"])
        .string("status", "merged")
        .string("merged_into", h["merged_into"])
        .string("merged_at", format_time_iso8601(std::atoll(h["merged_at_ms"].c_str()) * 1000))
        .string("title", h["title"])
        .string("location", "/api/v1/clusters/" + h["merged_into"]);
    o.close();
    return send_json(res, 200, body);
  }
  std::string body;
  json_object_writer o(body);
  cluster_members(o, h);
  json_array_writer samples(o.key("samples"));
  for (const auto& sample : r.value->samples) {
    samples.item() += sample;  // samples are stored as JSON records
  }
  samples.close();
  append_json_string_array(o.key("hosts"), r.value->hosts);
  append_json_string_array(o.key("environments"), r.value->environments);
  // Per-minute counts of the last 24 h of event time, up to the cluster's last_seen.
  std::map<int64_t, int64_t> minutes;
  for (const auto& [m, c] : r.value->minutes) {
    minutes[std::atoll(m.c_str())] = std::atoll(c.c_str());
  }
  const int64_t last_minute = std::atoll(h["last_seen_us"].c_str()) / 60000000;
  json_array_writer per_minute(o.key("per_minute"));
  for (auto& [m, c] : minutes) {
    if (m <= last_minute - 24 * 60)
      continue;
    json_object_writer point(per_minute.item());
    point.string("minute", format_time_iso8601(m * 60000000).substr(0, 16) + "Z")
        .integer("count", c);
    point.close();
  }
  per_minute.close();
  o.close();
  send_json(res, 200, body);
}

void handle_cluster_resolve(server_context& ctx, http_request& req, http_response& res,
                            const std::string& id) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  const std::string p = ctx.config->storage.key_prefix;
  auto& store = thread_store<cluster_store>(ctx);
  auto owner = store.owner(p, id);
  if (!owner.ok())
    return redis_down(res, owner.error.message);
  const auto& [service, merged_into] = *owner.value;
  if (!service || !allowed(scope, *service)) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  if (merged_into) {
    return send_json(res, 409,
                     error_body("merged", "cluster " + id + " is merged into " + *merged_into +
                                              "; resolve that one"));
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto r = store.mark_resolved(p, id, now);
  if (!r.ok())
    return redis_down(res, r.error.message);
  std::string body;
  json_object_writer o(body);
  o.string("id", id).string("status", "resolved");
  o.close();
  send_json(res, 200, body);
}

void handle_cluster_merge(server_context& ctx, http_request& req, http_response& res,
                          const std::string& id) {
  auth_scope scope;
  bool admin = false;
  if (!authenticate(ctx, req, res, scope, &admin))
    return;
  auto text = read_small_body(req);
  if (!text) {
    const framing_error e = body_error(req);
    if (e.status != 0) {
      return send_json(res, 400,
                       error_body(e.code.empty() ? "truncated_body" : e.code,
                                  e.message.empty() ? "the body ended early" : e.message));
    }
    return send_json(res, 413, error_body("body_too_large", "a merge body is at most 64 KiB"));
  }
  std::string into;
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(*text).extract<Poco::JSON::Object::Ptr>();
    if (!obj || !obj->has("into") || !obj->get("into").isString()) {
      throw std::runtime_error("missing");
    }
    into = obj->getValue<std::string>("into");
  } catch (...) {
    return send_json(res, 400,
                     error_body("malformed_body", "expected {\"into\": \"<cluster id>\"}"));
  }
  if (into.empty()) {
    return send_json(res, 400, error_body("malformed_body", "\"into\" must name a cluster id"));
  }
  if (into == id) {
    return send_json(res, 400,
                     error_body("merge_into_self", "a cluster cannot be merged into itself"));
  }
  const auto cfg = ctx.config.load();
  const std::string p = cfg->storage.key_prefix;
  auto& store = thread_store<cluster_store>(ctx);
  // Who may merge: a token that may read both clusters' services; clusters of two services only
  // with an admin token. Unknown ids and ids of services the token may not read are both 404.
  auto svcs = store.services_of(p, {id, into});
  if (!svcs.ok())
    return redis_down(res, svcs.error.message);
  const auto& a = (*svcs.value)[0];
  const auto& b = (*svcs.value)[1];
  if (!a || !allowed(scope, *a)) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  if (!b || !allowed(scope, *b)) {
    return send_json(res, 404, error_body("unknown_target", "no cluster " + into));
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto r = store.merge(p, id, into, now, cfg->clustering.samples, admin);
  if (!r.ok())
    return redis_down(res, r.error.message);
  const auto& v = *r.value;
  if (!v.merged) {
    return send_json(res, v.status, error_body(v.code, v.message));
  }
  std::string body;
  json_object_writer o(body);
  o.string("id", id)
      .string("status", "merged")
      .string("merged_into", v.target)
      .integer("moved_count", v.moved)
      .integer("count", v.count);
  o.close();
  send_json(res, 200, body);
}

}  // namespace luffy
