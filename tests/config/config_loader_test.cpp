#include "config/config_loader.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace luffy;

namespace {

// The environment and --set never take part here: the text alone.
config_load_result load(const std::string& yaml) {
  return load_config_text(yaml, "test.yaml", {}, false);
}

bool has(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("the defaults round-trip through YAML", "[config_loader]") {
  const luffy_config defaults;
  const std::string yaml = config_to_yaml(defaults);
  INFO(yaml);
  auto r = load(yaml);
  // The defaults have no tokens, which is the only thing validate() says about them.
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].rfind("auth.tokens: no tokens", 0) == 0);
  CHECK(changed_keys(defaults, r.config).empty());
  // Every key is written out.
  for (const auto& k : config_keys()) {
    INFO(k.path);
    const auto name = k.type == key_type::map
                          ? std::string("services:")
                          : std::string(k.path.substr(k.path.rfind('.') + 1)) + ":";
    CHECK(yaml.find(name) != std::string::npos);
  }
  // A list's default text "[]" is an empty list.
  for (const auto& k : config_keys()) {
    if (k.type != key_type::list) {
      continue;
    }
    INFO(k.path);
    const auto section = std::string(k.path.substr(0, k.path.find('.')));
    const auto name = std::string(k.path.substr(k.path.find('.') + 1));
    auto listed = load(section + ": {" + name + ": " + std::string(k.default_text) + "}\n");
    CHECK(changed_keys(defaults, listed.config).empty());
  }
}

TEST_CASE("a configuration with every key changed round-trips through YAML", "[config_loader]") {
  auto r = load(R"(
server: {listen: "0.0.0.0:9000", threads: 8, max_body_bytes: 2MiB, min_body_rate: 0}
ingest: {enabled: false, date_key: "time", max_message_bytes: 1KiB}
auth:
  tokens:
    - {name: writer, token: secret-value-0123456789, services: [checkout, billing], default_service: billing}
    - {name: ops, token_sha256: "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", services: ["*"], admin: true}
  jwt: {secret: "s", issuer: "i", audience: "a"}
rate_limit: {per_minute: 5, burst: 7, services: {checkout: 100, billing: 0}}
clustering:
  in_app_prefixes: [com.acme, "src/**"]
  not_in_app_prefixes: "com.acme.vendor"
  fingerprint_rules:
    - {match: {service_id: "pay*", message: "*timeout*"}, fingerprint: pay-timeouts, title: "Payment timeouts"}
storage: {redis: "redis://10.0.0.1:6380/2", fsync: everysec, key_prefix: "x y", journal_encoding: json}
log: {level: warn}
)");
  INFO(r.problems.size());
  REQUIRE(r.problems.empty());
  const std::string yaml = config_to_yaml(r.config);
  INFO(yaml);
  CHECK(yaml.find("secret-value") == std::string::npos);  // only the digest is written
  auto again = load(yaml);
  CHECK(again.problems.empty());
  CHECK(changed_keys(r.config, again.config).empty());
  CHECK(again.config.clustering.fingerprint_rules.at(0).match.at(1).field == "message");
}

TEST_CASE("every problem is found in one pass", "[config_loader]") {
  // Values that do not parse, a yaml-cpp conversion that fails inside one key, and cross-key
  // rules, all at once: before, a conversion error ended the walk and validate() ran only once
  // the file had no other problem.
  auto r = load(R"(
server: {listen: "127.0.0.1:70000", threads: 0, colour: blue, max_body_bytes: 32MiB, max_inflated_bytes: 16MiB}
auth:
  allow_weak_tokens: true  # short tokens are not what this test is about
  tokens:
    - {name: a, token: x, services: [checkout], default_service: billing}
    - {name: b, token: y, services: []}
    - {name: c, token: z, services: ["*"], admin: maybe}
    - {name: {nested: map}, token: w, services: ["*"]}
clustering: {fingerprint_rules: [{match: {msg: "*"}, fingerprint: ""}]}
bogus: {a: 1}
)");
  INFO(r.problems.size());
  for (const auto& p : r.problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(has(r.problems, "server.threads: 0 is outside [1, 4096]"));
  CHECK(has(r.problems, "server.colour: unknown key"));
  CHECK(has(r.problems, "bogus: unknown section"));
  CHECK(has(r.problems, "auth.tokens[2].admin: expected true or false, got \"maybe\""));
  CHECK(has(r.problems, "auth.tokens[3].name: "));
  CHECK(has(r.problems, "server.listen: expected host:port, got \"127.0.0.1:70000\""));
  CHECK(has(r.problems, "server.max_inflated_bytes: must be at least server.max_body_bytes"));
  CHECK(has(r.problems, "auth.tokens[0].default_service: \"billing\" is not in its services"));
  CHECK(has(r.problems, "auth.tokens[1].services: list at least one service"));
  CHECK(has(r.problems, "clustering.fingerprint_rules[0].match.msg: unknown field"));
  CHECK(has(r.problems, "clustering.fingerprint_rules[0].fingerprint: must not be empty"));
  CHECK(r.problems.size() == 11);
}

TEST_CASE("a cross-key rule about a value that did not parse is not reported", "[config_loader]") {
  // max_body_bytes keeps its default (16MiB) when its text is bad; comparing max_inflated_bytes
  // with that default would blame a value the user never wrote.
  auto r =
      load("server: {max_body_bytes: lots, max_inflated_bytes: 8MiB}\nauth: {disabled: true}\n");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].rfind("server.max_body_bytes: expected a size", 0) == 0);
  // A token list that is not a list is one problem, not also "no tokens".
  r = load("auth: {tokens: {name: x}}\n");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0] == "auth.tokens: expected a list");
}

TEST_CASE("a token_sha256 must be 64 hex digits", "[config_loader]") {
  // 64 characters that are not all hex digits used to pass and decode as zeros.
  const std::string not_hex(64, 'z');
  auto r =
      load("auth: {tokens: [{name: a, token_sha256: \"" + not_hex + "\", services: [\"*\"]}]}\n");
  CHECK(has(r.problems,
            "auth.tokens[0]: needs `token`, `token_file` or a 64-hex-digit `token_sha256`"));
  const std::string hex(64, 'A');
  r = load("auth: {tokens: [{name: a, token_sha256: \"" + hex + "\", services: [\"*\"]}]}\n");
  CHECK(r.problems.empty());
}

TEST_CASE("token scopes: a subset of ingest, read, admin, absent means the old behaviour",
          "[config_loader]") {
  auto r = load(R"(
auth:
  allow_weak_tokens: true
  tokens:
    - {name: a, token: x, services: ["*"]}
    - {name: b, token: y, services: ["*"], scopes: [read]}
    - {name: c, token: z, services: ["*"], scopes: [read, write]}
    - {name: d, token: w, services: ["*"], scopes: []}
    - {name: e, token: v, services: ["*"], scopes: read}
)");
  CHECK(has(r.problems, "auth.tokens[2].scopes: \"write\" is not a scope (ingest, read, admin)"));
  CHECK(has(r.problems, "auth.tokens[3].scopes: list at least one of ingest, read, admin"));
  CHECK(has(r.problems, "auth.tokens[4].scopes: expected a list"));
  CHECK(r.problems.size() == 3);
  auto ok = load(R"(
auth:
  allow_weak_tokens: true
  tokens:
    - {name: a, token: x, services: ["*"]}
    - {name: b, token: y, services: ["*"], scopes: [read, admin]}
)");
  CHECK(ok.problems.empty());
  REQUIRE(ok.config.auth.tokens.size() == 2);
  CHECK(!ok.config.auth.tokens[0].scopes);
  CHECK(ok.config.auth.tokens[1].scopes == std::vector<std::string>{"read", "admin"});
  // and back through YAML (reload compares configurations this way)
  auto again = load(config_to_yaml(ok.config));
  CHECK(again.problems.empty());
  CHECK(again.config.auth.tokens == ok.config.auth.tokens);
}

namespace {

// A scratch directory for token files, removed at the end of the test.
struct scratch {
  std::filesystem::path dir;
  scratch() {
    dir = std::filesystem::temp_directory_path() /
          ("luffy-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name, std::ios::binary) << text;
    return (dir / name).string();
  }
};

}  // namespace

TEST_CASE("token_file: the file's token, trimmed, one line, optional when asked",
          "[config_loader][token_files]") {
  scratch s;
  const std::string token = "a1b2c3d4e5f6a7b8c9d0";
  const auto file = s.write("token", token + "\r\n");
  auto r =
      load("auth:\n  tokens:\n    - {name: a, token_file: \"" + file + "\", services: [\"*\"]}\n");
  INFO(r.problems.size());
  REQUIRE(r.problems.empty());
  REQUIRE(r.config.auth.tokens.size() == 1);
  CHECK(r.config.auth.tokens[0].token_sha256 == sha256_hex(token));
  CHECK(r.config.auth.tokens[0].token_file == file);
  // written back by its file, and read back equal
  const auto yaml = config_to_yaml(r.config);
  CHECK(yaml.find(token) == std::string::npos);
  CHECK(yaml.find(file) != std::string::npos);
  auto again = load(yaml);
  CHECK(again.problems.empty());
  CHECK(changed_keys(r.config, again.config).empty());

  const auto two = s.write("two", token + "\n" + token + "x\n");
  r = load("auth:\n  tokens:\n    - {name: a, token_file: \"" + two + "\", services: [\"*\"]}\n");
  CHECK(has(r.problems, "auth.tokens[0].token_file: " + two + ": holds more than one line"));
  CHECK_FALSE(has(r.problems, token));
  const auto empty = s.write("empty", " \n");
  r = load("auth:\n  tokens:\n    - {name: a, token_file: \"" + empty + "\", services: [\"*\"]}\n");
  CHECK(has(r.problems, "auth.tokens[0].token_file: " + empty + ": the file is empty"));
  const auto missing = (s.dir / "missing").string();
  r = load("auth:\n  tokens:\n    - {name: a, token_file: \"" + missing +
           "\", services: [\"*\"]}\n");
  CHECK(has(r.problems, "auth.tokens[0].token_file: " + missing + ": cannot read the file"));
  CHECK(r.problems.size() == 1);  // not also "needs token"
  r = load("auth:\n  tokens:\n    - {name: a, token_file: \"" + file + "\", token: " + token +
           ", services: [\"*\"]}\n");
  CHECK(
      has(r.problems, "auth.tokens[0].token_file: give one of token, token_sha256 and token_file"));

  // optional: a missing file grants nothing and is no problem; present, it is read
  r = load("auth:\n  tokens:\n    - {name: a, token_file: \"" + file +
           "\", services: [\"*\"]}\n    - {name: b, token_file: \"" + missing +
           "\", optional: true, services: [\"*\"]}\n");
  INFO(r.problems.size());
  CHECK(r.problems.empty());
  REQUIRE(r.config.auth.tokens.size() == 2);
  CHECK(r.config.auth.tokens[1].token_sha256.empty());
  again = load(config_to_yaml(r.config));
  CHECK(again.problems.empty());
  CHECK(changed_keys(r.config, again.config).empty());
}

TEST_CASE("auth.tokens_file: its entries are appended to auth.tokens and named by the file",
          "[config_loader][token_files]") {
  scratch s;
  const auto list = s.write("tokens.yaml",
                            "- {name: listed, token: f00dfeedf00dfeed01, services: [checkout]}\n"
                            "- {token: 0123456789abcdef0123, services: []}\n");
  auto r = load("auth:\n  tokens_file: \"" + list +
                "\"\n  tokens:\n    - {name: inline, token: c0ffeec0ffeec0ffee, services: "
                "[\"*\"]}\n");
  CHECK(has(r.problems, "auth.tokens_file[1].services: list at least one service"));
  REQUIRE(r.config.auth.tokens.size() == 3);
  CHECK(r.config.auth.tokens[0].name == "inline");
  CHECK(r.config.auth.tokens[1].name == "listed");
  CHECK(r.config.auth.tokens[1].listed_in == "auth.tokens_file");
  CHECK(r.config.auth.tokens[2].name == "file-token-1");
  CHECK(r.config.auth.tokens[1].token_sha256 == sha256_hex("f00dfeedf00dfeed01"));

  // a file alone is enough credentials; written back as the key, not as its entries
  const auto one = s.write("one.yaml",
                           "- {name: from-the-file-only, token: f00dfeedf00dfeed01, services: "
                           "[\"*\"]}\n");
  r = load("auth:\n  tokens_file: \"" + one + "\"\n");
  INFO(r.problems.size());
  CHECK(r.problems.empty());
  const auto yaml = config_to_yaml(r.config);
  CHECK(yaml.find("from-the-file-only") == std::string::npos);
  auto again = load(yaml);
  CHECK(again.problems.empty());
  CHECK(changed_keys(r.config, again.config).empty());

  const auto bad = s.write("bad.yaml", "- {name: x, token: [unclosed\n");
  r = load("auth:\n  tokens_file: \"" + bad + "\"\n");
  CHECK(has(r.problems, "auth.tokens_file: " + bad + ": not YAML"));
  const auto map = s.write("map.yaml", "tokens: []\n");
  r = load("auth:\n  tokens_file: \"" + map + "\"\n");
  CHECK(has(r.problems, "auth.tokens_file: " + map + ": expected a list of token entries"));
  r = load("auth:\n  tokens_file: \"" + (s.dir / "nope").string() + "\"\n");
  CHECK(
      has(r.problems, "auth.tokens_file: " + (s.dir / "nope").string() + ": cannot read the file"));
}

TEST_CASE("weak tokens: short or placeholder plain tokens are refused unless allowed",
          "[config_loader][token_files]") {
  scratch s;
  const auto file = s.write("token", "REPLACE_ME_WITH_A_RANDOM_TOKEN\n");
  auto r = load(
      "auth:\n  tokens:\n"
      "    - {name: a, token: dev-token-change-me, services: [\"*\"]}\n"
      "    - {name: b, token: tok, services: [\"*\"]}\n"
      "    - {name: c, token_file: \"" +
      file +
      "\", services: [\"*\"]}\n"
      "    - {name: d, token: 9f86d081884c7d659a2f, services: [\"*\"]}\n");
  for (const auto& p : r.problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(has(r.problems, "auth.tokens[0].token: the token is a known placeholder"));
  CHECK(has(r.problems, "auth.tokens[1].token: the token is shorter than 16 characters"));
  CHECK(has(r.problems,
            "auth.tokens[2].token_file: the token in " + file + " is a known placeholder"));
  CHECK(r.problems.size() == 3);
  for (const char* secret : {"dev-token-change-me", "tok,", "REPLACE_ME"}) {
    CHECK_FALSE(has(r.problems, secret));
  }
  r = load(
      "auth:\n  allow_weak_tokens: true\n  tokens:\n"
      "    - {name: a, token: dev-token-change-me, services: [\"*\"]}\n");
  CHECK(r.problems.empty());
  REQUIRE(r.config.auth.tokens.size() == 1);
  CHECK(r.config.auth.tokens[0].weakness == "token: the token is a known placeholder");

  CHECK(token_weakness("0123456789abcdef") == "");
  CHECK(token_weakness("0123456789abcde") == "shorter than 16 characters");
  CHECK(token_weakness("Password") == "a known placeholder");
  CHECK(token_weakness("my-PLACEHOLDER-value-1234") == "a known placeholder");
}

TEST_CASE("notifications.webhooks: a list of maps, ${ENV} in the url, round-trips",
          "[config_loader][notification]") {
  ::setenv("LUFFY_TEST_HOOK_URL", "https://hooks.slack.com/services/T/B/SECRET", 1);
  auto r = load_config_text(R"(
auth: {disabled: true}
notifications:
  webhooks:
    - {name: sre, url: "${LUFFY_TEST_HOOK_URL}", format: slack, events: [new_cluster, spike],
       services: ["check*"]}
    - {name: all, url: "http://127.0.0.1:9/x"}
  dedup_seconds: 60
  digest_threshold: 3
)",
                            "test.yaml", {}, true);
  ::unsetenv("LUFFY_TEST_HOOK_URL");
  INFO(r.problems.size());
  REQUIRE(r.problems.empty());
  const auto& hooks = r.config.notifications.webhooks;
  REQUIRE(hooks.size() == 2);
  CHECK(hooks[0].url == "https://hooks.slack.com/services/T/B/SECRET");
  CHECK(hooks[0].events == std::vector<std::string>{"new_cluster", "spike"});
  CHECK(hooks[0].services == std::vector<std::string>{"check*"});
  CHECK(hooks[1].format.empty());
  CHECK(r.config.notifications.digest_threshold == 3);
  auto again = load(config_to_yaml(r.config));
  CHECK(again.problems.empty());
  CHECK(changed_keys(r.config, again.config).empty());

  auto bad = load(R"(
auth: {disabled: true}
notifications: {webhooks: [{name: x, url: "https://h/SECRET", colour: red}, "no map", {name: y, url: "ftp://h/SECRET"}]}
)");
  CHECK(has(bad.problems, "notifications.webhooks[0].colour: unknown key"));
  CHECK(has(bad.problems, "notifications.webhooks[1]: expected a map"));
  for (const auto& p : bad.problems) {
    CHECK(p.find("SECRET") == std::string::npos);
  }
}
