// Every refusal of POST /api/v1/ingest/logs, each with its status and JSON error, through HTTP.
#include <catch2/catch.hpp>

#include "harness.hpp"
#include "tests/core/gzip_compress.hpp"

using namespace luffy::test;

namespace {

http_call post(std::string body, std::string token = "Bearer full-token",
               std::string content_type = "application/json") {
  http_call c;
  c.body = std::move(body);
  if (!token.empty())
    c.headers.emplace_back("Authorization", token);
  if (!content_type.empty())
    c.headers.emplace_back("Content-Type", content_type);
  return c;
}

void check_error(const http_reply& r, int status, const std::string& code) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.headers.at("content-type") == "application/json");
  CHECK(json_str(r.body, "status") == "error");
  CHECK(json_str(r.body, "error") == code);
  CHECK_FALSE(json_str(r.body, "message").empty());
}

struct fixture {
  redis_process redis;
  server_process server{R"(
server: {max_body_bytes: 64KiB, max_inflated_bytes: 256KiB}
ingest: {max_records: 50}
auth:
  tokens:
    - {name: full, token: full-token, services: ["*"]}
    - {name: narrow, token: narrow-token, services: [svc-a], default_service: svc-a}
    - {name: nodefault, token: nodefault-token, services: [svc-a, svc-b]}
)" + journal_only_yaml(redis)};
};

}  // namespace

TEST_CASE("401: missing or wrong token", "[errors][auth]") {
  fixture f;
  const std::string body = R"([{"message":"x","service_id":"svc-a"}])";
  auto r = f.server.call(post(body, ""));
  check_error(r, 401, "missing_token");
  CHECK(r.headers.count("www-authenticate") == 1);
  check_error(f.server.call(post(body, "Bearer wrong-token")), 401, "invalid_token");
  check_error(f.server.call(post(body, "Basic Zm9vOmJhcg==")), 401, "invalid_token");
  // The token never appears in the reply.
  CHECK(f.server.call(post(body, "Bearer wrong-token")).body.find("wrong-token") ==
        std::string::npos);
}

TEST_CASE("403: token not allowed for a record's service, default_service fills gaps",
          "[errors][auth]") {
  fixture f;
  auto r = f.server.call(
      post(R"([{"message":"a","service_id":"svc-a"},{"message":"b","service_id":"svc-z"}])",
           "Bearer narrow-token"));
  check_error(r, 403, "forbidden_service");
  CHECK(r.body.find("svc-z") != std::string::npos);
  CHECK(journal_records(f.redis).empty());  // nothing of a refused request is stored
  r = f.server.call(post(R"([{"message":"no service"}])", "Bearer narrow-token"));
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 1);
  CHECK(journal_records(f.redis)[0].find("\"service_id\":\"svc-a\"") != std::string::npos);
  // Two services and no default: the record without service_id is rejected, not guessed.
  r = f.server.call(post(R"([{"message":"no service"},{"message":"ok","service_id":"svc-b"}])",
                         "Bearer nodefault-token"));
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 1);
  CHECK(json_int(r.body, "rejected_count") == 1);
}

TEST_CASE("400: undecodable bodies say where", "[errors]") {
  fixture f;
  auto r = f.server.call(post(R"([{"message":"a"},{"message":)"));
  check_error(r, 400, "malformed_body");
  r = f.server.call(post("this is not json"));
  check_error(r, 400, "malformed_body");
  CHECK(r.body.find("byte 0") != std::string::npos);
  r = f.server.call(post("{oops\n", "Bearer full-token", "application/x-ndjson"));
  check_error(r, 400, "malformed_body");
  CHECK(r.body.find("line 1") != std::string::npos);
  r = f.server.call(post(std::string("\xc1\x00", 2), "Bearer full-token", "application/msgpack"));
  check_error(r, 400, "malformed_body");
}

TEST_CASE("400: corrupt or truncated gzip, 413: gzip bomb", "[errors][gzip]") {
  fixture f;
  const std::string body = R"([{"message":"compressed","service_id":"svc-a"}])";
  auto ok = post(gzip(body));
  ok.headers.emplace_back("Content-Encoding", "gzip");
  CHECK(f.server.call(ok).status == 202);

  std::string g = gzip(std::string(5000, 'x') + body);
  auto truncated = post(g.substr(0, g.size() / 2));
  truncated.headers.emplace_back("Content-Encoding", "gzip");
  check_error(f.server.call(truncated), 400, "truncated_gzip");

  std::string bad = g;
  bad[bad.size() - 5] ^= 0x5a;
  auto corrupt = post(bad);
  corrupt.headers.emplace_back("Content-Encoding", "gzip");
  check_error(f.server.call(corrupt), 400, "corrupt_gzip");

  auto bomb = post(gzip(std::string(8 << 20, ' ')));  // 8 MiB of spaces, ~8 KB on the wire
  bomb.headers.emplace_back("Content-Encoding", "gzip");
  REQUIRE(bomb.body.size() < 64 * 1024);
  check_error(f.server.call(bomb), 413, "inflated_body_too_large");
}

TEST_CASE("413: body over max_body_bytes, or more than max_records", "[errors]") {
  fixture f;
  std::string big = "[{\"message\":\"" + std::string(70 * 1024, 'a') + "\"}]";
  check_error(f.server.call(post(big)), 413, "body_too_large");
  std::string many = "[";
  for (int i = 0; i < 51; ++i)
    many += std::string(i ? "," : "") + "{\"message\":\"m" + std::to_string(i) + "\"}";
  many += "]";
  check_error(f.server.call(post(many)), 413, "too_many_records");
}

TEST_CASE("415: unsupported Content-Type or Content-Encoding", "[errors]") {
  fixture f;
  check_error(f.server.call(post("<xml/>", "Bearer full-token", "text/xml")), 415,
              "unsupported_media_type");
  auto br = post(R"([{"message":"a"}])");
  br.headers.emplace_back("Content-Encoding", "br");
  check_error(f.server.call(br), 415, "unsupported_encoding");
}

TEST_CASE("1 valid and 2 invalid records: 202, accepted 1, rejected 2, errors named", "[errors]") {
  fixture f;
  auto r = f.server.call(post(
      R"([{"level":"ERROR","service_id":"svc-a"},{"message":"fine","service_id":"svc-a"},{"message":"x","timestamp":"not a date","service_id":"svc-a"}])"));
  INFO(r.body);
  REQUIRE(r.status == 202);
  CHECK(json_int(r.body, "received_count") == 3);
  CHECK(json_int(r.body, "accepted_count") == 1);
  CHECK(json_int(r.body, "rejected_count") == 2);
  CHECK(r.body.find("{\"index\":0,\"reason\":\"no message") != std::string::npos);
  CHECK(r.body.find("{\"index\":2,\"reason\":\"unparseable timestamp") != std::string::npos);
  CHECK(journal_records(f.redis).size() == 1);
}

TEST_CASE("event times past year 9999: a timestamp rejects its record, a date is ignored",
          "[errors]") {
  fixture f;
  // 3e20 read as nanoseconds is year 11,476, which RFC 3339 (the journal's form) cannot write.
  auto r = f.server.call(post(
      R"([{"message":"far","timestamp":3e20,"service_id":"svc-a"},{"message":"dated","date":3e20,"service_id":"svc-a"}])"));
  INFO(r.body);
  REQUIRE(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 1);
  CHECK(json_int(r.body, "rejected_count") == 1);
  CHECK(r.body.find("{\"index\":0,\"reason\":\"unparseable timestamp \\\"a negative, "
                    "non-finite or after-9999 number") != std::string::npos);
  const auto stored = journal_records(f.redis);
  REQUIRE(stored.size() == 1);
  INFO(stored[0]);
  CHECK(stored[0].find("\"message\":\"dated\"") != std::string::npos);
  CHECK(stored[0].find("\"timestamp\":\"20") != std::string::npos);  // the receive time instead
}

TEST_CASE("404 and 405 are JSON too, /single takes one record", "[errors]") {
  fixture f;
  check_error(f.server.get("/nope"), 404, "not_found");
  check_error(f.server.get("/api/v1/ingest/logs"), 405, "method_not_allowed");
  auto single = post(R"({"message":"one","service_id":"svc-a"})");
  single.path = "/api/v1/ingest/logs/single";
  auto r = f.server.call(single);
  CHECK(r.status == 202);
  CHECK(json_int(r.body, "accepted_count") == 1);
  single.body = R"({"message":"one"}{"message":"two"})";
  check_error(f.server.call(single), 400, "malformed_body");
}

TEST_CASE("503 with Retry-After when ingest.enabled is false", "[errors][flag]") {
  redis_process redis;
  server_process server(R"(
ingest: {enabled: false}
auth: {tokens: [{name: t, token: full-token, services: ["*"]}]}
)" + journal_only_yaml(redis));
  auto r = server.call(post(R"([{"message":"a","service_id":"s"}])"));
  check_error(r, 503, "ingest_disabled");
  CHECK(r.headers.count("retry-after") == 1);
  CHECK(server.get("/health").status == 200);
}
