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
#include "storage/cluster_store.hpp"

namespace luffy {

namespace {

cluster_store& thread_store(server_context& ctx) {
  thread_local std::unique_ptr<cluster_store> store;
  thread_local std::string bound_to;
  const std::string id =
      ctx.redis.unix_socket + ":" + ctx.redis.host + ":" + std::to_string(ctx.redis.port);
  if (!store || bound_to != id) {
    store = std::make_unique<cluster_store>(ctx.redis);
    bound_to = id;
  }
  return *store;
}

bool allowed(const auth_scope& scope, const std::string& service) {
  return scope.all_services ||
         std::find(scope.services.begin(), scope.services.end(), service) != scope.services.end();
}

void append_cluster(std::string& b, const std::map<std::string, std::string>& h) {
  auto str = [&](const char* key, const char* name) {
    b += ",";
    append_json_key(b, name);
    auto it = h.find(key);
    append_json_string(b, it == h.end() ? "" : it->second);
  };
  auto num = [&](const char* key) {
    auto it = h.find(key);
    return it == h.end() ? 0LL : std::atoll(it->second.c_str());
  };
  b += "{\"id\":";
  append_json_string(b, h.count("id") ? h.at("id") : "");
  str("service_id", "service_id");
  b += ",\"fingerprint_level\":";
  append_json_int(b, num("fingerprint_level"));
  str("severity", "level");
  str("exception_type", "exception_type");
  str("title", "title");
  str("template", "template");
  str("culprit", "culprit");
  str("language", "language");
  str("status", "status");
  b += ",\"count\":";
  append_json_int(b, num("count"));
  b += ",\"first_seen\":";
  append_json_string(b, format_time_iso8601(num("first_seen_us")));
  b += ",\"last_seen\":";
  append_json_string(b, format_time_iso8601(num("last_seen_us")));
  b += "}";
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
  auto& store = thread_store(ctx);
  auto ranked = store.ranked_ids(p, sort, services);
  if (!ranked.ok())
    return redis_down(res, ranked.error.message);
  const auto& ids = *ranked.value;
  std::string body = "{\"clusters\":[";
  long taken = 0;
  size_t pos = static_cast<size_t>(cursor);
  bool first = true;
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
      if (!first)
        body += ",";
      first = false;
      append_cluster(body, h);
      ++taken;
    }
    pos = i;
  }
  body += "],\"next_cursor\":";
  if (pos < ids.size()) {
    append_json_string(body, std::to_string(pos));
  } else {
    body += "null";
  }
  body += "}";
  send_json(res, 200, body);
}

void handle_cluster_get(server_context& ctx, http_request& req, http_response& res,
                        const std::string& id) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  auto r = thread_store(ctx).read_cluster(ctx.config->storage.key_prefix, id);
  if (!r.ok())
    return redis_down(res, r.error.message);
  auto& h = r.value->fields;
  if (h.empty() || !allowed(scope, h["service_id"])) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  if (h.count("merged_into") != 0) {
    // A merged cluster answers with a pointer to the cluster that holds its records now.
    std::string body = "{\"id\":";
    append_json_string(body, id);
    body += ",\"service_id\":";
    append_json_string(body, h["service_id"]);
    body += ",\"status\":\"merged\",\"merged_into\":";
    append_json_string(body, h["merged_into"]);
    body += ",\"merged_at\":";
    append_json_string(body, format_time_iso8601(std::atoll(h["merged_at_ms"].c_str()) * 1000));
    body += ",\"title\":";
    append_json_string(body, h["title"]);
    body += ",\"location\":";
    append_json_string(body, "/api/v1/clusters/" + h["merged_into"]);
    body += "}";
    return send_json(res, 200, body);
  }
  std::string body;
  append_cluster(body, h);
  body.pop_back();  // reopen the object
  auto list = [&](const char* name, const std::vector<std::string>& v, bool raw) {
    body += ",";
    append_json_key(body, name);
    body += "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i)
        body += ",";
      if (raw)
        body += v[i];  // samples are stored as JSON records
      else
        append_json_string(body, v[i]);
    }
    body += "]";
  };
  list("samples", r.value->samples, true);
  list("hosts", r.value->hosts, false);
  list("environments", r.value->environments, false);
  // Per-minute counts of the last 24 h of event time, up to the cluster's last_seen.
  std::map<int64_t, int64_t> minutes;
  for (const auto& [m, c] : r.value->minutes) {
    minutes[std::atoll(m.c_str())] = std::atoll(c.c_str());
  }
  const int64_t last_minute = std::atoll(h["last_seen_us"].c_str()) / 60000000;
  body += ",\"per_minute\":[";
  bool first = true;
  for (auto& [m, c] : minutes) {
    if (m <= last_minute - 24 * 60)
      continue;
    if (!first)
      body += ",";
    first = false;
    body += "{\"minute\":";
    append_json_string(body, format_time_iso8601(m * 60000000).substr(0, 16) + "Z");
    body += ",\"count\":";
    append_json_int(body, c);
    body += "}";
  }
  body += "]}";
  send_json(res, 200, body);
}

void handle_cluster_resolve(server_context& ctx, http_request& req, http_response& res,
                            const std::string& id) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  const std::string p = ctx.config->storage.key_prefix;
  auto& store = thread_store(ctx);
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
  std::string body = "{\"id\":";
  append_json_string(body, id);
  body += ",\"status\":\"resolved\"}";
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
  auto& store = thread_store(ctx);
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
  std::string body = "{\"id\":";
  append_json_string(body, id);
  body += ",\"status\":\"merged\",\"merged_into\":";
  append_json_string(body, v.target);
  body += ",\"moved_count\":";
  append_json_int(body, v.moved);
  body += ",\"count\":";
  append_json_int(body, v.count);
  body += "}";
  send_json(res, 200, body);
}

}  // namespace luffy
