// GET /api/v1/agents?limit=&cursor=&silent=true|false: the sending agents as the receiving side
// sees them (docs/API.md "Agents"), newest last_seen first, from Redis (storage/agent_store.hpp;
// actors/agent_tracker.hpp writes it once per second per node).
// Same bearer tokens as ingest. An admin token sees every agent; any other token sees the agents
// that sent at least one record of one of its services (so a token learns nothing of another
// team's agents, nor of agents whose only requests had no valid token).
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include "core/agent_tally.hpp"
#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "net/handlers.hpp"
#include "net/query_params.hpp"
#include "net/thread_store.hpp"
#include "storage/agent_store.hpp"

namespace luffy {

namespace {

// ISO-8601 UTC with milliseconds ("2026-12-05T09:10:00.000Z"); "" for a missing time.
std::string iso_ms(int64_t ms) {
  if (ms <= 0) {
    return std::string();
  }
  std::string t = format_time_iso8601(ms * 1000);  // microseconds: ".ffffffZ"
  return t.substr(0, 23) + "Z";
}

// "<last_seen ms>-<16 hex id>", the next_cursor this handler writes.
std::optional<std::pair<int64_t, std::string>> parse_cursor(const std::string& text) {
  const auto dash = text.find('-');
  if (dash == std::string::npos || text.size() - dash - 1 != 16) {
    return std::nullopt;
  }
  int64_t ms = 0;
  if (!whole_number(std::string_view(text).substr(0, dash), ms) || ms < 0) {
    return std::nullopt;
  }
  std::string id = text.substr(dash + 1);
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  return std::make_pair(ms, std::move(id));
}

int64_t field_int(const std::map<std::string, std::string>& h, const char* key) {
  auto it = h.find(key);
  int64_t v = 0;
  if (it == h.end() || !whole_number(it->second, v)) {
    return 0;
  }
  return v;
}

void string_lines(json_array_writer& list, const std::string& joined) {
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) {
      end = joined.size();
    }
    if (end > start) {
      list.string(std::string_view(joined).substr(start, end - start));
    }
    start = end + 1;
  }
}

void agent_json(json_object_writer& o, agent_row& row, int64_t now_minute) {
  auto& h = row.fields;
  o.string("id", row.id).string("address", h["address"]).string("user_agent", h["user_agent"]);
  {
    json_array_writer hosts(o.key("hostnames"));
    string_lines(hosts, h["hostnames"]);
    hosts.close();
  }
  {
    json_array_writer services(o.key("services"));
    string_lines(services, h["services"]);
    services.close();
  }
  o.string("first_seen", iso_ms(field_int(h, "first_seen_ms")))
      .string("last_seen", iso_ms(field_int(h, "last_seen_ms")))
      .boolean("silent", h["silent"] == "1");
  // 60 arrival minutes, oldest first, the last one the current minute (this node's clock, the
  // one the minutes were counted by).
  uint64_t last5 = 0;
  std::string minutes;
  {
    json_array_writer per_minute(minutes);
    for (int64_t m = now_minute - 59; m <= now_minute; ++m) {
      auto it = row.minutes.find(m);
      const uint64_t n = it == row.minutes.end() ? 0 : it->second;
      if (m > now_minute - 5) {
        last5 += n;
      }
      per_minute.integer(static_cast<int64_t>(n));
    }
    per_minute.close();
  }
  o.number("records_per_minute", static_cast<double>(last5) / 5.0).raw("per_minute", minutes);
  for (const char* k : {"requests", "records", "duplicates", "refused_4xx", "throttled_429",
                        "unavailable_503", "last_status"}) {
    o.integer(k, field_int(h, k));
  }
  json_object_writer formats(o.key("formats"));
  for (auto name : kAgentFormatNames) {
    const std::string field = "fmt_" + std::string(name);
    formats.integer(name, field_int(h, field.c_str()));
  }
  formats.close();
  if (const int64_t since = field_int(h, "silent_since_ms"); since > 0) {
    o.string("silent_since", iso_ms(since));
  }
}

}  // namespace

void handle_agents_list(server_context& ctx, http_request& req, http_response& res) {
  auto auth = authenticate_or_401(ctx, req, res);
  if (!auth) {
    return;
  }
  std::optional<Poco::Net::HTMLForm> parsed;
  if (!parse_query(req, res, parsed)) {
    return;
  }
  const Poco::Net::HTMLForm& form = *parsed;
  agent_query q;
  const auto limit = page_limit(form, static_cast<int64_t>(q.limit), 500);
  if (!limit) {
    return send_json(res, 400, error_body("bad_parameter", page_limit_error(500)));
  }
  q.limit = static_cast<size_t>(*limit);
  if (form.has("cursor")) {
    q.after = parse_cursor(form.get("cursor"));
    if (!q.after) {
      return send_json(res, 400, error_body("bad_parameter", "cursor must be a next_cursor value"));
    }
  }
  if (form.has("silent")) {
    const std::string s = form.get("silent");
    if (s != "true" && s != "false") {
      return send_json(res, 400, error_body("bad_parameter", "silent must be true or false"));
    }
    q.silent = s == "true";
  }
  q.all_services = auth->admin;
  if (!auth->admin) {
    q.any_service = auth->scope.all_services;
    q.services = auth->scope.services;
  }
  const auto cfg = ctx.config.load();
  std::string body;
  json_object_writer o(body);
  json_array_writer list(o.key("agents"));
  std::optional<std::pair<int64_t, std::string>> next;
  if (cfg->agents.enabled) {
    auto page = thread_store<agent_store>(ctx).page(cfg->storage.key_prefix, q);
    if (!page.ok()) {
      return send_json(
          res, 503, error_body("unavailable", "agent state is unavailable: " + page.error.message),
          5);
    }
    const int64_t now_minute = std::chrono::duration_cast<std::chrono::minutes>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    for (auto& row : page.value->agents) {
      json_object_writer a(list.item());
      agent_json(a, row, now_minute);
      a.close();
    }
    next = page.value->next;
  }
  list.close();
  if (next) {
    o.string("next_cursor", std::to_string(next->first) + "-" + next->second);
  } else {
    o.raw("next_cursor", "null");
  }
  o.integer("silent_after_seconds", cfg->agents.silent_after_seconds)
      .boolean("enabled", cfg->agents.enabled);
  o.close();
  send_json(res, 200, body);
}

}  // namespace luffy
