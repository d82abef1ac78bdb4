// rate_limit.shared across ingest nodes: two real luffy-ingest processes on one Redis together
// admit about what one would (one bucket per service in Redis, leased in chunks), not twice it;
// with shared: false each admits the whole limit. When the shared bucket cannot be used, a node
// falls back to its local bucket (fail open per node), logs it and counts it.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string batch(const std::string& service, int n, int offset) {
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    b += std::string(i ? "," : "") + R"({"message":"boom )" + std::to_string(offset + i) +
         R"(","timestamp":"2026-01-01T00:00:00Z","service_id":")" + service + R"("})";
  }
  return b + "]";
}

std::string node_yaml(const redis_process& redis, bool shared) {
  return std::string("rate_limit:\n  per_minute: 60\n  shared: ") + (shared ? "true" : "false") +
         "\nauth: {tokens: [{name: t, token: tok, services: [\"*\"]}]}\n" +
         journal_only_yaml(redis);
}

struct tally {
  long accepted = 0, limited = 0, r202 = 0, r429 = 0;
};

// Sends `requests` batches of 10 records of `svc` to each server in turn; every record is
// unique. Returns per-server tallies.
std::vector<tally> send_alternating(const std::vector<server_process*>& servers,
                                    const std::string& svc, int requests) {
  std::vector<tally> out(servers.size());
  int offset = 0;
  for (int i = 0; i < requests; ++i) {
    for (size_t s = 0; s < servers.size(); ++s) {
      auto r = servers[s]->call(ingest_post(batch(svc, 10, offset)));
      offset += 10;
      INFO(r.body);
      REQUIRE((r.status == 202 || r.status == 429));
      if (r.status == 202) {
        ++out[s].r202;
        out[s].accepted += json_int(r.body, "accepted_count");
        out[s].limited += json_int(r.body, "rate_limited_count");
      } else {
        ++out[s].r429;
        out[s].limited += 10;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("two ingest nodes on one Redis admit one node's limit, not twice it",
          "[rate_limit][shared]") {
  redis_process redis;
  server_process a(node_yaml(redis, true)), b(node_yaml(redis, true));
  // 60 a minute (1 a second), capacity 60, chunk 6. 2 x 20 requests of 10 records = 400 offered.
  const auto start = std::chrono::steady_clock::now();
  auto t = send_alternating({&a, &b}, "orders", 20);
  const double elapsed = seconds_since(start);
  const long total = t[0].accepted + t[1].accepted;
  INFO("node a admitted " << t[0].accepted << " (" << t[0].r202 << " x 202, " << t[0].r429
                          << " x 429), node b " << t[1].accepted << " (" << t[1].r202 << " x 202, "
                          << t[1].r429 << " x 429), in " << elapsed << " s");
  // One node's limit over the run: the bucket (60) plus what refilled (1 a second). Unshared, the
  // two nodes would admit 120 + 2 a second.
  CHECK(total <= 60 + static_cast<long>(elapsed) + 1);
  CHECK(total >= 48);  // at most a chunk per node leased and not spent
  CHECK(t[0].accepted > 0);
  CHECK(t[1].accepted > 0);
  CHECK(total + t[0].limited + t[1].limited == 400);
  CHECK(t[0].r429 + t[1].r429 > 0);
  // The rate_limited counters of both nodes add up to the refusals, and the round trips to Redis
  // were fewer than the requests (a chunk per trip, then at most one per second per node).
  auto ma = a.get("/api/v1/ingest/metrics"), mb = b.get("/api/v1/ingest/metrics");
  INFO(ma.body << "\n" << mb.body);
  CHECK(json_int(ma.body, "rate_limited") + json_int(mb.body, "rate_limited") == 400 - total);
  const long calls =
      json_int(ma.body, "rate_limit_redis_calls") + json_int(mb.body, "rate_limit_redis_calls");
  CHECK(calls > 0);
  CHECK(calls < 40);
  CHECK(json_int(ma.body, "rate_limit_fallbacks") == 0);
  CHECK(json_int(mb.body, "rate_limit_fallbacks") == 0);
  // The bucket is one key in Redis, with a TTL.
  CHECK(redis.cmd({"EXISTS", "luffy:ratelimit:orders"}).integer == 1);
  CHECK(redis.cmd({"PTTL", "luffy:ratelimit:orders"}).integer > 0);
  CHECK(journal_records(redis).size() == static_cast<size_t>(total));
}

TEST_CASE("with rate_limit.shared: false each node admits the whole limit",
          "[rate_limit][shared]") {
  redis_process redis;
  server_process a(node_yaml(redis, false)), b(node_yaml(redis, false));
  auto t = send_alternating({&a, &b}, "orders", 10);
  const long total = t[0].accepted + t[1].accepted;
  INFO("node a " << t[0].accepted << ", node b " << t[1].accepted);
  CHECK(t[0].accepted >= 60);
  CHECK(t[1].accepted >= 60);
  CHECK(total >= 120);
  CHECK(redis.cmd({"EXISTS", "luffy:ratelimit:orders"}).integer == 0);
  auto ma = a.get("/api/v1/ingest/metrics");
  CHECK(json_int(ma.body, "rate_limit_redis_calls") == 0);
}

TEST_CASE("a shared bucket Redis cannot use: the node falls back to its own bucket, once logged",
          "[rate_limit][shared]") {
  redis_process redis;
  // A key of the wrong type makes the lease script fail for this service only; the journal (and
  // every other service) keeps working, so this isolates the limiter's fallback.
  redis.cmd({"SET", "luffy:ratelimit:broken", "not a hash"});
  server_process a(node_yaml(redis, true));
  auto t = send_alternating({&a}, "broken", 10);
  INFO("admitted " << t[0].accepted);
  // The local bucket alone: 60 of the 100 offered (plus a refill of 1 a second).
  CHECK(t[0].accepted >= 60);
  CHECK(t[0].accepted <= 62);
  auto m = a.get("/api/v1/ingest/metrics");
  INFO(m.body);
  CHECK(json_int(m.body, "rate_limit_fallbacks") >= 1);
  const auto log = a.log();
  size_t warnings = 0;
  for (size_t at = log.find("shared buckets in Redis did not answer"); at != std::string::npos;
       at = log.find("shared buckets in Redis did not answer", at + 1)) {
    ++warnings;
  }
  CHECK(warnings == 1);
  // Another service on the same node still shares its bucket (once the rate_lease actor tries
  // Redis again: after a failure it answers from the local buckets for 1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto r = a.call(ingest_post(batch("fine", 5, 0)));
  CHECK(r.status == 202);
  CHECK(redis.cmd({"EXISTS", "luffy:ratelimit:fine"}).integer == 1);
}
