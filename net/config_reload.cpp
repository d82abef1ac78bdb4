#include "net/config_reload.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "actors/pipeline.hpp"
#include "config/config_loader.hpp"
#include "net/auth.hpp"
#include "net/ingest_gateway.hpp"

namespace luffy {

namespace {

std::string text(int64_t v) {
  return std::to_string(v);
}
std::string text(bool v) {
  return v ? "true" : "false";
}
std::string text(const std::string& v) {
  return v;
}

using getter = std::function<std::string(const luffy_config&)>;

// Every scalar key of core/config.cpp with how to read it. A key missing here cannot be compared,
// so a reload refuses to run until it is added (diff_configs reports it as unknown).
#define LUFFY_RELOAD_KEY(path, member)                         \
  {                                                            \
    path, [](const luffy_config& c) { return text(c.member); } \
  }

const std::vector<std::pair<std::string_view, getter>>& scalar_keys() {
  static const std::vector<std::pair<std::string_view, getter>> keys = {
      LUFFY_RELOAD_KEY("server.listen", server.listen),
      LUFFY_RELOAD_KEY("server.threads", server.threads),
      LUFFY_RELOAD_KEY("server.max_queued", server.max_queued),
      LUFFY_RELOAD_KEY("server.max_connections", server.max_connections),
      LUFFY_RELOAD_KEY("server.max_body_bytes", server.max_body_bytes),
      LUFFY_RELOAD_KEY("server.max_inflated_bytes", server.max_inflated_bytes),
      LUFFY_RELOAD_KEY("server.max_in_flight_bytes", server.max_in_flight_bytes),
      LUFFY_RELOAD_KEY("server.keepalive_timeout_seconds", server.keepalive_timeout_seconds),
      LUFFY_RELOAD_KEY("server.request_timeout_seconds", server.request_timeout_seconds),
      LUFFY_RELOAD_KEY("server.max_in_flight_requests", server.max_in_flight_requests),
      LUFFY_RELOAD_KEY("server.header_timeout_seconds", server.header_timeout_seconds),
      LUFFY_RELOAD_KEY("server.body_timeout_seconds", server.body_timeout_seconds),
      LUFFY_RELOAD_KEY("server.min_body_rate", server.min_body_rate),
      LUFFY_RELOAD_KEY("server.max_open_connections", server.max_open_connections),
      LUFFY_RELOAD_KEY("server.max_connections_per_client", server.max_connections_per_client),
      LUFFY_RELOAD_KEY("server.write_timeout_seconds", server.write_timeout_seconds),
      LUFFY_RELOAD_KEY("ingest.enabled", ingest.enabled),
      LUFFY_RELOAD_KEY("ingest.max_records", ingest.max_records),
      LUFFY_RELOAD_KEY("ingest.date_key", ingest.date_key),
      LUFFY_RELOAD_KEY("ingest.max_message_bytes", ingest.max_message_bytes),
      LUFFY_RELOAD_KEY("ingest.max_stack_trace_bytes", ingest.max_stack_trace_bytes),
      LUFFY_RELOAD_KEY("auth.disabled", auth.disabled),
      LUFFY_RELOAD_KEY("auth.jwt.secret", auth.jwt_secret),
      LUFFY_RELOAD_KEY("auth.jwt.issuer", auth.jwt_issuer),
      LUFFY_RELOAD_KEY("auth.jwt.audience", auth.jwt_audience),
      LUFFY_RELOAD_KEY("rate_limit.per_minute", rate_limit.per_minute),
      LUFFY_RELOAD_KEY("rate_limit.burst", rate_limit.burst),
      LUFFY_RELOAD_KEY("actors.parsers", actors.parsers),
      LUFFY_RELOAD_KEY("actors.cluster_shards", actors.cluster_shards),
      LUFFY_RELOAD_KEY("actors.journal_writers", actors.journal_writers),
      LUFFY_RELOAD_KEY("actors.scheduler_threads", actors.scheduler_threads),
      LUFFY_RELOAD_KEY("backpressure.max_queue_depth", backpressure.max_queue_depth),
      LUFFY_RELOAD_KEY("backpressure.max_pipeline_records", backpressure.max_pipeline_records),
      LUFFY_RELOAD_KEY("backpressure.resume_ratio", backpressure.resume_ratio),
      LUFFY_RELOAD_KEY("backpressure.refusal_delay_ms", backpressure.refusal_delay_ms),
      LUFFY_RELOAD_KEY("backpressure.redis_memory_percent", backpressure.redis_memory_percent),
      LUFFY_RELOAD_KEY("supervision.max_restarts", supervision.max_restarts),
      LUFFY_RELOAD_KEY("supervision.window_seconds", supervision.window_seconds),
      LUFFY_RELOAD_KEY("supervision.max_attempts", supervision.max_attempts),
      LUFFY_RELOAD_KEY("testing.fault_injection", testing.fault_injection),
      LUFFY_RELOAD_KEY("dedup.window_seconds", dedup.window_seconds),
      LUFFY_RELOAD_KEY("clustering.enabled", clustering.enabled),
      LUFFY_RELOAD_KEY("clustering.samples", clustering.samples),
      LUFFY_RELOAD_KEY("clustering.spike_multiplier", clustering.spike_multiplier),
      LUFFY_RELOAD_KEY("clustering.spike_minimum", clustering.spike_minimum),
      LUFFY_RELOAD_KEY("clustering.top_frames", clustering.top_frames),
      LUFFY_RELOAD_KEY("clustering.miner_similarity_percent", clustering.miner_similarity_percent),
      LUFFY_RELOAD_KEY("clustering.trace_cache_entries", clustering.trace_cache_entries),
      LUFFY_RELOAD_KEY("clustering.in_app_prefixes", clustering.in_app_prefixes),
      LUFFY_RELOAD_KEY("clustering.not_in_app_prefixes", clustering.not_in_app_prefixes),
      LUFFY_RELOAD_KEY("clustering.max_new_clusters_per_minute",
                       clustering.max_new_clusters_per_minute),
      LUFFY_RELOAD_KEY("clustering.legacy_grouping_days", clustering.legacy_grouping_days),
      LUFFY_RELOAD_KEY("clustering.legacy_top_frames", clustering.legacy_top_frames),
      LUFFY_RELOAD_KEY("storage.redis", storage.redis),
      LUFFY_RELOAD_KEY("storage.data_dir", storage.data_dir),
      LUFFY_RELOAD_KEY("storage.redis_server_bin", storage.redis_server_bin),
      LUFFY_RELOAD_KEY("storage.embedded_port", storage.embedded_port),
      LUFFY_RELOAD_KEY("storage.fsync", storage.fsync),
      LUFFY_RELOAD_KEY("storage.timeout_ms", storage.timeout_ms),
      LUFFY_RELOAD_KEY("storage.key_prefix", storage.key_prefix),
      LUFFY_RELOAD_KEY("storage.journal_encoding", storage.journal_encoding),
      LUFFY_RELOAD_KEY("log.level", log.level),
  };
  return keys;
}

#undef LUFFY_RELOAD_KEY

bool same_token(const token_config& a, const token_config& b) {
  return a.name == b.name && a.token_sha256 == b.token_sha256 && a.services == b.services &&
         a.default_service == b.default_service && a.admin == b.admin;
}

bool has_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += i;
  }
  return out;
}

// "added [a], removed [b], changed [c]" by token name: names are not secrets, values are.
std::string describe_token_changes(const luffy_config& running, const luffy_config& next) {
  std::vector<std::string> added, removed, changed;
  auto find = [](const luffy_config& c, const std::string& name) -> const token_config* {
    for (const auto& t : c.auth.tokens) {
      if (t.name == name) {
        return &t;
      }
    }
    return nullptr;
  };
  for (const auto& t : next.auth.tokens) {
    const auto* old = find(running, t.name);
    if (old == nullptr) {
      added.push_back(t.name);
    } else if (!same_token(*old, t)) {
      changed.push_back(t.name);
    }
  }
  for (const auto& t : running.auth.tokens) {
    if (find(next, t.name) == nullptr) {
      removed.push_back(t.name);
    }
  }
  return "added [" + join(added) + "], removed [" + join(removed) + "], changed [" + join(changed) +
         "]";
}

std::string restart_reason(const std::string& key) {
  if (key == "actors.cluster_shards") {
    return key +
           ": requires a restart after the journal is drained (records are routed to shards by "
           "service; see docs/CONFIGURATION.md, \"Changing actors.cluster_shards\")";
  }
  if (key == "auth.disabled") {
    return key + ": requires a restart (switching authentication off or on is never live)";
  }
  return key + ": requires a restart";
}

}  // namespace

config_diff diff_configs(const luffy_config& running, const luffy_config& next) {
  config_diff d;
  std::set<std::string_view> known;
  for (const auto& [path, get] : scalar_keys()) {
    known.insert(path);
    if (get(running) != get(next)) {
      d.changed.emplace_back(path);
    }
  }
  if (running.clustering.fingerprint_rules != next.clustering.fingerprint_rules) {
    d.changed.emplace_back("clustering.fingerprint_rules");
  }
  const auto& a = running.auth.tokens;
  const auto& b = next.auth.tokens;
  if (a.size() != b.size() || !std::equal(a.begin(), a.end(), b.begin(), same_token)) {
    d.changed.emplace_back("auth.tokens");
  }
  std::set<std::string> services;
  for (const auto& [s, v] : running.rate_limit.services) {
    services.insert(s);
  }
  for (const auto& [s, v] : next.rate_limit.services) {
    services.insert(s);
  }
  for (const auto& s : services) {
    const auto x = running.rate_limit.services.find(s);
    const auto y = next.rate_limit.services.find(s);
    const bool in_x = x != running.rate_limit.services.end();
    const bool in_y = y != next.rate_limit.services.end();
    if (in_x != in_y || (in_x && x->second != y->second)) {
      d.changed.push_back("rate_limit.services." + s);
    }
  }
  for (const auto& k : config_keys()) {
    if (k.path == "auth.tokens" || k.path == "clustering.fingerprint_rules" ||
        k.type == key_type::map || known.count(k.path) != 0) {
      continue;
    }
    d.unknown.emplace_back(k.path);
  }
  return d;
}

namespace {

// The operator's grouping rules: sent to the cluster shards (pipeline::update_grouping).
bool is_grouping_key(std::string_view key) {
  return key == "clustering.in_app_prefixes" || key == "clustering.not_in_app_prefixes" ||
         key == "clustering.fingerprint_rules" || key == "clustering.max_new_clusters_per_minute";
}

}  // namespace

bool applies_live(std::string_view key) {
  return key == "auth.tokens" || has_prefix(key, "auth.jwt.") || has_prefix(key, "rate_limit.") ||
         key == "actors.parsers" || has_prefix(key, "backpressure.") || key == "log.level" ||
         key == "ingest.enabled" || key == "server.max_in_flight_bytes" || is_grouping_key(key);
}

reload_result reload_config(server_context& ctx, std::string_view trigger) {
  std::lock_guard lock(ctx.reload_mutex);
  reload_result r;
  auto refuse = [&](reload_result& res) -> reload_result& {
    spdlog::error("reload ({}): refused, the running configuration is unchanged; {} problem(s):",
                  trigger, res.problems.size());
    for (const auto& p : res.problems) {
      spdlog::error("reload ({}):   {}", trigger, p);
    }
    return res;
  };
  auto loaded = load_config(ctx.source.path, ctx.source.sets, ctx.source.use_environment);
  if (!loaded.problems.empty()) {
    r.problems = std::move(loaded.problems);
    return refuse(r);
  }
  const auto running = ctx.config.load();
  auto diff = diff_configs(*running, loaded.config);
  for (const auto& key : diff.unknown) {
    r.problems.push_back(key +
                         ": hot reload cannot compare this key (no rule in net/config_reload.cpp); "
                         "restart to apply any change");
  }
  for (const auto& key : diff.changed) {
    if (!applies_live(key)) {
      r.problems.push_back(restart_reason(key));
    }
  }
  if (!r.problems.empty()) {
    return refuse(r);
  }
  r.applied = true;
  r.changed = std::move(diff.changed);
  std::sort(r.changed.begin(), r.changed.end());
  if (r.changed.empty()) {
    spdlog::info("reload ({}): configuration unchanged", trigger);
    return r;
  }
  auto next = std::make_shared<const luffy_config>(std::move(loaded.config));
  auto changed = [&](auto&& pred) { return std::any_of(r.changed.begin(), r.changed.end(), pred); };
  if (changed([](const std::string& k) { return has_prefix(k, "auth."); })) {
    ctx.auth.store(std::make_shared<const authenticator>(*next));
  }
  if (ctx.gateway && changed([](const std::string& k) {
        return has_prefix(k, "rate_limit.") || k == "actors.parsers";
      })) {
    ctx.gateway->stages().reconfigure(*next);
  }
  if (ctx.gateway && changed([](const std::string& k) { return is_grouping_key(k); })) {
    ctx.gateway->stages().update_grouping(*next);
  }
  if (changed([](const std::string& k) { return has_prefix(k, "backpressure."); })) {
    ctx.gates.configure(*next);
  }
  if (changed([](const std::string& k) { return k == "server.max_in_flight_bytes"; })) {
    ctx.in_flight_bytes.set_limit(next->server.max_in_flight_bytes);
  }
  if (changed([](const std::string& k) { return k == "log.level"; })) {
    spdlog::set_level(spdlog::level::from_str(next->log.level));
  }
  ctx.config.store(next);
  spdlog::info("reload ({}): configuration reloaded; changed: {}", trigger, join(r.changed));
  if (std::find(r.changed.begin(), r.changed.end(), "auth.tokens") != r.changed.end()) {
    spdlog::info("reload ({}): auth.tokens {}", trigger, describe_token_changes(*running, *next));
  }
  return r;
}

}  // namespace luffy
