#include "core/config.hpp"

#include "core/grouping_rules.hpp"
#include "core/record_builder.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <variant>
#include <vector>

using namespace luffy;

TEST_CASE("settings parse by their declared type and bounds", "[config]") {
  luffy_config c;
  CHECK_FALSE(apply_setting(c, "server.max_body_bytes", "2MiB"));
  CHECK(c.server.max_body_bytes == 2 << 20);
  CHECK_FALSE(apply_setting(c, "server.threads", "8"));
  CHECK(c.server.threads == 8);
  CHECK_FALSE(apply_setting(c, "ingest.enabled", "false"));
  CHECK_FALSE(c.ingest.enabled);
  CHECK_FALSE(apply_setting(c, "rate_limit.services.checkout", "500"));
  CHECK(c.rate_limit.services.at("checkout") == 500);
  CHECK_FALSE(apply_setting(c, "storage.fsync", "everysec"));

  CHECK(*apply_setting(c, "server.threads", "0") == "server.threads: 0 is outside [1, 4096]");
  CHECK(*apply_setting(c, "server.nope", "1") == "server.nope: unknown key");
  CHECK(apply_setting(c, "storage.fsync", "never")->find("always|everysec") != std::string::npos);
  CHECK(apply_setting(c, "ingest.enabled", "maybe").has_value());
  CHECK(apply_setting(c, "server.max_body_bytes", "lots").has_value());
}

TEST_CASE("validation needs tokens unless auth is disabled explicitly", "[config]") {
  luffy_config c;
  auto problems = validate(c);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].rfind("auth.tokens", 0) == 0);
  c.auth.disabled = true;
  CHECK(validate(c).empty());
  c.server.listen = "nonsense";
  CHECK(validate(c).size() == 1);
}

TEST_CASE("env names and sizes", "[config]") {
  CHECK(env_name_for("server.listen") == "LUFFY_SERVER_LISTEN");
  CHECK(env_name_for("rate_limit.per_minute") == "LUFFY_RATE_LIMIT_PER_MINUTE");
  CHECK(parse_size("16MiB") == (16 << 20));
  CHECK(parse_size("512k") == 512 * 1024);
  CHECK(parse_size("100") == 100);
  CHECK_FALSE(parse_size("MiB").has_value());
  std::string host;
  uint16_t port = 0;
  CHECK(split_host_port("0.0.0.0:8080", host, port));
  CHECK((host == "0.0.0.0" && port == 8080));
  CHECK(split_host_port("[::1]:9", host, port));
  CHECK(host == "::1");
  CHECK_FALSE(split_host_port("8080", host, port));
}

TEST_CASE("every key is documented and unique", "[config]") {
  std::set<std::string> seen;
  for (const auto& k : config_keys()) {
    CHECK_FALSE(k.doc.empty());
    CHECK(seen.insert(std::string(k.path)).second);
  }
}

namespace {

// A valid value of `k` other than its default (the same text for every key of a type).
std::string other_value(const config_key& k) {
  switch (k.type) {
    case key_type::integer:
    case key_type::size:
    case key_type::duration:
    case key_type::map: {
      int64_t d = 0;
      if (k.type == key_type::map) {
        d = k.min;
      } else {
        luffy_config c;
        d = std::stoll(*setting_text(k, c));
      }
      return std::to_string(d < k.max ? d + 1 : d - 1);
    }
    case key_type::boolean:
      return k.default_text == "true" ? "false" : "true";
    case key_type::enumeration: {
      std::string all(k.choices);
      for (size_t start = 0; start <= all.size();) {
        auto bar = all.find('|', start);
        if (bar == std::string::npos) {
          bar = all.size();
        }
        const auto choice = all.substr(start, bar - start);
        if (choice != k.default_text) {
          return choice;
        }
        start = bar + 1;
      }
      return "";
    }
    case key_type::string:
      return k.path == "server.listen" ? "127.0.0.1:9" : std::string(k.default_text) + "x";
    case key_type::list:
      return "";
  }
  return "";
}

}  // namespace

TEST_CASE("every row's member holds the row's type", "[config]") {
  luffy_config c;
  for (const auto& k : config_keys()) {
    INFO(k.path);
    const config_field f = k.member.field(c);
    switch (k.type) {
      case key_type::string:
      case key_type::enumeration:
        CHECK(std::holds_alternative<std::string*>(f));
        break;
      case key_type::integer:
      case key_type::size:
      case key_type::duration:
        CHECK(std::holds_alternative<int64_t*>(f));
        break;
      case key_type::boolean:
        CHECK(std::holds_alternative<bool*>(f));
        break;
      case key_type::map:
        CHECK(std::holds_alternative<std::map<std::string, int64_t>*>(f));
        CHECK(k.path.substr(k.path.size() - 2) == ".*");
        break;
      case key_type::list:
        CHECK((std::holds_alternative<std::vector<token_config>*>(f) ||
               std::holds_alternative<std::vector<fingerprint_rule_config>*>(f) ||
               std::holds_alternative<std::vector<webhook_config>*>(f)));
        break;
    }
  }
}

TEST_CASE("the defaults round-trip: each row's default text is the struct's default", "[config]") {
  const luffy_config defaults;
  for (const auto& k : config_keys()) {
    INFO(k.path);
    if (k.type == key_type::list) {
      CHECK(k.default_text == "[]");  // config_loader_test reads "[]" back as an empty list
      continue;
    }
    if (k.type == key_type::map) {
      CHECK(k.default_text.empty());
      continue;
    }
    // The default text parses, within the row's bounds, to exactly the default-constructed value.
    luffy_config c;
    REQUIRE_FALSE(apply_setting(c, k.path, k.default_text));
    CHECK(changed_keys(defaults, c).empty());
    // And the value written back as text parses to the same value again.
    const auto text = setting_text(k, defaults);
    REQUIRE(text);
    REQUIRE_FALSE(apply_setting(c, k.path, *text));
    CHECK(changed_keys(defaults, c).empty());
  }
  CHECK(defaults.rate_limit.services.empty());
  CHECK(defaults.auth.tokens.empty());
  CHECK(defaults.clustering.fingerprint_rules.empty());
  // A few defaults as they were before the table wrote them (a typo here changes behaviour).
  CHECK(defaults.server.listen == "127.0.0.1:8080");
  CHECK(defaults.server.max_body_bytes == 16 << 20);
  CHECK(defaults.server.max_in_flight_bytes == 384LL << 20);
  CHECK(defaults.server.min_body_rate == 16 << 10);
  CHECK(defaults.ingest.enabled);
  CHECK_FALSE(defaults.auth.disabled);
  CHECK(defaults.clustering.trace_cache_entries == 2048);
  CHECK(defaults.storage.journal_encoding == "zstd");
  CHECK(defaults.log.level == "info");
}

TEST_CASE("each row reads and writes its own member: changed_keys names exactly it", "[config]") {
  const luffy_config defaults;
  for (const auto& k : config_keys()) {
    INFO(k.path);
    luffy_config c;
    std::string expect(k.path);
    if (k.type == key_type::list) {
      const config_field f = k.member.field(c);
      if (auto* tokens = std::get_if<std::vector<token_config>*>(&f)) {
        (*tokens)->push_back(token_config{
            "t", std::string(64, 'a'), {"*"}, "", false, std::nullopt, "", "", "", false, "", ""});
      } else if (auto* rules = std::get_if<std::vector<fingerprint_rule_config>*>(&f)) {
        (*rules)->push_back(fingerprint_rule_config{{{"message", "*"}}, "f", ""});
      } else if (auto* hooks = std::get_if<std::vector<webhook_config>*>(&f)) {
        (*hooks)->push_back(webhook_config{"h", "https://example.test/x", "json", {}, {}});
      }
    } else {
      if (k.type == key_type::map) {
        expect = std::string(k.path.substr(0, k.path.size() - 1)) + "checkout";
      }
      REQUIRE_FALSE(apply_setting(c, expect, other_value(k)));
    }
    CHECK(changed_keys(defaults, c) == std::vector<std::string>{expect});
    CHECK(changed_keys(c, defaults) == std::vector<std::string>{expect});
  }
}

TEST_CASE("changed_keys: map entries one by one, token lists as a whole", "[config]") {
  luffy_config a, b;
  a.rate_limit.services = {{"kept", 1}, {"removed", 2}, {"changed", 3}};
  b.rate_limit.services = {{"kept", 1}, {"added", 2}, {"changed", 4}};
  CHECK(changed_keys(a, b) == std::vector<std::string>{"rate_limit.services.added",
                                                       "rate_limit.services.changed",
                                                       "rate_limit.services.removed"});
  luffy_config x, y;
  x.auth.tokens = {
      token_config{"t", "h1", {"*"}, "", false, std::nullopt, "", "", "", false, "", ""}};
  y.auth.tokens = {
      token_config{"t", "h1", {"*"}, "", true, std::nullopt, "", "", "", false, "", ""}};
  CHECK(changed_keys(x, y) == std::vector<std::string>{"auth.tokens"});
  y.auth.tokens[0].admin = false;
  CHECK(changed_keys(x, y).empty());
}

TEST_CASE("durations: one unit or plain seconds, nothing else", "[config]") {
  CHECK(parse_duration("30d") == 30 * 86400);
  CHECK(parse_duration("12h") == 12 * 3600);
  CHECK(parse_duration("15m") == 900);
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("3600") == 3600);
  CHECK(parse_duration("0") == 0);
  for (const char* bad :
       {"", "d", "-1d", "1.5h", "1h30m", "10 d", "1D", "1w", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  luffy_config c;
  CHECK_FALSE(apply_setting(c, "retention.clusters", "2d"));
  CHECK(c.retention.clusters == 2 * 86400);
  const auto problem = apply_setting(c, "retention.clusters", "2 weeks");
  REQUIRE(problem);
  CHECK(problem->find("retention.clusters: expected a duration") == 0);
  CHECK(apply_setting(c, "retention.sweep_interval", "0"));  // at least 1 s
  CHECK(*setting_text(*find_config_key("retention.clusters"), c) == "172800");
}

TEST_CASE("the keys that apply live on reload are exactly these", "[config]") {
  // The live set net/config_reload.cpp had before the table said it; a key moving in or out of it
  // is a behaviour change (docs/CONFIGURATION.md "Reload").
  const std::set<std::string> expected = {
      "server.max_in_flight_bytes",
      "ingest.enabled",
      "auth.tokens",
      "auth.jwt.secret",
      "auth.jwt.issuer",
      "auth.jwt.audience",
      "auth.clients",
      "auth.tokens_file",             // re-read with auth.tokens into the authenticator
      "auth.watch_interval_seconds",  // read by the watcher on each poll
      "auth.allow_weak_tokens",       // judged again by every reload's validation
      "rate_limit.per_minute",
      "rate_limit.burst",
      "rate_limit.services.*",
      "actors.parsers",
      "actors.journal_writers",
      "backpressure.max_queue_depth",
      "backpressure.max_pipeline_records",
      "backpressure.refusal_delay_ms",
      "backpressure.resume_ratio",
      "backpressure.redis_memory_percent",
      "clustering.in_app_prefixes",
      "clustering.not_in_app_prefixes",
      "clustering.max_new_clusters_per_minute",
      "clustering.fingerprint_rules",
      "log.level",
      "auth.failure_limit.max_failures",    // read from the snapshot on each failure
      "auth.failure_limit.window_seconds",  // the same
      "audit.max_entries",                  // read from the snapshot on each append
      // sent to the retention sweeper (pipeline::update_retention)
      "retention.clusters",
      "retention.resolved_clusters",
      "retention.events_max_entries",
      "retention.events_max_age",
      "retention.dead_letters_max_entries",
      "retention.dead_letters_max_age",
      "retention.sweep_interval",
  };
  std::set<std::string> live;
  for (const auto& k : config_keys()) {
    if (k.live()) {
      live.emplace(k.path);
    }
  }
  CHECK(live == expected);
  CHECK(find_config_key("rate_limit.services.checkout")->live());
  CHECK(find_config_key("clustering.fingerprint_rules")->reload == reload_effect::grouping);
  CHECK(find_config_key("auth.jwt.secret")->reload == reload_effect::authenticator);
  CHECK(find_config_key("rate_limit.services.x")->reload == reload_effect::pipeline);
  CHECK_FALSE(find_config_key("auth.disabled")->live());
  CHECK_FALSE(find_config_key("actors.cluster_shards")->live());
}

TEST_CASE("option structs with their own defaults agree with the configuration's", "[config]") {
  // `luffy-ingest cluster` decodes with decode_options{} ("the default ingest limits") and tests
  // use clustering_options{} as the server's grouping; both must be what the table defaults give.
  const luffy_config defaults;
  const decode_options decode;
  CHECK(decode.date_key == defaults.ingest.date_key);
  CHECK(static_cast<int64_t>(decode.max_records) == defaults.ingest.max_records);
  CHECK(static_cast<int64_t>(decode.max_message_bytes) == defaults.ingest.max_message_bytes);
  CHECK(static_cast<int64_t>(decode.max_stack_trace_bytes) ==
        defaults.ingest.max_stack_trace_bytes);
  const clustering_options plain;
  const clustering_options built = grouping_from_config(defaults).options;
  CHECK(built.top_frames == plain.top_frames);
  CHECK(built.miner_similarity == plain.miner_similarity);
  CHECK(built.trace_cache_entries == plain.trace_cache_entries);
}
