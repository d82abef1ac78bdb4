#include "core/config.hpp"

#include <catch2/catch.hpp>
#include <set>

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
