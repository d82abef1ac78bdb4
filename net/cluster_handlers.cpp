// The query API over cluster state (docs/CLUSTERING.md "Redis schema"):
//   GET  /api/v1/clusters?service_id=&status=&since=&sort=last_seen|count&limit=&cursor=
//   GET  /api/v1/clusters/{id}             with samples, hosts, environments, per-minute series
//   POST /api/v1/clusters/{id}/resolve
// Same bearer tokens as ingest; a token sees only its services (another service's cluster is a
// 404, so ids do not leak). Each HTTP thread keeps its own Redis connection.
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "net/handlers.hpp"
#include "net/redis_client.hpp"

namespace luffy {

namespace {

redis_client& thread_redis(server_context& ctx) {
  thread_local std::unique_ptr<redis_client> client;
  thread_local std::string bound_to;
  const std::string id =
      ctx.redis.unix_socket + ":" + ctx.redis.host + ":" + std::to_string(ctx.redis.port);
  if (!client || bound_to != id) {
    client = std::make_unique<redis_client>(ctx.redis);
    bound_to = id;
  }
  return *client;
}

bool allowed(const auth_scope& scope, const std::string& service) {
  return scope.all_services ||
         std::find(scope.services.begin(), scope.services.end(), service) != scope.services.end();
}

std::map<std::string, std::string> as_map(const redis_value& v) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    m[v.elements[i].str] = v.elements[i + 1].str;
  }
  return m;
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

bool authenticate(server_context& ctx, http_request& req, http_response& res, auth_scope& scope) {
  auto auth = authenticate_or_401(ctx, req, res);
  if (auth) {
    scope = std::move(auth->scope);
  }
  return auth.has_value();
}

void redis_down(http_response& res, const std::string& why) {
  send_json(res, 503, error_body("unavailable", "cluster state is unavailable: " + why), 5);
}

}  // namespace

void handle_clusters_list(server_context& ctx, http_request& req, http_response& res) {
  auth_scope scope;
  if (!authenticate(ctx, req, res, scope))
    return;
  Poco::Net::HTMLForm form(req);
  const std::string service = form.get("service_id", "");
  const std::string status = form.get("status", "");
  const std::string sort = form.get("sort", "last_seen");
  const std::string since_text = form.get("since", "");
  const long limit = std::clamp(std::atol(form.get("limit", "50").c_str()), 1L, 500L);
  const long cursor = std::max(0L, std::atol(form.get("cursor", "0").c_str()));
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
  std::vector<std::string> zsets;
  if (!service.empty()) {
    zsets.push_back(p + ":service:" + service + ":by_" + sort);
  } else if (scope.all_services) {
    zsets.push_back(p + ":clusters:by_" + sort);
  } else {
    for (const auto& s : scope.services)
      zsets.push_back(p + ":service:" + s + ":by_" + sort);
  }
  auto& redis = thread_redis(ctx);
  std::vector<std::pair<double, std::string>> ids;
  for (const auto& z : zsets) {
    auto r = redis.command({"ZREVRANGE", z, "0", "9999", "WITHSCORES"});
    if (!r.ok())
      return redis_down(res, r.error.message);
    for (size_t i = 0; i + 1 < r.value->elements.size(); i += 2) {
      ids.emplace_back(std::atof(r.value->elements[i + 1].str.c_str()), r.value->elements[i].str);
    }
  }
  std::stable_sort(ids.begin(), ids.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::string body = "{\"clusters\":[";
  long taken = 0;
  size_t pos = static_cast<size_t>(cursor);
  bool first = true;
  while (pos < ids.size() && taken < limit) {
    const size_t chunk_end = std::min(ids.size(), pos + 100);
    std::vector<std::vector<std::string_view>> cmds;
    std::vector<std::string> keys;
    keys.reserve(chunk_end - pos);
    for (size_t i = pos; i < chunk_end; ++i)
      keys.push_back(p + ":cluster:" + ids[i].second);
    for (const auto& k : keys)
      cmds.push_back({"HGETALL", k});
    auto r = redis.pipeline(cmds);
    if (!r.ok())
      return redis_down(res, r.error.message);
    size_t i = pos;
    for (; i < chunk_end && taken < limit; ++i) {
      auto h = as_map((*r.value)[i - pos]);
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
  const std::string key = ctx.config->storage.key_prefix + ":cluster:" + id;
  auto& redis = thread_redis(ctx);
  auto r = redis.pipeline({{"HGETALL", key},
                           {"LRANGE", key + ":samples", "0", "-1"},
                           {"SMEMBERS", key + ":hosts"},
                           {"SMEMBERS", key + ":environments"},
                           {"HGETALL", key + ":minutes"}});
  if (!r.ok())
    return redis_down(res, r.error.message);
  auto h = as_map((*r.value)[0]);
  if (h.empty() || !allowed(scope, h["service_id"])) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  std::string body;
  append_cluster(body, h);
  body.pop_back();  // reopen the object
  auto list = [&](const char* name, const redis_value& v, bool raw) {
    body += ",";
    append_json_key(body, name);
    body += "[";
    for (size_t i = 0; i < v.elements.size(); ++i) {
      if (i)
        body += ",";
      if (raw)
        body += v.elements[i].str;  // samples are stored as JSON records
      else
        append_json_string(body, v.elements[i].str);
    }
    body += "]";
  };
  list("samples", (*r.value)[1], true);
  list("hosts", (*r.value)[2], false);
  list("environments", (*r.value)[3], false);
  // Per-minute counts of the last 24 h of event time, up to the cluster's last_seen.
  std::map<int64_t, int64_t> minutes;
  const auto& mv = (*r.value)[4];
  for (size_t i = 0; i + 1 < mv.elements.size(); i += 2) {
    minutes[std::atoll(mv.elements[i].str.c_str())] = std::atoll(mv.elements[i + 1].str.c_str());
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
  const std::string key = ctx.config->storage.key_prefix + ":cluster:" + id;
  auto& redis = thread_redis(ctx);
  auto svc = redis.command({"HGET", key, "service_id"});
  if (!svc.ok())
    return redis_down(res, svc.error.message);
  if (svc.value->type != redis_value::kind::string || !allowed(scope, svc.value->str)) {
    return send_json(res, 404, error_body("not_found", "no cluster " + id));
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto r =
      redis.command({"HSET", key, "status", "resolved", "resolved_at_ms", std::to_string(now)});
  if (!r.ok())
    return redis_down(res, r.error.message);
  std::string body = "{\"id\":";
  append_json_string(body, id);
  body += ",\"status\":\"resolved\"}";
  send_json(res, 200, body);
}

}  // namespace luffy
