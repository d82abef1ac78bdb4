#include "core/config.hpp"

#include "core/glob.hpp"

#include <algorithm>
#include <charconv>

namespace luffy {

namespace {

constexpr int64_t kMaxI = INT64_MAX;

std::vector<config_key> make_keys() {
  using k = key_type;
  return {
      {"server.listen", k::string, "127.0.0.1:8080", 0, 0, "",
       "Address and port the HTTP server binds (host:port). Use 0.0.0.0:8080 in containers."},
      {"server.threads", k::integer, "64", 1, 4096, "",
       "HTTP worker threads: requests whose body is being read or handled at once. Idle "
       "keep-alive connections and clients still sending headers hold none."},
      {"server.max_queued", k::integer, "256", 1, 100000, "",
       "Complete request heads waiting for a free worker; beyond it they wait, unread, in the "
       "kernel."},
      {"server.max_connections", k::integer, "1024", 16, 65535, "",
       "Listen backlog of the server socket."},
      {"server.max_body_bytes", k::size, "16MiB", 1024, 1LL << 31, "",
       "Largest request body on the wire (compressed size). Larger bodies get 413."},
      {"server.max_inflated_bytes", k::size, "64MiB", 1024, 1LL << 32, "",
       "Largest body after gzip inflation (gzip-bomb bound). Larger bodies get 413."},
      {"server.max_in_flight_bytes", k::size, "384MiB", 1 << 20, 1LL << 40, "",
       "Memory budget for ingest requests in flight: raw bodies, inflated bodies and the "
       "decoder's share, summed over all requests. A request that cannot draw its bytes gets "
       "503 + Retry-After. Must be at least max_body_bytes + max_inflated_bytes."},
      {"server.keepalive_timeout_seconds", k::integer, "30", 1, 3600, "",
       "Idle time before a keep-alive connection is closed (an idle connection holds no worker "
       "thread)."},
      {"server.request_timeout_seconds", k::integer, "15", 1, 600, "",
       "Longest a request may wait for the pipeline and Redis before it is answered 503."},
      {"server.max_in_flight_requests", k::integer, "64", 1, 100000, "",
       "Ingest requests inside the pipeline at once; beyond it new ones get 503 + Retry-After."},
      {"server.header_timeout_seconds", k::integer, "20", 1, 600, "",
       "Total time a client has to send the request line and headers (from connect, or from the "
       "first byte on a kept-alive connection); then 408 and close. No worker waits for them."},
      {"server.body_timeout_seconds", k::integer, "60", 1, 3600, "",
       "Total time a client has to send the body once its headers are in; then the connection "
       "is cut (400 truncated_body). Not per read: trickling bytes does not extend it."},
      {"server.min_body_rate", k::size, "16KiB", 0, 1LL << 30, "",
       "Bytes per second a body must average while requests wait for a worker; slower bodies "
       "are cut after 0.5 s to free the thread. 0 disables it."},
      {"server.max_open_connections", k::integer, "4096", 16, 1000000, "",
       "Client connections open at once, idle keep-alive ones included. At the cap the "
       "longest-idle one is closed to admit a new one (the new one is refused if none is idle)."},
      {"server.max_connections_per_client", k::integer, "512", 0, 1000000, "",
       "Connections one client address may hold open; more are answered 503 and closed. 0: no "
       "cap. Agents behind one NAT or proxy share an address: size it for them."},
      {"server.write_timeout_seconds", k::integer, "10", 1, 3600, "",
       "Time a response has to leave: a client that does not read it for that long is closed, "
       "and its pipelined requests are not read until the previous response has left."},
      {"ingest.enabled", k::boolean, "true", 0, 0, "",
       "Feature flag. When false the ingest endpoints answer 503 and agents keep their buffers."},
      {"ingest.max_records", k::integer, "100000", 1, 10000000, "",
       "Most records in one request (413 above). Fluent Bit sizes requests in bytes (~2 MB "
       "chunks), so keep it large."},
      {"ingest.date_key", k::string, "date", 0, 0, "",
       "Key of the agent's event time (Fluent Bit json_date_key). A record's own `timestamp` wins "
       "over it."},
      {"ingest.max_message_bytes", k::size, "64KiB", 256, 1LL << 26, "",
       "Messages longer than this are cut on a UTF-8 boundary and flagged `truncated`."},
      {"ingest.max_stack_trace_bytes", k::size, "256KiB", 256, 1LL << 26, "",
       "Stack traces longer than this are cut and flagged `truncated`."},
      {"auth.disabled", k::boolean, "false", 0, 0, "",
       "Accept requests without a token. Must be set explicitly; the server logs a warning."},
      {"auth.tokens", k::list, "[]", 0, 0, "",
       "Bearer tokens: {name, token | token_sha256, services: [..] or [\"*\"], default_service, "
       "admin}."},
      {"auth.jwt.secret", k::string, "", 0, 0, "",
       "HS256 secret for JWT bearer tokens (optional). Claims: services (array), iss, aud, exp."},
      {"auth.jwt.issuer", k::string, "", 0, 0, "", "Required `iss` of JWTs, when set."},
      {"auth.jwt.audience", k::string, "", 0, 0, "", "Required `aud` of JWTs, when set."},
      {"rate_limit.per_minute", k::integer, "10000", 0, kMaxI, "",
       "Records per minute per service (token bucket). 0 refuses everything."},
      {"rate_limit.burst", k::integer, "0", 0, kMaxI, "",
       "Bucket capacity in records; 0 means one minute's worth."},
      {"rate_limit.services.*", k::map, "", 0, kMaxI, "",
       "Per-service override of per_minute: `rate_limit.services.checkout: 50000`."},
      {"actors.parsers", k::integer, "2", 1, 256, "", "Parser actors decoding bodies in parallel."},
      {"actors.cluster_shards", k::integer, "4", 1, 1024, "",
       "Journal streams and cluster shard actors (luffy:journal:<n>)."},
      {"actors.journal_writers", k::integer, "4", 1, 64, "",
       "Redis connections writing the journal (detached actors)."},
      {"actors.scheduler_threads", k::integer, "0", 0, 256, "",
       "CAF scheduler threads; 0 = number of cores."},
      {"backpressure.max_queue_depth", k::integer, "100000", 1, kMaxI, "",
       "Circuit breaker: journaled records not clustered yet, summed over the shards, above which "
       "ingest answers 503 (Retry-After) until the backlog falls to resume_ratio of it."},
      {"backpressure.max_pipeline_records", k::integer, "50000", 1, kMaxI, "",
       "High watermark of records inside the ingest stages (parse, dedup, limit, journal) at "
       "once; above it ingest answers 503 until they fall to resume_ratio of it."},
      {"backpressure.refusal_delay_ms", k::integer, "500", 0, 10000, "",
       "A backpressure 503 is sent after this pause, so clients that retry at once (ignoring "
       "Retry-After) cost the server a refused body per pause, not a flood of them."},
      {"backpressure.resume_ratio", k::integer, "80", 1, 100, "",
       "Low watermark, in percent of each high watermark: below it ingest accepts again."},
      {"backpressure.redis_memory_percent", k::integer, "90", 1, 100, "",
       "With a Redis maxmemory set, ingest answers 503 while used_memory is above this percent "
       "of it (a full Redis would refuse journal writes)."},
      {"supervision.max_restarts", k::integer, "5", 0, 1000000, "",
       "Restart intensity: more actor restarts than this within window_seconds make the pipeline "
       "degraded (/ready and ingest answer 503) until a whole window passes without one."},
      {"supervision.window_seconds", k::integer, "60", 1, 86400, "",
       "The restart intensity window."},
      {"supervision.max_attempts", k::integer, "3", 1, 100, "",
       "Times a journal entry may take a cluster shard down before it goes to the dead-letter "
       "stream <prefix>:dlq instead."},
      {"testing.fault_injection", k::boolean, "false", 0, 0, "",
       "Test-only: records whose message contains `luffy-fault:<point>` make that point fail "
       "(parser-throw, parser-crash, shard-throw, shard-crash, shard-stall). Never enable in "
       "production."},
      {"dedup.window_seconds", k::integer, "3600", 1, 7 * 86400, "",
       "A record seen within this window (at least; up to twice) is a duplicate. Shared through "
       "Redis."},
      {"clustering.enabled", k::boolean, "true", 0, 0, "",
       "Run the cluster shard actors in this process (false: ingest only; another process "
       "clusters)."},
      {"clustering.samples", k::integer, "5", 0, 100, "",
       "Most recent sample records kept per cluster."},
      {"clustering.spike_multiplier", k::integer, "5", 1, 1000, "",
       "A cluster spikes when its last event-time minute exceeds this multiple of its mean over "
       "the previous 60 minutes ..."},
      {"clustering.spike_minimum", k::integer, "50", 1, 100000000, "",
       "... and has at least this many records."},
      {"clustering.top_frames", k::integer, "50", 1, 200, "",
       "At most this many in-app frames of the root cause's call path (recursion collapsed) make "
       "a level-1 fingerprint; with no in-app frame, the top 5 frames."},
      {"clustering.miner_similarity_percent", k::integer, "50", 1, 100, "",
       "Level 3: a message joins a template when at least this share (%) of its tokens agree."},
      {"clustering.trace_cache_entries", k::integer, "2048", 0, 1000000, "",
       "Parsed stack traces each cluster shard keeps for reuse (per generation, two "
       "generations); 0 disables the cache."},
      {"clustering.in_app_prefixes", k::string, "", 0, 0, "",
       "Frame prefixes or globs (module/package/path; `*`, `?`, `[..]`) that are always in-app; "
       "a YAML list or comma-separated. The most specific match wins. Reloadable."},
      {"clustering.not_in_app_prefixes", k::string, "", 0, 0, "",
       "Frame prefixes or globs that are never in-app (vendored libraries); a YAML list or "
       "comma-separated. Reloadable."},
      {"clustering.max_new_clusters_per_minute", k::integer, "100", 0, 1000000, "",
       "New clusters a service may create per minute (wall clock); beyond it the service's "
       "records that would open a new cluster are counted in its one overflow cluster and a "
       "cluster_explosion event is emitted. 0 = no bound. Reloadable."},
      {"clustering.legacy_grouping_days", k::integer, "30", 0, 3650, "",
       "Secondary grouping: for this many days after the first start of this version against "
       "the Redis, a record whose cluster id is new but whose previous-version (grouping_v1) id "
       "exists goes to that cluster, and the new id becomes a redirect to it. 0 = off."},
      {"clustering.legacy_top_frames", k::integer, "5", 1, 50, "",
       "clustering.top_frames as the previous version (grouping_v1) ran with, for its ids: its "
       "default was 5. Set it to the old value if top_frames was configured then."},
      {"clustering.fingerprint_rules", k::list, "[]", 0, 0, "",
       "Custom fingerprints: a list of {match: {field: glob, ...}, fingerprint, title}; a record "
       "whose fields all match goes to one cluster per (service, fingerprint). Fields: "
       "service_id, level, logger, message, exception_type, exception_message, environment, "
       "hostname, file_path. First matching rule wins. Reloadable."},
      {"storage.redis", k::string, "embedded", 0, 0, "",
       "`embedded` (start a private redis-server child on loopback) or redis://host:port/db."},
      {"storage.data_dir", k::string, "./var/data", 0, 0, "",
       "Data directory of the embedded Redis (AOF files)."},
      {"storage.redis_server_bin", k::string, "redis-server", 0, 0, "",
       "redis-server binary for the embedded Redis."},
      {"storage.embedded_port", k::integer, "0", 0, 65535, "",
       "Loopback port of the embedded Redis; 0 picks a free one."},
      {"storage.fsync", k::enumeration, "always", 0, 0, "always|everysec",
       "Embedded Redis appendfsync. `always`: a 202 survives a host crash; `everysec`: up to 1 s "
       "may be lost."},
      {"storage.timeout_ms", k::integer, "2000", 10, 600000, "",
       "Redis connect and command timeout."},
      {"storage.journal_encoding", k::enumeration, "zstd", 0, 0, "zstd|json",
       "Encoding of journal payloads: zstd (about 8x less Redis memory, AOF and copying) or plain "
       "JSON lines."},
      {"storage.key_prefix", k::string, "luffy", 0, 0, "", "Prefix of every Redis key."},
      {"log.level", k::enumeration, "info", 0, 0, "trace|debug|info|warn|error|off",
       "Log level. debug logs one line per request."},
  };
}

bool parse_int(std::string_view v, int64_t& out) {
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

std::optional<bool> parse_bool(std::string_view v) {
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "yes" || s == "on" || s == "1")
    return true;
  if (s == "false" || s == "no" || s == "off" || s == "0")
    return false;
  return std::nullopt;
}

int64_t* int_field(luffy_config& c, std::string_view p) {
  static const std::pair<std::string_view, int64_t* (*)(luffy_config&)> table[] = {
      {"server.threads", [](luffy_config& c) { return &c.server.threads; }},
      {"server.max_queued", [](luffy_config& c) { return &c.server.max_queued; }},
      {"server.max_connections", [](luffy_config& c) { return &c.server.max_connections; }},
      {"server.max_body_bytes", [](luffy_config& c) { return &c.server.max_body_bytes; }},
      {"server.max_inflated_bytes", [](luffy_config& c) { return &c.server.max_inflated_bytes; }},
      {"server.max_in_flight_bytes", [](luffy_config& c) { return &c.server.max_in_flight_bytes; }},
      {"server.keepalive_timeout_seconds",
       [](luffy_config& c) { return &c.server.keepalive_timeout_seconds; }},
      {"server.request_timeout_seconds",
       [](luffy_config& c) { return &c.server.request_timeout_seconds; }},
      {"server.max_in_flight_requests",
       [](luffy_config& c) { return &c.server.max_in_flight_requests; }},
      {"server.header_timeout_seconds",
       [](luffy_config& c) { return &c.server.header_timeout_seconds; }},
      {"server.body_timeout_seconds",
       [](luffy_config& c) { return &c.server.body_timeout_seconds; }},
      {"server.min_body_rate", [](luffy_config& c) { return &c.server.min_body_rate; }},
      {"server.max_open_connections",
       [](luffy_config& c) { return &c.server.max_open_connections; }},
      {"server.max_connections_per_client",
       [](luffy_config& c) { return &c.server.max_connections_per_client; }},
      {"server.write_timeout_seconds",
       [](luffy_config& c) { return &c.server.write_timeout_seconds; }},
      {"ingest.max_records", [](luffy_config& c) { return &c.ingest.max_records; }},
      {"ingest.max_message_bytes", [](luffy_config& c) { return &c.ingest.max_message_bytes; }},
      {"ingest.max_stack_trace_bytes",
       [](luffy_config& c) { return &c.ingest.max_stack_trace_bytes; }},
      {"rate_limit.per_minute", [](luffy_config& c) { return &c.rate_limit.per_minute; }},
      {"rate_limit.burst", [](luffy_config& c) { return &c.rate_limit.burst; }},
      {"actors.parsers", [](luffy_config& c) { return &c.actors.parsers; }},
      {"supervision.max_restarts", [](luffy_config& c) { return &c.supervision.max_restarts; }},
      {"supervision.window_seconds", [](luffy_config& c) { return &c.supervision.window_seconds; }},
      {"supervision.max_attempts", [](luffy_config& c) { return &c.supervision.max_attempts; }},
      {"backpressure.max_queue_depth",
       [](luffy_config& c) { return &c.backpressure.max_queue_depth; }},
      {"backpressure.max_pipeline_records",
       [](luffy_config& c) { return &c.backpressure.max_pipeline_records; }},
      {"backpressure.resume_ratio", [](luffy_config& c) { return &c.backpressure.resume_ratio; }},
      {"backpressure.refusal_delay_ms",
       [](luffy_config& c) { return &c.backpressure.refusal_delay_ms; }},
      {"backpressure.redis_memory_percent",
       [](luffy_config& c) { return &c.backpressure.redis_memory_percent; }},
      {"actors.cluster_shards", [](luffy_config& c) { return &c.actors.cluster_shards; }},
      {"actors.journal_writers", [](luffy_config& c) { return &c.actors.journal_writers; }},
      {"actors.scheduler_threads", [](luffy_config& c) { return &c.actors.scheduler_threads; }},
      {"dedup.window_seconds", [](luffy_config& c) { return &c.dedup.window_seconds; }},
      {"clustering.samples", [](luffy_config& c) { return &c.clustering.samples; }},
      {"clustering.spike_multiplier",
       [](luffy_config& c) { return &c.clustering.spike_multiplier; }},
      {"clustering.spike_minimum", [](luffy_config& c) { return &c.clustering.spike_minimum; }},
      {"clustering.top_frames", [](luffy_config& c) { return &c.clustering.top_frames; }},
      {"clustering.miner_similarity_percent",
       [](luffy_config& c) { return &c.clustering.miner_similarity_percent; }},
      {"clustering.trace_cache_entries",
       [](luffy_config& c) { return &c.clustering.trace_cache_entries; }},
      {"clustering.max_new_clusters_per_minute",
       [](luffy_config& c) { return &c.clustering.max_new_clusters_per_minute; }},
      {"clustering.legacy_grouping_days",
       [](luffy_config& c) { return &c.clustering.legacy_grouping_days; }},
      {"clustering.legacy_top_frames",
       [](luffy_config& c) { return &c.clustering.legacy_top_frames; }},
      {"storage.embedded_port", [](luffy_config& c) { return &c.storage.embedded_port; }},
      {"storage.timeout_ms", [](luffy_config& c) { return &c.storage.timeout_ms; }},
  };
  for (auto& [name, get] : table) {
    if (name == p)
      return get(c);
  }
  return nullptr;
}

std::string* string_field(luffy_config& c, std::string_view p) {
  if (p == "server.listen")
    return &c.server.listen;
  if (p == "ingest.date_key")
    return &c.ingest.date_key;
  if (p == "auth.jwt.secret")
    return &c.auth.jwt_secret;
  if (p == "auth.jwt.issuer")
    return &c.auth.jwt_issuer;
  if (p == "auth.jwt.audience")
    return &c.auth.jwt_audience;
  if (p == "storage.redis")
    return &c.storage.redis;
  if (p == "storage.data_dir")
    return &c.storage.data_dir;
  if (p == "storage.redis_server_bin")
    return &c.storage.redis_server_bin;
  if (p == "storage.fsync")
    return &c.storage.fsync;
  if (p == "storage.key_prefix")
    return &c.storage.key_prefix;
  if (p == "storage.journal_encoding")
    return &c.storage.journal_encoding;
  if (p == "log.level")
    return &c.log.level;
  if (p == "clustering.in_app_prefixes")
    return &c.clustering.in_app_prefixes;
  if (p == "clustering.not_in_app_prefixes")
    return &c.clustering.not_in_app_prefixes;
  return nullptr;
}

bool* bool_field(luffy_config& c, std::string_view p) {
  if (p == "ingest.enabled")
    return &c.ingest.enabled;
  if (p == "auth.disabled")
    return &c.auth.disabled;
  if (p == "clustering.enabled")
    return &c.clustering.enabled;
  if (p == "testing.fault_injection")
    return &c.testing.fault_injection;
  return nullptr;
}

}  // namespace

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = make_keys();
  return keys;
}

const config_key* find_config_key(std::string_view path) {
  for (const auto& k : config_keys()) {
    if (k.path == path)
      return &k;
    if (k.type == key_type::map) {
      const auto prefix = k.path.substr(0, k.path.size() - 1);  // "rate_limit.services."
      if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
          path.find('.', prefix.size()) == std::string_view::npos) {
        return &k;
      }
    }
  }
  return nullptr;
}

std::string env_name_for(std::string_view path) {
  std::string out = "LUFFY_";
  for (char c : path) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::optional<int64_t> parse_size(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    ++i;
  if (i == 0)
    return std::nullopt;
  int64_t n = 0;
  if (!parse_int(text.substr(0, i), n))
    return std::nullopt;
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  int64_t mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1LL << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1LL << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1LL << 30;
  else
    return std::nullopt;
  if (n > INT64_MAX / mult)
    return std::nullopt;
  return n * mult;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos)
      end = s.size();
    std::string_view item = s.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

bool split_host_port(std::string_view listen, std::string& host, uint16_t& port) {
  size_t colon;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return false;
    host = std::string(listen.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = listen.rfind(':');
    if (colon == std::string_view::npos)
      return false;
    host = std::string(listen.substr(0, colon));
  }
  int64_t p = 0;
  if (!parse_int(listen.substr(colon + 1), p) || p < 0 || p > 65535)
    return false;
  port = static_cast<uint16_t>(p);
  return !host.empty();
}

std::optional<std::string> apply_setting(luffy_config& cfg, std::string_view path,
                                         std::string_view value) {
  const config_key* key = find_config_key(path);
  const std::string where(path);
  if (key == nullptr) {
    return where + ": unknown key";
  }
  switch (key->type) {
    case key_type::integer:
    case key_type::size:
    case key_type::map: {
      int64_t v = 0;
      if (key->type == key_type::size) {
        auto s = parse_size(value);
        if (!s)
          return where + ": expected a size such as 16MiB, got \"" + std::string(value) + "\"";
        v = *s;
      } else if (!parse_int(value, v)) {
        return where + ": expected an integer, got \"" + std::string(value) + "\"";
      }
      if (v < key->min || v > key->max) {
        return where + ": " + std::to_string(v) + " is outside [" + std::to_string(key->min) +
               ", " + std::to_string(key->max) + "]";
      }
      if (key->type == key_type::map) {
        cfg.rate_limit.services[std::string(path.substr(path.rfind('.') + 1))] = v;
      } else {
        *int_field(cfg, path) = v;
      }
      return std::nullopt;
    }
    case key_type::boolean: {
      auto b = parse_bool(value);
      if (!b)
        return where + ": expected true or false, got \"" + std::string(value) + "\"";
      *bool_field(cfg, path) = *b;
      return std::nullopt;
    }
    case key_type::enumeration: {
      std::string_view choices = key->choices;
      bool ok = false;
      size_t start = 0;
      while (start <= choices.size()) {
        auto bar = choices.find('|', start);
        if (bar == std::string_view::npos)
          bar = choices.size();
        if (choices.substr(start, bar - start) == value)
          ok = true;
        start = bar + 1;
      }
      if (!ok)
        return where + ": expected one of " + std::string(choices) + ", got \"" +
               std::string(value) + "\"";
      *string_field(cfg, path) = std::string(value);
      return std::nullopt;
    }
    case key_type::string:
      *string_field(cfg, path) = std::string(value);
      return std::nullopt;
    case key_type::list:
      return where + ": is a list; set it in the YAML file";
  }
  return where + ": unsupported";
}

const std::vector<std::string_view>& fingerprint_rule_fields() {
  static const std::vector<std::string_view> fields = {
      "service_id",        "level",       "logger",   "message",  "exception_type",
      "exception_message", "environment", "hostname", "file_path"};
  return fields;
}

std::vector<std::string> check_fingerprint_rules(
    const std::vector<fingerprint_rule_config>& rules) {
  std::vector<std::string> problems;
  const auto& fields = fingerprint_rule_fields();
  std::string known;
  for (auto f : fields) {
    known += (known.empty() ? "" : ", ") + std::string(f);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    const std::string where = "clustering.fingerprint_rules[" + std::to_string(i) + "]";
    if (r.match.empty()) {
      problems.push_back(where + ".match: name at least one field (" + known + ")");
    }
    for (const auto& m : r.match) {
      const std::string at = where + ".match." + m.field;
      if (std::find(fields.begin(), fields.end(), m.field) == fields.end()) {
        problems.push_back(at + ": unknown field (one of " + known + ")");
      } else if (auto why = glob_error(m.glob)) {
        problems.push_back(at + ": bad glob \"" + m.glob + "\": " + *why);
      }
    }
    if (r.fingerprint.empty()) {
      problems.push_back(where + ".fingerprint: must not be empty");
    }
  }
  return problems;
}

std::vector<std::string> validate(const luffy_config& cfg) {
  std::vector<std::string> problems;
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(cfg.server.listen, host, port)) {
    problems.push_back("server.listen: expected host:port, got \"" + cfg.server.listen + "\"");
  }
  if (cfg.server.max_in_flight_bytes < cfg.server.max_body_bytes + cfg.server.max_inflated_bytes) {
    problems.push_back(
        "server.max_in_flight_bytes: must be at least server.max_body_bytes + "
        "server.max_inflated_bytes (one largest request must fit)");
  }
  if (cfg.server.max_inflated_bytes < cfg.server.max_body_bytes) {
    problems.push_back("server.max_inflated_bytes: must be at least server.max_body_bytes");
  }
  if (!cfg.auth.disabled && cfg.auth.tokens.empty() && cfg.auth.jwt_secret.empty()) {
    problems.push_back(
        "auth.tokens: no tokens and no auth.jwt.secret; set tokens or auth.disabled: true "
        "explicitly");
  }
  for (size_t i = 0; i < cfg.auth.tokens.size(); ++i) {
    const auto& t = cfg.auth.tokens[i];
    const std::string where = "auth.tokens[" + std::to_string(i) + "]";
    if (t.token_sha256.size() != 64) {
      problems.push_back(where + ": needs `token` or a 64-hex-digit `token_sha256`");
    }
    if (t.services.empty()) {
      problems.push_back(where + ".services: list at least one service or \"*\"");
    }
    if (!t.default_service.empty() && !(t.services.size() == 1 && t.services[0] == "*") &&
        std::find(t.services.begin(), t.services.end(), t.default_service) == t.services.end()) {
      problems.push_back(where + ".default_service: \"" + t.default_service +
                         "\" is not in its services");
    }
  }
  if (cfg.ingest.date_key.empty()) {
    problems.push_back("ingest.date_key: must not be empty");
  }
  if (cfg.storage.redis != "embedded" && cfg.storage.redis.rfind("redis://", 0) != 0) {
    problems.push_back("storage.redis: expected `embedded` or redis://host:port/db, got \"" +
                       cfg.storage.redis + "\"");
  }
  if (cfg.storage.key_prefix.empty()) {
    problems.push_back("storage.key_prefix: must not be empty");
  }
  for (const char* key : {"clustering.in_app_prefixes", "clustering.not_in_app_prefixes"}) {
    const auto items = split_list(std::string_view(key) == "clustering.in_app_prefixes"
                                      ? cfg.clustering.in_app_prefixes
                                      : cfg.clustering.not_in_app_prefixes);
    for (size_t i = 0; i < items.size(); ++i) {
      if (is_glob(items[i])) {
        if (auto why = glob_error(items[i])) {
          problems.push_back(std::string(key) + "[" + std::to_string(i) + "]: bad glob \"" +
                             items[i] + "\": " + *why);
        }
      }
    }
  }
  for (auto& p : check_fingerprint_rules(cfg.clustering.fingerprint_rules)) {
    problems.push_back(std::move(p));
  }
  return problems;
}

}  // namespace luffy
