#include "core/notification.hpp"

#include <algorithm>
#include <charconv>

#include "core/glob.hpp"
#include "core/json_writer.hpp"

namespace luffy {

notification_event event_from_fields(std::string stream_id,
                                     const std::vector<std::pair<std::string, std::string>>& kv) {
  notification_event ev;
  ev.stream_id = std::move(stream_id);
  for (const auto& [k, v] : kv) {
    if (k == "type") {
      ev.type = v;
    } else if (k == "cluster_id") {
      ev.cluster_id = v;
    } else if (k == "service_id") {
      ev.service_id = v;
    } else if (k == "title") {
      ev.title = v;
    } else if (k == "at_ms") {
      int64_t n = 0;
      const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      ev.at_ms = r.ec == std::errc() ? n : 0;
    } else {
      ev.fields.emplace_back(k, v);
    }
  }
  return ev;
}

std::optional<webhook_format> parse_webhook_format(std::string_view name) {
  if (name == "json" || name.empty()) {
    return webhook_format::json;
  }
  if (name == "slack") {
    return webhook_format::slack;
  }
  if (name == "google_chat") {
    return webhook_format::google_chat;
  }
  return std::nullopt;
}

std::string_view webhook_format_name(webhook_format f) {
  switch (f) {
    case webhook_format::slack:
      return "slack";
    case webhook_format::google_chat:
      return "google_chat";
    case webhook_format::json:
      break;
  }
  return "json";
}

const std::vector<std::string>& default_notification_events() {
  static const std::vector<std::string> events = {"new_cluster", "regression", "spike"};
  return events;
}

const std::vector<std::string>& known_notification_events() {
  static const std::vector<std::string> events = {"new_cluster",       "regression", "spike",
                                                  "cluster_explosion", "merged",     "agent_silent",
                                                  "agent_back"};
  return events;
}

bool webhook_wants(const webhook_config& hook, const notification_event& ev) {
  const auto& types = hook.events.empty() ? default_notification_events() : hook.events;
  if (std::find(types.begin(), types.end(), ev.type) == types.end()) {
    return false;
  }
  if (hook.services.empty()) {
    return true;
  }
  return std::any_of(hook.services.begin(), hook.services.end(),
                     [&](const std::string& g) { return glob_match(g, ev.service_id); });
}

std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return "…";
  }
  const auto scheme = url.substr(0, scheme_end);
  auto authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // user:password@host: the userinfo is a credential as well.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  return std::string(scheme) + "://" + std::string(authority) + "/…";
}

namespace {

std::string_view type_words(std::string_view type) {
  if (type == "new_cluster") {
    return "new cluster";
  }
  if (type == "regression") {
    return "regression";
  }
  if (type == "spike") {
    return "spike";
  }
  if (type == "cluster_explosion") {
    return "cluster explosion";
  }
  return type;
}

std::string field_of(const notification_event& ev, std::string_view name) {
  for (const auto& [k, v] : ev.fields) {
    if (k == name) {
      return v;
    }
  }
  return "";
}

// {"text": "..."}: the body Slack incoming webhooks and Google Chat webhooks both take.
std::string text_body(std::string_view text) {
  std::string out;
  json_object_writer o(out);
  o.string("text", text);
  o.close();
  return out;
}

void write_event_json(std::string& out, const notification_event& ev) {
  json_object_writer o(out);
  o.string("type", ev.type)
      .string("cluster_id", ev.cluster_id)
      .string("service_id", ev.service_id)
      .string("title", ev.title)
      .integer("at_ms", ev.at_ms)
      .string("stream_id", ev.stream_id);
  for (const auto& [k, v] : ev.fields) {
    if (k != "type" && k != "cluster_id" && k != "service_id" && k != "title" && k != "at_ms" &&
        k != "stream_id") {
      o.string(k, v);
    }
  }
  o.close();
}

}  // namespace

std::string event_text(const notification_event& ev) {
  std::string out = "[" + (ev.service_id.empty() ? std::string("-") : ev.service_id) + "] ";
  out += type_words(ev.type);
  out += ": ";
  out += ev.title.empty() ? std::string("(no title)") : ev.title;
  if (ev.type == "spike") {
    const auto count = field_of(ev, "count");
    const auto baseline = field_of(ev, "baseline");
    if (!count.empty()) {
      out += " (" + count + " records in a minute";
      out += baseline.empty() ? ")" : ", baseline " + baseline + ")";
    }
  } else if (ev.type == "cluster_explosion") {
    const auto limit = field_of(ev, "limit");
    if (!limit.empty()) {
      out += " (over " + limit + " new clusters a minute)";
    }
  }
  if (!ev.cluster_id.empty()) {
    out += " (cluster " + ev.cluster_id + ")";
  }
  return out;
}

std::string event_body(webhook_format f, const notification_event& ev) {
  if (f != webhook_format::json) {
    return text_body(event_text(ev));
  }
  std::string out;
  json_object_writer o(out);
  o.string("kind", "event");
  write_event_json(o.key("event"), ev);
  o.close();
  return out;
}

namespace {

struct digest_summary {
  std::map<std::string, int64_t> by_type, by_service;
  std::vector<std::pair<std::string, std::string>> titles;  // (service, title), first ones
};

digest_summary summarize(const std::vector<notification_event>& events, size_t top_titles) {
  digest_summary s;
  for (const auto& ev : events) {
    ++s.by_type[ev.type];
    ++s.by_service[ev.service_id];
    if (s.titles.size() < top_titles) {
      s.titles.emplace_back(ev.service_id, std::string(type_words(ev.type)) + ": " + ev.title);
    }
  }
  return s;
}

}  // namespace

std::string digest_text(const std::vector<notification_event>& events, size_t top_titles) {
  const auto s = summarize(events, top_titles);
  std::string out = std::to_string(events.size()) + " cluster events (";
  bool first = true;
  for (const auto& [type, n] : s.by_type) {
    out += (first ? "" : ", ") + std::to_string(n) + " " + std::string(type_words(type));
    first = false;
  }
  out += ")\nby service:";
  for (const auto& [svc, n] : s.by_service) {
    out += " " + (svc.empty() ? std::string("-") : svc) + " " + std::to_string(n) + ";";
  }
  out += "\n";
  for (const auto& [svc, title] : s.titles) {
    out += "- [" + svc + "] " + title + "\n";
  }
  if (events.size() > s.titles.size()) {
    out += "... and " + std::to_string(events.size() - s.titles.size()) + " more\n";
  }
  return out;
}

std::string digest_body(webhook_format f, const std::vector<notification_event>& events,
                        size_t top_titles) {
  if (f != webhook_format::json) {
    return text_body(digest_text(events, top_titles));
  }
  const auto s = summarize(events, top_titles);
  std::string out;
  json_object_writer o(out);
  o.string("kind", "digest").integer("count", static_cast<int64_t>(events.size()));
  {
    json_object_writer t(o.key("by_type"));
    for (const auto& [type, n] : s.by_type) {
      t.integer(type, n);
    }
    t.close();
  }
  {
    json_object_writer t(o.key("by_service"));
    for (const auto& [svc, n] : s.by_service) {
      t.integer(svc, n);
    }
    t.close();
  }
  {
    // A digest stays small whatever the burst: the first 50 events in full.
    json_array_writer a(o.key("events"));
    for (size_t i = 0; i < events.size() && i < 50; ++i) {
      write_event_json(a.item(), events[i]);
    }
    a.close();
  }
  o.close();
  return out;
}

bool notification_dedup::admit(std::string_view type, std::string_view cluster_id, int64_t now_ms) {
  if (window_ms_ <= 0) {
    return true;
  }
  std::string key;
  key.reserve(type.size() + cluster_id.size() + 1);
  key.append(type).push_back('\t');
  key.append(cluster_id);
  const auto it = last_.find(key);
  if (it != last_.end() && now_ms - it->second < window_ms_) {
    return false;
  }
  if (it == last_.end() && last_.size() >= max_entries_) {
    prune(now_ms);
  }
  last_[key] = now_ms;
  return true;
}

void notification_dedup::prune(int64_t now_ms) {
  for (auto it = last_.begin(); it != last_.end();) {
    it = now_ms - it->second >= window_ms_ ? last_.erase(it) : std::next(it);
  }
  // Still full: drop the oldest half. An entry dropped early costs at most one repeat message.
  if (last_.size() >= max_entries_) {
    std::vector<int64_t> at;
    at.reserve(last_.size());
    for (const auto& [k, v] : last_) {
      at.push_back(v);
    }
    auto mid = at.begin() + static_cast<std::ptrdiff_t>(at.size() / 2);
    std::nth_element(at.begin(), mid, at.end());
    const int64_t cut = *mid;
    for (auto it = last_.begin(); it != last_.end();) {
      it = it->second <= cut ? last_.erase(it) : std::next(it);
    }
  }
}

bool retryable_status(int status) {
  return status == 0 || status == 429 || status >= 500;
}

int64_t retry_delay_ms(int attempt, std::optional<int64_t> retry_after_seconds, int64_t base_ms,
                       int64_t cap_ms) {
  if (retry_after_seconds && *retry_after_seconds >= 0) {
    return std::min(cap_ms, *retry_after_seconds * 1000);
  }
  int64_t d = base_ms;
  for (int i = 1; i < attempt && d < cap_ms; ++i) {
    d *= 2;
  }
  return std::min(d, cap_ms);
}

std::optional<int64_t> parse_retry_after(std::string_view header) {
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  while (!header.empty() && header.back() == ' ') {
    header.remove_suffix(1);
  }
  int64_t n = 0;
  const auto r = std::from_chars(header.data(), header.data() + header.size(), n);
  if (header.empty() || r.ec != std::errc() || r.ptr != header.data() + header.size() || n < 0) {
    return std::nullopt;
  }
  return n;
}

void notification_metrics::add(const std::string& webhook, std::string_view format, counter c,
                               uint64_t n) {
  std::lock_guard lock(mutex_);
  auto& w = counters_[{webhook, std::string(format)}];
  switch (c) {
    case counter::sent:
      w.sent += n;
      break;
    case counter::failed:
      w.failed += n;
      break;
    case counter::retries:
      w.retries += n;
      break;
    case counter::suppressed:
      w.suppressed += n;
      break;
    case counter::digests:
      w.digests += n;
      break;
  }
}

std::map<std::pair<std::string, std::string>, webhook_counters> notification_metrics::snapshot()
    const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace luffy
