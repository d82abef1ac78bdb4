// Hot reload (SIGHUP, POST /api/v1/admin/reload) and GET /api/v1/admin/actors against the real
// binary: tokens, rate limits and the parser pool change live; an invalid file or a change that
// needs a restart is refused with the reason and the running configuration keeps serving.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "harness.hpp"

using namespace luffy::test;

namespace {

struct config_text {
  std::string redis_url;
  bool old_token = true;
  bool new_token = false;
  int limited = 3;  // rate_limit.services.limited
  int tight = 0;    // rate_limit.services.tight (0: not listed)
  int parsers = 2;
  int journal_writers = 4;
  int cluster_shards = 4;
  std::string per_minute = "100000";
  std::string log_level = "info";
  std::string server;  // e.g. "server: {threads: 8}\n"
  std::string tail;    // appended verbatim (syntax errors)

  std::string yaml() const {
    std::string y = "storage: {redis: \"" + redis_url + "\"}\n";
    y += "log: {level: " + log_level + "}\n";
    y += "actors: {parsers: " + std::to_string(parsers) +
         ", journal_writers: " + std::to_string(journal_writers) +
         ", cluster_shards: " + std::to_string(cluster_shards) + "}\n";
    y += "rate_limit:\n  per_minute: " + per_minute +
         "\n  services: {limited: " + std::to_string(limited) +
         (tight > 0 ? ", tight: " + std::to_string(tight) : "") + "}\n";
    y += "auth:\n  tokens:\n";
    y += "    - {name: writer, token: tok-writer, services: [\"*\"]}\n";
    if (old_token) {
      y += "    - {name: old, token: tok-old, services: [\"*\"]}\n";
    }
    if (new_token) {
      y += "    - {name: new, token: tok-new, services: [\"*\"]}\n";
    }
    y += "    - {name: admin, token: tok-admin, services: [\"*\"], admin: true}\n";
    return y + server + tail;
  }
};

void write_config(const server_process& s, const config_text& c) {
  const auto tmp = s.config_path().string() + ".tmp";
  std::ofstream(tmp) << c.yaml();
  std::filesystem::rename(tmp, s.config_path());  // atomic, as a ConfigMap update is
}

int seq = 0;

// n distinct records of `service` (distinct so that dedup never hides the rate limit).
http_reply ingest(const server_process& s, const std::string& token, const std::string& service,
                  int n = 1) {
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    b += std::string(i ? "," : "") + R"({"message":"reload test )" + std::to_string(++seq) +
         R"(","timestamp":"2026-01-01T00:00:00Z","service_id":")" + service + R"("})";
  }
  return s.call(ingest_post(b + "]", token));
}

http_reply admin(const server_process& s, const std::string& method, const std::string& path,
                 const std::string& token) {
  return s.call(api_call(method, path, token));
}

// Writes `c` and asks for a reload as the admin, which must refuse it as invalid_config.
http_reply refused_reload(const server_process& s, const config_text& c) {
  write_config(s, c);
  auto r = admin(s, "POST", "/api/v1/admin/reload", "tok-admin");
  INFO(r.body);
  CHECK(r.status == 422);
  CHECK(json_str(r.body, "error") == "invalid_config");
  return r;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

// Sends SIGHUP and waits for the reload's outcome in the log; returns the log after it.
std::string sighup(const server_process& s) {
  const auto before = s.log();
  const size_t done = count(before, "reload (SIGHUP): configuration reloaded") +
                      count(before, "reload (SIGHUP): configuration unchanged") +
                      count(before, "reload (SIGHUP): refused");
  REQUIRE(::kill(s.pid(), SIGHUP) == 0);
  for (int i = 0; i < 200; ++i) {
    const auto log = s.log();
    if (count(log, "reload (SIGHUP): configuration reloaded") +
            count(log, "reload (SIGHUP): configuration unchanged") +
            count(log, "reload (SIGHUP): refused") >
        done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the problem lines follow
      return s.log().substr(before.size());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("no reload outcome in the log after SIGHUP: " << s.log());
  return "";
}

// The "size" of one group in GET /api/v1/admin/actors.
long group_size(const std::string& body, const std::string& group) {
  const auto at = body.find("{\"name\":\"" + group + "\"");
  if (at == std::string::npos) {
    return -1;
  }
  return json_int(body.substr(at), "size");
}

// YAML for flat `path: value` pairs (values are YAML text: scalars, flow lists or maps).
std::string nested_yaml(const std::map<std::string, std::string>& flat) {
  std::string y;
  std::vector<std::string> opened;  // sections being written, outermost first
  for (const auto& [path, value] : flat) {
    std::vector<std::string> segments;
    for (size_t start = 0; start <= path.size();) {
      auto dot = path.find('.', start);
      dot = dot == std::string::npos ? path.size() : dot;
      segments.push_back(path.substr(start, dot - start));
      start = dot + 1;
    }
    const std::string name = segments.back();
    segments.pop_back();
    size_t common = 0;
    while (common < opened.size() && common < segments.size() &&
           opened[common] == segments[common]) {
      ++common;
    }
    opened.resize(common);
    for (; opened.size() < segments.size(); opened.push_back(segments[opened.size()])) {
      y += std::string(2 * opened.size(), ' ') + segments[opened.size()] + ":\n";
    }
    y += std::string(2 * opened.size(), ' ') + name + ": " + value + "\n";
  }
  return y;
}

// A valid value of `key` other than its default, as YAML text, and the path reload reports.
std::pair<std::string, std::string> changed_value(const luffy::config_key& k) {
  using luffy::key_type;
  const std::string path(k.path);
  switch (k.type) {
    case key_type::integer:
    case key_type::size:
    case key_type::duration: {
      const luffy::luffy_config defaults;
      const int64_t d = std::stoll(*luffy::setting_text(k, defaults));
      return {path, std::to_string(d < k.max ? d + 1 : d - 1)};
    }
    case key_type::map:
      return {path.substr(0, path.size() - 1) + "reloaded", "5"};
    case key_type::boolean:
      return {path, k.default_text == "true" ? "false" : "true"};
    case key_type::enumeration: {
      const std::string choices(k.choices);
      const auto first = choices.substr(0, choices.find('|'));
      const auto rest = choices.substr(choices.find('|') + 1);
      return {path, first != k.default_text ? first : rest.substr(0, rest.find('|'))};
    }
    case key_type::string:
      if (path == "storage.redis") {
        return {path, "\"redis://127.0.0.1:1/0\""};
      }
      if (path == "node.cluster_listen" || path == "node.advertise") {
        return {path, "\"127.0.0.1:1\""};  // host:port, or check-config refuses it
      }
      return {path, "\"" + std::string(k.default_text) + "x\""};
    case key_type::list:
      if (path == "auth.clients") {
        return {path, R"([{name: agents, subject: "agent-*", services: ["*"]}])"};
      }
      if (path == "auth.tokens") {
        return {path, R"([{name: admin, token: tok-admin, services: ["*"], admin: true},)"
                      R"( {name: added, token: tok-added, services: ["*"]}])"};
      }
      if (path == "notifications.webhooks") {
        return {path, R"([{name: ops, url: "http://127.0.0.1:1/hook", format: json}])"};
      }
      return {path, R"([{match: {message: "*reloaded*"}, fingerprint: reloaded}])"};
  }
  return {path, ""};
}

}  // namespace

TEST_CASE("SIGHUP reloads tokens, rate limits and the parser pool", "[reload]") {
  redis_process redis;
  config_text cfg;
  cfg.redis_url = redis.url();
  server_process server(cfg.yaml());

  CHECK(ingest(server, "tok-writer", "svc").status == 202);
  CHECK(ingest(server, "tok-old", "svc").status == 202);
  CHECK(ingest(server, "tok-new", "svc").status == 401);
  // limited: 3 per minute, burst one minute's worth.
  auto r = ingest(server, "tok-writer", "limited", 5);
  REQUIRE(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 3);
  CHECK(ingest(server, "tok-writer", "limited").status == 429);
  CHECK(ingest(server, "tok-writer", "tight", 3).status == 202);  // not listed yet: 100000/min

  auto actors = admin(server, "GET", "/api/v1/admin/actors", "tok-admin");
  INFO(actors.body);
  REQUIRE(actors.status == 200);
  CHECK(group_size(actors.body, "parsers") == 2);
  CHECK(group_size(actors.body, "journal_writers") == 4);

  cfg.old_token = false;
  cfg.new_token = true;
  cfg.limited = 100000;
  cfg.tight = 1;
  cfg.parsers = 4;
  cfg.journal_writers = 2;
  write_config(server, cfg);
  const auto log = sighup(server);
  INFO(log);
  CHECK(log.find("configuration reloaded") != std::string::npos);
  for (const char* key : {"auth.tokens", "rate_limit.services.limited", "rate_limit.services.tight",
                          "actors.parsers", "actors.journal_writers"}) {
    CHECK(log.find(key) != std::string::npos);
  }
  CHECK(log.find("added [new], removed [old]") != std::string::npos);
  CHECK(log.find("tok-") == std::string::npos);  // never a token value

  CHECK(ingest(server, "tok-new", "svc").status == 202);
  CHECK(ingest(server, "tok-old", "svc").status == 401);
  CHECK(ingest(server, "tok-writer", "svc").status == 202);
  // limited: 100000 per minute now. Its bucket keeps what was left (nothing) and refills at the
  // new rate, so within a few milliseconds one record fits again.
  int status = 0;
  for (int i = 0; i < 40 && status != 202; ++i) {
    status = ingest(server, "tok-writer", "limited").status;
    if (status != 202) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  CHECK(status == 202);
  // tight: 1 per minute now (its limiter existed with the default rate; the bucket is capped).
  r = ingest(server, "tok-writer", "tight", 3);
  INFO(r.body);
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") <= 1);
  CHECK(json_int(r.body, "rate_limited_count") >= 2);
  CHECK(ingest(server, "tok-writer", "tight").status == 429);

  actors = admin(server, "GET", "/api/v1/admin/actors", "tok-admin");
  INFO(actors.body);
  REQUIRE(actors.status == 200);
  CHECK(group_size(actors.body, "parsers") == 4);
  CHECK(group_size(actors.body, "journal_writers") == 2);
  // The shrunk journal pool still commits.
  for (int i = 0; i < 8; ++i) {
    CHECK(ingest(server, "tok-writer", "svc-" + std::to_string(i)).status == 202);
  }
}

TEST_CASE("POST /api/v1/admin/reload: admin only, reports changed keys, refuses bad configs",
          "[reload][admin]") {
  redis_process redis;
  config_text cfg;
  cfg.redis_url = redis.url();
  server_process server(cfg.yaml());

  SECTION("authorization") {
    auto r = admin(server, "POST", "/api/v1/admin/reload", "");
    CHECK(r.status == 401);
    r = admin(server, "POST", "/api/v1/admin/reload", "tok-writer");
    INFO(r.body);
    CHECK(r.status == 403);
    CHECK(json_str(r.body, "status") == "error");
    CHECK(json_str(r.body, "error") == "forbidden");
    CHECK(admin(server, "GET", "/api/v1/admin/actors", "").status == 401);
    CHECK(admin(server, "GET", "/api/v1/admin/actors", "tok-writer").status == 403);
    CHECK(admin(server, "GET", "/api/v1/admin/actors", "nope").status == 401);
    CHECK(admin(server, "GET", "/api/v1/admin/reload", "tok-admin").status == 405);
  }

  SECTION("unchanged, then changed keys") {
    auto r = admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(json_str(r.body, "status") == "unchanged");
    CHECK(r.body.find("\"changed\":[]") != std::string::npos);

    cfg.log_level = "debug";
    cfg.per_minute = "50000";
    cfg.new_token = true;
    write_config(server, cfg);
    r = admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(json_str(r.body, "status") == "reloaded");
    CHECK(r.body.find("\"auth.tokens\"") != std::string::npos);
    CHECK(r.body.find("\"log.level\"") != std::string::npos);
    CHECK(r.body.find("\"rate_limit.per_minute\"") != std::string::npos);
    CHECK(r.body.find("tok-") == std::string::npos);
    CHECK(ingest(server, "tok-new", "svc").status == 202);
  }

  SECTION("an invalid value is refused with the reason; the old config keeps working") {
    cfg.per_minute = "-5";
    cfg.old_token = false;
    auto r = refused_reload(server, cfg);
    INFO(r.body);
    CHECK(r.body.find("rate_limit.per_minute: -5 is outside") != std::string::npos);
    CHECK(ingest(server, "tok-old", "svc").status == 202);  // the removal was not applied

    const auto log = sighup(server);
    CHECK(log.find("refused") != std::string::npos);
    CHECK(log.find("rate_limit.per_minute") != std::string::npos);
    CHECK(ingest(server, "tok-old", "svc").status == 202);
  }

  SECTION("a YAML syntax error is refused") {
    cfg.new_token = true;
    cfg.tail = "server: {threads: [unclosed\n";
    auto r = refused_reload(server, cfg);
    INFO(r.body);
    CHECK(r.body.find("luffy.yaml") != std::string::npos);  // the problem names the file
    CHECK(ingest(server, "tok-new", "svc").status == 401);
    CHECK(ingest(server, "tok-old", "svc").status == 202);
  }

  SECTION("keys that need a restart are refused by name") {
    cfg.cluster_shards = 8;
    cfg.server = "server: {threads: 8}\n";
    cfg.new_token = true;  // a live change in the same file is not applied either
    auto r = refused_reload(server, cfg);
    INFO(r.body);
    CHECK(r.body.find("actors.cluster_shards: requires a restart") != std::string::npos);
    CHECK(r.body.find("server.threads: requires a restart") != std::string::npos);
    CHECK(r.body.find("auth.tokens") == std::string::npos);
    CHECK(ingest(server, "tok-new", "svc").status == 401);

    const auto log = sighup(server);
    CHECK(log.find("actors.cluster_shards: requires a restart") != std::string::npos);

    // Put the running values back: the reload goes through.
    cfg.cluster_shards = 4;
    cfg.server.clear();
    write_config(server, cfg);
    r = admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(r.body.find("\"changed\":[\"auth.tokens\"]") != std::string::npos);
    CHECK(ingest(server, "tok-new", "svc").status == 202);
  }

  SECTION("a missing file is refused") {
    std::filesystem::remove(server.config_path());
    auto r = admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
    INFO(r.body);
    CHECK(r.status == 422);
    CHECK(r.body.find("cannot read the file") != std::string::npos);
    CHECK(ingest(server, "tok-writer", "svc").status == 202);
  }
}

TEST_CASE("GET /api/v1/admin/actors lists every actor group and backpressure gate", "[admin]") {
  redis_process redis;
  config_text cfg;
  cfg.redis_url = redis.url();
  server_process server(cfg.yaml());
  CHECK(ingest(server, "tok-writer", "svc", 3).status == 202);
  auto r = admin(server, "GET", "/api/v1/admin/actors", "tok-admin");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].find("application/json") == 0);
  for (const char* group :
       {"parsers", "limiters", "dedup", "journal_writers", "cluster_shard_0", "cluster_shard_3"}) {
    INFO(group);
    CHECK(group_size(r.body, group) >= 1);
  }
  CHECK(group_size(r.body, "parsers") == 2);
  CHECK(group_size(r.body, "journal_writers") == 4);
  for (const char* field : {"\"queue_depth\":", "\"restarts\":", "\"processed\":"}) {
    CHECK(r.body.find(field) != std::string::npos);
  }
  for (const char* gate : {"journal", "pipeline", "redis_memory"}) {
    INFO(gate);
    const auto at = r.body.find(std::string("\"") + gate + "\":{\"name\":");
    REQUIRE(at != std::string::npos);
    const auto g = r.body.substr(at);
    CHECK(g.find("\"closed\":false") != std::string::npos);
    CHECK(json_int(g, "high") > 0);
    CHECK(json_int(g, "trips") == 0);
  }
}

TEST_CASE("every key's live flag is what a reload does with it", "[reload][config]") {
  // One server; each key of config_keys() changed on its own in the file. A live key is applied
  // (reported as changed, and a second reload finds the running configuration equal to the file);
  // a restart key is refused by name. Then the file goes back to the base configuration.
  redis_process redis;
  const std::map<std::string, std::string> base = {
      {"storage.redis", "\"" + redis.url() + "\""},
      {"auth.tokens", R"([{name: admin, token: tok-admin, services: ["*"], admin: true}])"},
  };
  server_process server(nested_yaml(base));
  auto reload_with = [&](const std::map<std::string, std::string>& flat) {
    const auto tmp = server.config_path().string() + ".tmp";
    std::ofstream(tmp) << nested_yaml(flat);
    std::filesystem::rename(tmp, server.config_path());
    return admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
  };
  int live = 0, restart = 0;
  for (const auto& k : luffy::config_keys()) {
    if (k.path == "server.listen" || k.path == "auth.allow_weak_tokens") {
      continue;  // the harness sets them with --set, which wins over the file (checked below)
    }
    const auto [path, value] = changed_value(k);
    auto flat = base;
    flat[path] = value;
    INFO(k.path << " = " << value);
    auto r = reload_with(flat);
    INFO(r.body);
    // Keys that cannot change alone on a plain-HTTP config: the new file is refused naming the
    // key (a client CA needs server.tls, auth.clients a client CA, node.tls all three files).
    // auth.clients' live reload is tested over TLS (tls_test.cpp, [client_cert]).
    // auth.tokens_file names a file that must exist (its live reload: token_files_test.cpp).
    static const std::set<std::string> invalid_alone = {
        "auth.clients",       "server.tls.client_ca_file", "server.tls.require_client_cert",
        "node.tls.cert_file", "node.tls.key_file",         "node.tls.ca_file",
        "auth.tokens_file"};
    if (invalid_alone.count(path) == 1) {
      k.live() ? ++live : ++restart;
      CHECK(r.status == 422);
      CHECK(r.body.find("\"" + path.substr(0, path.rfind('.'))) != std::string::npos);
      continue;
    }
    if (k.live()) {
      ++live;
      CHECK(r.status == 200);
      CHECK(json_str(r.body, "status") == "reloaded");
      CHECK(r.body.find("\"" + path + "\"") != std::string::npos);
      r = admin(server, "POST", "/api/v1/admin/reload", "tok-admin");
      CHECK(json_str(r.body, "status") == "unchanged");
      r = reload_with(base);
      CHECK(json_str(r.body, "status") == "reloaded");
    } else {
      ++restart;
      CHECK(r.status == 422);
      CHECK(r.body.find(path + ": requires a restart") != std::string::npos);
    }
  }
  // actors.journal_writers joined the live keys; then auth.failure_limit.max_failures,
  // auth.failure_limit.window_seconds and audit.max_entries
  // auth.tokens_file and auth.watch_interval_seconds (auth.allow_weak_tokens is skipped above)
  // + retention.* (7 keys, sent to the retention sweeper)
  CHECK(live == 34);  // + auth.clients
  // + storage.redis_password, rate_limit.shared, node.role, node.name, node.min_hold_seconds,
  // node.cluster_listen, node.advertise, agents.enabled, agents.silent_after_seconds,
  // agents.retention_hours, agents.max_tracked, auth.failure_limit.max_addresses,
  // server.tls.cert_file, server.tls.key_file (a reload re-reads the files at the running paths:
  // tls_test.cpp)
  // server.tls.client_ca_file, server.tls.require_client_cert, node.tls.* (issue 15)
  // notifications.* (5 keys: the notifier copies its webhooks when it starts)
  CHECK(restart == 67);
  auto flat = base;
  flat["server.listen"] = "\"127.0.0.1:9\"";
  auto r = reload_with(flat);
  INFO(r.body);
  CHECK(json_str(r.body, "status") == "unchanged");
  CHECK(admin(server, "GET", "/health", "").status == 200);
}
