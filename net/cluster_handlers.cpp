// The query API over cluster state (docs/CLUSTERING.md "Redis schema"):
//   GET  /api/v1/clusters?service_id=&status=&since=&environment=&level=&language=&q=
//        &sort=last_seen|count|first_seen|trend&limit=&cursor=   with sparkline, trend, badges
//   GET  /api/v1/clusters/{id}             with samples (and their frames), hosts, environments,
//                                          per-minute series, events, why
//   POST /api/v1/clusters/{id}/resolve
//   POST /api/v1/clusters/{id}/reopen
//   POST /api/v1/clusters/{id}/merge       {"into": "<id>"}: folds the cluster into another one
// Same bearer tokens as ingest; a token sees only its services (another service's cluster is a
// 404, so ids do not leak). Each HTTP thread keeps its own Redis connection.
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "core/event_time.hpp"
#include "core/grouping_rules.hpp"
#include "core/json_writer.hpp"
#include "core/stack_trace.hpp"
#include "net/handlers.hpp"
#include "net/http_server.hpp"
#include "net/query_params.hpp"
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

// At most this many clusters are examined per list request (the rest follows next_cursor), and
// a filter text is at most max_filter_bytes.
constexpr size_t scan_budget = 5000;
constexpr size_t max_filter_bytes = 200;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A level filter, lower-cased, with the aliases the record builder folds on ingest
// (core/record_builder.cpp): warning is stored as WARN, err as ERROR, critical as FATAL.
std::string level_filter(std::string_view s) {
  std::string out = lower(s);
  if (out == "warning")
    return "warn";
  if (out == "err")
    return "error";
  if (out == "critical" || out == "crit")
    return "fatal";
  return out;
}

// "sparkline" (records per event-time hour, the last 24 h, oldest first), "trend" (this hour
// minus the mean of the 23 before) and "badges" (new: first seen in the last 24 h; regressed: a
// regression in the last 24 h and still open; spiking: a spike in the last hour).
void append_activity(json_object_writer& o, const std::map<std::string, std::string>& h,
                     const std::vector<int64_t>& counts, int64_t now_ms) {
  auto num = [&](const char* key) {
    auto it = h.find(key);
    return it == h.end() ? 0LL : std::atoll(it->second.c_str());
  };
  json_array_writer spark(o.key("sparkline"));
  int64_t before = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    spark.integer(counts[i]);
    before += i + 1 < counts.size() ? counts[i] : 0;
  }
  spark.close();
  o.number("trend", static_cast<double>(counts.back()) - static_cast<double>(before) / 23.0);
  json_array_writer badges(o.key("badges"));
  constexpr int64_t day_ms = 24 * 3'600'000;
  if (h.count("first_seen_us") != 0 && num("first_seen_us") / 1000 > now_ms - day_ms)
    badges.string("new");
  if (h.count("regressed_at_ms") != 0 && num("regressed_at_ms") > now_ms - day_ms &&
      h.count("status") != 0 && h.at("status") == "open")
    badges.string("regressed");
  if (h.count("spiked_at_ms") != 0 && num("spiked_at_ms") > now_ms - 3'600'000)
    badges.string("spiking");
  badges.close();
}

// One frame as the runtime prints it, near enough to read.
std::string frame_text(const std::string& language, const stack_frame& f) {
  const std::string name = f.module.empty() ? f.function : f.module + "." + f.function;
  const std::string line = f.line > 0 ? ":" + std::to_string(f.line) : "";
  if (language == "java") {
    return "at " + name + "(" + (f.file.empty() ? "Unknown Source" : f.file + line) + ")";
  }
  if (language == "python") {
    return "File \"" + f.file + "\", line " + std::to_string(f.line) + ", in " + f.function;
  }
  if (f.file.empty())
    return name;
  return name + " (" + f.file + line + ")";
}

// A stored sample with "frames" added: every frame of its stack trace (the stack_trace field,
// else the message), each link's crash site first, root cause last, with the in-app flag the
// configured clustering.in_app_prefixes give. The first parsed trace is kept for "why".
void append_sample(json_array_writer& samples, const std::string& sample, const frame_rules& rules,
                   std::optional<exception_info>& first_trace) {
  std::string text;
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(sample).extract<Poco::JSON::Object::Ptr>();
    for (const char* key : {"stack_trace", "message"}) {
      if (obj && obj->has(key) && obj->get(key).isString()) {
        text = obj->getValue<std::string>(key);
        if (!detect_trace_language(text).empty())
          break;
        text.clear();
      }
    }
  } catch (...) {
    text.clear();
  }
  std::optional<exception_info> info;
  if (!text.empty())
    info = parse_trace(text, rules);
  std::string frames;
  json_array_writer list(frames);
  if (info) {
    for (const auto& link : info->chain) {
      for (const auto& f : link.frames) {
        json_object_writer fo(list.item());
        fo.string("text", frame_text(info->language, f)).boolean("in_app", f.in_app);
        fo.close();
      }
    }
    if (!first_trace)
      first_trace = info;
  }
  list.close();
  // The stored JSON object with one member more: its closing brace becomes ,"frames":[...]}.
  const auto close = sample.find_last_of('}');
  std::string& out = samples.item();
  if (close == std::string::npos) {
    out += sample;
    return;
  }
  const bool empty_object = sample.find_first_not_of(" \t\r\n", sample.find('{') + 1) == close;
  out.append(sample, 0, close);
  out += empty_object ? "\"frames\":" : ",\"frames\":";
  out += frames;
  out += '}';
}

// "events": the cluster's history, newest first, each with its type, "at" and its other fields.
void append_events(json_object_writer& o, const std::vector<std::string>& events) {
  json_array_writer list(o.key("events"));
  for (const auto& e : events) {
    try {
      Poco::JSON::Parser parser;
      auto obj = parser.parse(e).extract<Poco::JSON::Object::Ptr>();
      if (!obj)
        continue;
      json_object_writer eo(list.item());
      eo.string("type", obj->optValue<std::string>("type", ""));
      std::string at =
          format_time_iso8601(std::atoll(obj->optValue<std::string>("at_ms", "0").c_str()) * 1000);
      if (const auto dot = at.find('.'); dot != std::string::npos && at.size() > dot + 4) {
        at.resize(dot + 4);  // milliseconds, as the console contract has it
        at += 'Z';
      }
      eo.string("at", at);
      for (const auto& [k, v] : *obj) {
        if (k == "type" || k == "at")
          continue;
        eo.string(k, v.convert<std::string>());
      }
      eo.close();
    } catch (...) {
      continue;  // a hand-edited entry: skipped, not a 500
    }
  }
  list.close();
}

// "why": what the cluster's fingerprint level grouped on (core/fingerprint.hpp), from the hash
// and, for level 1, the in-app call path of a sample's root cause.
void append_why(json_object_writer& o, std::map<std::string, std::string>& h,
                const std::optional<exception_info>& trace) {
  const int level = std::atoi(h["fingerprint_level"].c_str());
  json_object_writer w(o.key("why"));
  w.integer("level", level);
  const std::string& type = h["exception_type"];
  switch (level) {
    case 1: {
      std::vector<std::string> frames;
      if (trace && trace->root_cause() != nullptr) {
        for (const auto& f : trace->root_cause()->frames) {
          if (f.in_app && frames.size() < 50)
            frames.push_back(f.module.empty() ? f.function : f.module + "." + f.function);
        }
      }
      w.string("summary", "Same root-cause exception type (" + type +
                              ") thrown through the same in-app call path" +
                              (h["culprit"].empty() ? "" : ", crashing in " + h["culprit"]));
      append_json_string_array(w.key("frames"), frames);
      break;
    }
    case 2:
      w.string("summary", "Same root-cause exception type (" + type +
                              ") with the same message once numbers, ids and quoted values "
                              "are parameterised; the trace had no usable frames");
      w.string("template", h["template"]);
      break;
    case 3:
      w.string("summary",
               "No exception: messages that match the same template (the template miner's "
               "group), variable parts shown as <*>");
      w.string("template", h["template"]);
      break;
    case 4:
      w.string("summary",
               "A configured clustering.fingerprint_rules entry matched and named "
               "this cluster");
      w.string("rule", h["template"]);
      break;
    default:
      w.string("summary",
               "The overflow cluster: new clusters of the service beyond "
               "clustering.max_new_clusters_per_minute are counted here");
  }
  w.close();
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
  if (!parse_query(req, res, parsed)) {
    return;
  }
  const Poco::Net::HTMLForm& form = *parsed;
  const std::string service = form.get("service_id", "");
  const std::string status = form.get("status", "");
  const std::string sort = form.get("sort", "last_seen");
  const std::string since_text = form.get("since", "");
  const std::string environment = form.get("environment", "");
  const std::string level = level_filter(form.get("level", ""));
  const std::string language = lower(form.get("language", ""));
  const std::string q = lower(form.get("q", ""));
  // Whole decimal integers only: "10abc", "-1" or "" are refused, never guessed at.
  const auto page_size = page_limit(form, 50, 500);
  if (!page_size) {
    return send_json(res, 400, error_body("bad_parameter", page_limit_error(500)));
  }
  const long limit = static_cast<long>(*page_size);
  int64_t cursor = 0;
  if (form.has("cursor") && (!whole_number(form.get("cursor"), cursor) || cursor < 0)) {
    return send_json(res, 400, error_body("bad_parameter", "cursor must be a next_cursor value"));
  }
  if (sort != "last_seen" && sort != "count" && sort != "first_seen" && sort != "trend") {
    return send_json(
        res, 400,
        error_body("bad_parameter", "sort must be last_seen, count, first_seen or trend"));
  }
  if (!status.empty() && status != "open" && status != "resolved") {
    return send_json(res, 400, error_body("bad_parameter", "status must be open or resolved"));
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"q", &q},
                                    {"environment", &environment},
                                    {"level", &level},
                                    {"language", &language},
                                    {"service_id", &service}}) {
    if (value->size() > max_filter_bytes) {
      return send_json(
          res, 400,
          error_body("bad_parameter", std::string(name) + " is longer than " +
                                          std::to_string(max_filter_bytes) + " bytes"));
    }
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
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t hour = now_ms / 3'600'000;
  auto& store = thread_store<cluster_store>(ctx);
  auto ranked = store.ranked_ids(p, sort, services, hour);
  if (!ranked.ok())
    return redis_down(res, ranked.error.message);
  const auto& ids = *ranked.value;
  // The filters read a few fields per cluster (one pipelined HMGET per chunk); at most
  // scan_budget clusters are examined per request, so a filter that matches little answers a
  // short page with a next_cursor instead of reading every cluster at once.
  static const std::vector<std::string> fields{"status",   "last_seen_us",  "severity",
                                               "language", "title",         "template",
                                               "culprit",  "exception_type"};
  std::vector<std::string> matches;
  size_t pos = static_cast<size_t>(cursor);
  size_t examined = 0;
  while (pos < ids.size() && static_cast<long>(matches.size()) < limit && examined < scan_budget) {
    const size_t chunk_end = std::min({ids.size(), pos + 200, pos + (scan_budget - examined)});
    std::vector<std::string> chunk;
    chunk.reserve(chunk_end - pos);
    for (size_t i = pos; i < chunk_end; ++i)
      chunk.push_back(ids[i].second);
    auto r = store.filter_fields(p, chunk, fields, environment);
    if (!r.ok())
      return redis_down(res, r.error.message);
    size_t i = pos;
    for (; i < chunk_end && static_cast<long>(matches.size()) < limit; ++i) {
      const auto& f = (*r.value)[i - pos];
      ++examined;
      if (f.empty())
        continue;
      auto at = [&](size_t k) -> std::string_view { return f[k] ? *f[k] : std::string_view(); };
      if (!status.empty() && at(0) != status)
        continue;
      if (since_ms > 0 && std::atoll(std::string(at(1)).c_str()) / 1000 < since_ms)
        continue;
      if (!level.empty() && lower(at(2)) != level)
        continue;
      if (!language.empty() && lower(at(3)) != language)
        continue;
      if (!environment.empty() && at(fields.size()) != "1")
        continue;
      if (!q.empty() && lower(at(4)).find(q) == std::string::npos &&
          lower(at(5)).find(q) == std::string::npos && lower(at(6)).find(q) == std::string::npos &&
          lower(at(7)).find(q) == std::string::npos)
        continue;
      matches.push_back(ids[i].second);
    }
    pos = i;
  }
  auto rows = store.read_clusters(p, matches);
  if (!rows.ok())
    return redis_down(res, rows.error.message);
  auto act = store.activity(p, matches, hour - 23);
  if (!act.ok())
    return redis_down(res, act.error.message);
  std::string body;
  json_object_writer o(body);
  json_array_writer clusters(o.key("clusters"));
  for (size_t i = 0; i < matches.size(); ++i) {
    auto& h = (*rows.value)[i];
    if (h.empty())
      continue;  // deleted between the filter and the read
    json_object_writer c(clusters.item());
    cluster_members(c, h);
    const auto& [counts, envs] = (*act.value)[i];
    append_activity(c, h, counts, now_ms);
    append_json_string_array(c.key("environments"), envs);
    c.close();
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
  const auto cfg = ctx.config.load();
  auto r = thread_store<cluster_store>(ctx).read_cluster(cfg->storage.key_prefix, id);
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
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const frame_rules rules =
      make_frame_rules(cfg->clustering.in_app_prefixes, cfg->clustering.not_in_app_prefixes);
  std::string body;
  json_object_writer o(body);
  cluster_members(o, h);
  std::vector<int64_t> counts(24, 0);
  const int64_t first_hour = now_ms / 3'600'000 - 23;
  for (const auto& [hour, c] : r.value->hours) {
    const int64_t at = std::atoll(hour.c_str()) - first_hour;
    if (at >= 0 && at < 24)
      counts[static_cast<size_t>(at)] = std::atoll(c.c_str());
  }
  append_activity(o, h, counts, now_ms);
  json_array_writer samples(o.key("samples"));
  std::optional<exception_info> first_trace;
  for (const auto& sample : r.value->samples) {
    append_sample(samples, sample, rules, first_trace);
  }
  samples.close();
  append_json_string_array(o.key("hosts"), r.value->hosts);
  append_json_string_array(o.key("environments"), r.value->environments);
  append_events(o, r.value->events);
  append_why(o, h, first_trace);
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

namespace {

// resolve and reopen: the same checks, another status.
void set_cluster_status(server_context& ctx, http_request& req, http_response& res,
                        const std::string& id, bool resolve) {
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
    return send_json(
        res, 409,
        error_body("merged", "cluster " + id + " is merged into " + *merged_into +
                                 (resolve ? "; resolve that one" : "; reopen that one")));
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto r = resolve ? store.mark_resolved(p, id, now) : store.mark_reopened(p, id, now);
  if (!r.ok())
    return redis_down(res, r.error.message);
  std::string body;
  json_object_writer o(body);
  o.string("id", id).string("status", resolve ? "resolved" : "open");
  o.close();
  send_json(res, 200, body);
}

}  // namespace

void handle_cluster_resolve(server_context& ctx, http_request& req, http_response& res,
                            const std::string& id) {
  set_cluster_status(ctx, req, res, id, true);
}

void handle_cluster_reopen(server_context& ctx, http_request& req, http_response& res,
                           const std::string& id) {
  set_cluster_status(ctx, req, res, id, false);
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
