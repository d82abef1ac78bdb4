// Duplicates: Fluent Bit resends whole chunks, so the same request twice must store nothing the
// second time, across a server restart too; and a request refused while Redis was down must be
// accepted (not called a duplicate) when it is retried after Redis returns.
#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

namespace {

const std::string body = read_text(fixtures_dir() / "captures" / "json.tail.body");

http_call fluent_bit_request() {
  http_call c;
  c.headers = {{"Content-Type", "application/json"},
               {"User-Agent", "Fluent-Bit"},
               {"Authorization", "Bearer tok"}};
  c.body = body;
  return c;
}

std::string config(const redis_process& redis) {
  return R"(
auth: {tokens: [{name: t, token: tok, services: ["*"], default_service: app}]}
)" + journal_only_yaml(redis);
}

}  // namespace

TEST_CASE("the same request twice: the second is all duplicates, also after a restart", "[dedup]") {
  redis_process redis;
  auto server = std::make_unique<server_process>(config(redis));
  auto first = server->call(fluent_bit_request());
  REQUIRE(first.status == 202);
  // The 29 tail records hold 3 traces shipped line by line: they are joined, not duplicates.
  const long n = json_int(first.body, "accepted_count");
  CHECK(n + json_int(first.body, "merged_count") == json_int(first.body, "received_count"));
  CHECK(n == 9);
  CHECK(json_int(first.body, "duplicate_count") == 0);

  auto second = server->call(fluent_bit_request());
  REQUIRE(second.status == 202);
  CHECK(json_int(second.body, "accepted_count") == 0);
  CHECK(json_int(second.body, "duplicate_count") == n);
  CHECK(journal_records(redis).size() == static_cast<size_t>(n));

  server.reset();  // SIGTERM
  server = std::make_unique<server_process>(config(redis));
  auto third = server->call(fluent_bit_request());
  REQUIRE(third.status == 202);
  CHECK(json_int(third.body, "duplicate_count") == n);
  CHECK(journal_records(redis).size() == static_cast<size_t>(n));
  auto metrics = server->get("/api/v1/ingest/metrics");
  CHECK(json_int(metrics.body, "duplicates") == n);
}

TEST_CASE("identical records inside one body are distinct events, its resend is all duplicates",
          "[dedup]") {
  redis_process redis;
  server_process server(config(redis));
  http_call c = fluent_bit_request();
  // Fluent Bit's `epoch` date format gives the same second to events read together.
  c.body =
      R"([{"message":"same","date":1795509919},{"message":"same","date":1795509919},{"message":"other","date":1795509919}])";
  auto r = server.call(c);
  CHECK(json_int(r.body, "accepted_count") == 3);
  CHECK(json_int(r.body, "duplicate_count") == 0);
  r = server.call(c);
  CHECK(json_int(r.body, "accepted_count") == 0);
  CHECK(json_int(r.body, "duplicate_count") == 3);
  // Another chunk carrying one of the same records: a duplicate of the first copy.
  c.body = R"([{"message":"same","date":1795509919},{"message":"new","date":1795509919}])";
  r = server.call(c);
  CHECK(json_int(r.body, "accepted_count") == 1);
  CHECK(json_int(r.body, "duplicate_count") == 1);
}

TEST_CASE("Redis down: 503 and nothing marked seen, Redis back: the retry is accepted",
          "[dedup][outage]") {
  redis_process redis;
  server_process server(config(redis));
  REQUIRE(server.wait_ready());
  redis.stop();
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = server.call(fluent_bit_request());
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(refused.headers.count("retry-after") == 1);
  CHECK(took < std::chrono::seconds(10));  // a bounded failure, not a hang
  // /ready reports the outage within the probe interval.
  bool not_ready = false;
  for (int i = 0; i < 60 && !not_ready; ++i) {
    not_ready = server.get("/ready").status == 503;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(not_ready);

  redis.start();  // same port, same data dir (AOF)
  REQUIRE(server.wait_ready());
  http_reply retried;
  for (int i = 0; i < 50; ++i) {  // the journal connection reconnects with backoff
    retried = server.call(fluent_bit_request());
    if (retried.status == 202)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(retried.status == 202);
  const long n = json_int(retried.body, "accepted_count");
  CHECK(n == 9);
  CHECK(json_int(retried.body, "duplicate_count") == 0);
  CHECK(journal_records(redis).size() == static_cast<size_t>(n));
}
