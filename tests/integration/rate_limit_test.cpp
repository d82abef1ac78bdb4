// Per-service rate limits: a service over its limit gets 429 + Retry-After; in a mixed request
// the other service is still accepted; duplicates do not spend tokens.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string batch(const std::string& service, int n, int offset = 0) {
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    b += std::string(i ? "," : "") + R"({"message":"boom )" + std::to_string(offset + i) +
         R"(","timestamp":"2026-01-01T00:00:00Z","service_id":")" + service + R"("})";
  }
  return b + "]";
}

}  // namespace

TEST_CASE("a service over its limit gets 429, another service in the same request is accepted",
          "[rate_limit]") {
  redis_process redis;
  server_process server(R"(
rate_limit:
  per_minute: 1000
  services: {noisy: 5}
auth: {tokens: [{name: t, token: tok, services: ["*"]}]}
)" + journal_only_yaml(redis));
  auto r = server.call(ingest_post(batch("noisy", 8)));
  REQUIRE(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 5);  // partial admission
  CHECK(json_int(r.body, "rate_limited_count") == 3);

  r = server.call(ingest_post(batch("noisy", 4, 100)));
  INFO(r.body);
  CHECK(r.status == 429);
  CHECK(json_str(r.body, "error") == "rate_limited");
  REQUIRE(r.headers.count("retry-after") == 1);
  CHECK(std::stoi(r.headers.at("retry-after")) >= 1);

  // Mixed: noisy is still over, quiet is accepted.
  std::string mixed = batch("noisy", 3, 200);
  mixed.pop_back();
  mixed += "," + batch("quiet", 4).substr(1);
  r = server.call(ingest_post(mixed));
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 4);
  CHECK(json_int(r.body, "rate_limited_count") == 3);

  // Resending the first (accepted) records: duplicates, not rate limited.
  r = server.call(ingest_post(batch("noisy", 5)));
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "duplicate_count") == 5);
  CHECK(json_int(r.body, "rate_limited_count") == 0);
  CHECK(journal_records(redis).size() == 9);
}
