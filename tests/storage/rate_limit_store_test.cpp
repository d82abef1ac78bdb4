// storage/rate_limit_store (storage/lua/rate_limit_take.lua) against a real redis-server, and the
// local side of a shared bucket (core/token_bucket.hpp, token_lease): two "nodes" leasing from one
// bucket together admit what one bucket allows, within one chunk per node.
#include "storage/rate_limit_store.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "core/token_bucket.hpp"
#include "harness.hpp"
#include "storage/keys.hpp"

using namespace luffy;
using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One ingest node's limiter for one service, as actors/service_limiter.cpp runs it: spend the
// lease, and when it is short (and not on hold) take a chunk from the shared bucket first.
struct node {
  rate_limit_store store;
  token_lease lease;
  std::string prefix;
  uint64_t admitted = 0;
  uint64_t round_trips = 0;

  node(const redis_endpoint& ep, int64_t per_minute, int64_t capacity, std::string p = "luffy")
      : store(ep),
        lease(static_cast<uint64_t>(per_minute), static_cast<uint64_t>(capacity)),
        prefix(std::move(p)) {}

  uint64_t request(uint64_t n) {
    const int64_t now = steady_us();
    if (const uint64_t ask = lease.to_ask(n, now)) {
      auto g = store.take(prefix, "svc", static_cast<int64_t>(lease.per_minute()),
                          static_cast<int64_t>(lease.capacity()), ask);
      REQUIRE(g.ok());
      ++round_trips;
      lease.granted(ask, g.value->granted, g.value->left, g.value->wait_ms, steady_us());
    }
    const uint64_t got = lease.take(n);
    admitted += got;
    return got;
  }
};

}  // namespace

TEST_CASE("token_lease: spends what it holds, asks for the shortfall plus a chunk",
          "[storage][rate_limit]") {
  token_lease l(6000, 0);  // capacity 6000, chunk 600, 100 tokens a second
  CHECK(l.chunk() == 600);
  CHECK(l.to_ask(10, 0) == 610);
  l.granted(610, 610, 5390, 0, 0);
  CHECK(l.take(10) == 10);
  CHECK(l.held() == 600);
  CHECK(l.to_ask(600, 0) == 0);  // covered: no round trip
  CHECK(l.to_ask(601, 0) == 601);
  // The shared bucket is empty: a short grant puts asking on hold until about a chunk refilled
  // (600 tokens at 100/s is 6 s, capped at 1 s), times a jitter of 0.5 .. 1.5.
  l.granted(601, 1, 0.5, 5, 0);
  CHECK(l.held() == 601);
  CHECK(l.take(1000) == 601);
  CHECK(l.on_hold(499999));
  CHECK(l.to_ask(10, 499999) == 0);
  CHECK(l.take(10) == 0);
  CHECK(l.seconds_until_available(0) >= 1);
  CHECK(l.seconds_until_available(0) <= 2);
  CHECK_FALSE(l.on_hold(1500000));
  CHECK(l.to_ask(10, 1500000) == 610);
  // Refunds are kept up to one chunk (the tolerance), the rest was counted by the shared bucket.
  l.refund(5000);
  CHECK(l.held() == 600);
  // Same rates: the lease stays. A new rate drops it.
  CHECK_FALSE(l.reconfigure(6000, 6000));
  CHECK(l.held() == 600);
  CHECK(l.reconfigure(60, 0));
  CHECK(l.held() == 0);
  CHECK(l.chunk() == 6);
  // Rate 0 with no burst: nothing to lease, never asks.
  token_lease zero(0, 0);
  CHECK(zero.to_ask(5, 0) == 0);
  CHECK(zero.take(5) == 0);
  CHECK(zero.seconds_until_available(0) == 60);
}

TEST_CASE("rate_limit_take: a full bucket by Redis time, partial grants, expiry when full",
          "[storage][rate_limit]") {
  redis_process redis;
  rate_limit_store store(redis.endpoint());
  const std::string key = rate_limit_key("p", "orders");
  CHECK(key == "p:ratelimit:orders");
  // A missing key is a full bucket: capacity 100, 6000 a minute (100/s).
  auto g = store.take("p", "orders", 6000, 100, 30);
  REQUIRE(g.ok());
  CHECK(g.value->granted == 30);
  CHECK(g.value->left >= 70.0);
  CHECK(g.value->left < 71.0);
  CHECK(g.value->wait_ms == 0);
  // It expires when it would be full again (30 tokens at 100/s: 0.3 s, plus 1 s).
  const auto pttl = redis.cmd({"PTTL", key}).integer;
  CHECK(pttl > 1000);
  CHECK(pttl <= 1300);
  // Partial: asks for more than there is.
  g = store.take("p", "orders", 6000, 100, 500);
  REQUIRE(g.ok());
  CHECK(g.value->granted >= 70);
  CHECK(g.value->granted <= 80);  // plus what refilled since (0.1 a millisecond)
  CHECK(g.value->left < 1.0);
  CHECK(g.value->wait_ms >= 1);
  CHECK(g.value->wait_ms <= 10);
  // Refills at the rate, by Redis's clock.
  std::this_thread::sleep_for(200ms);
  g = store.take("p", "orders", 6000, 100, 500);
  REQUIRE(g.ok());
  CHECK(g.value->granted >= 18);
  CHECK(g.value->granted <= 60);  // a loaded host may sleep longer
  // Full again after a second; a lowered capacity cuts it.
  std::this_thread::sleep_for(1100ms);
  g = store.take("p", "orders", 6000, 10, 500);
  REQUIRE(g.ok());
  CHECK(g.value->granted == 10);
  // The key of an idle bucket expires once it would be full (10 tokens: 0.1 s, plus 1 s).
  CHECK(redis.cmd({"PTTL", key}).integer <= 1100);
  std::this_thread::sleep_for(1300ms);
  CHECK(redis.cmd({"EXISTS", key}).integer == 0);
  // Rate 0: what is there, never a refill.
  g = store.take("p", "frozen", 0, 5, 3);
  REQUIRE(g.ok());
  CHECK(g.value->granted == 3);
  g = store.take("p", "frozen", 0, 5, 3);
  REQUIRE(g.ok());
  CHECK(g.value->granted == 2);
  CHECK(g.value->wait_ms == -1);
  // Services do not share buckets.
  g = store.take("p", "other", 6000, 100, 100);
  REQUIRE(g.ok());
  CHECK(g.value->granted == 100);
}

TEST_CASE("rate_limit_store: Redis down or a wrong key type is an error, not a grant",
          "[storage][rate_limit]") {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(free_port());
  ep.timeout = std::chrono::milliseconds(200);
  rate_limit_store down(ep);
  auto r = down.take("p", "svc", 60, 60, 1);
  CHECK_FALSE(r.ok());
  redis_process redis;
  rate_limit_store store(redis.endpoint());
  redis.cmd({"SET", rate_limit_key("p", "svc"), "not a hash"});
  r = store.take("p", "svc", 60, 60, 1);
  CHECK_FALSE(r.ok());
  CHECK(r.error.message.find("unexpected reply") != std::string::npos);
}

TEST_CASE("two nodes sharing a bucket admit what one bucket allows, within a chunk per node",
          "[storage][rate_limit]") {
  redis_process redis;
  // 60,000 a minute = 1,000 tokens a second, capacity 1,000, chunk 100.
  const int64_t per_minute = 60000, capacity = 1000;
  const double rate_per_s = 1000.0;
  node a(redis.endpoint(), per_minute, capacity), b(redis.endpoint(), per_minute, capacity);
  const uint64_t chunk = a.lease.chunk();
  REQUIRE(chunk == 100);

  // Both nodes offer far more than the limit (about 25 records per ms each) for 2.5 s, in
  // requests of 1..50 records, interleaved at random.
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint64_t> size(1, 50);
  struct admission {
    int64_t at_us;
    uint64_t n;
  };
  std::vector<admission> log;
  uint64_t requests = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 2500ms) {
    node& n = (rng() & 1) ? a : b;
    const uint64_t got = n.request(size(rng));
    ++requests;
    if (got > 0) {
      log.push_back({steady_us(), got});
    }
    if (requests % 8 == 0) {
      std::this_thread::sleep_for(100us);
    }
  }
  const double elapsed = seconds_since(start);
  const uint64_t total = a.admitted + b.admitted;
  const double single_node_limit = static_cast<double>(capacity) + rate_per_s * elapsed;
  INFO("admitted " << a.admitted << " + " << b.admitted << " = " << total << " in " << elapsed
                   << " s; one node's limit " << single_node_limit << "; round trips "
                   << a.round_trips + b.round_trips << " for " << requests << " requests");
  // From a full bucket: never more than one bucket allows (leases are counted when taken).
  CHECK(static_cast<double>(total) <= single_node_limit + 2.0);
  // And not much less: the tokens leased but unspent are at most a chunk per node.
  CHECK(static_cast<double>(total) >= single_node_limit * 0.9 - 2.0 * static_cast<double>(chunk));
  CHECK(a.admitted > 0);
  CHECK(b.admitted > 0);
  // Over any window: the bucket's allowance plus the tolerance of one chunk per node.
  for (size_t i = 0; i < log.size(); ++i) {
    uint64_t sum = 0;
    for (size_t j = i; j < log.size(); ++j) {
      sum += log[j].n;
      const double dt = static_cast<double>(log[j].at_us - log[i].at_us) / 1e6;
      if (static_cast<double>(sum) > static_cast<double>(capacity) + rate_per_s * dt +
                                         2.0 * static_cast<double>(chunk) + 5.0) {
        FAIL("window " << i << ".." << j << " admitted " << sum << " in " << dt << " s");
      }
    }
  }
  // Round trips: a fraction of the requests (one per chunk while the bucket has tokens, at most
  // one per node and hold once it is empty).
  CHECK(a.round_trips + b.round_trips < requests / 4);
}

TEST_CASE("two nodes with separate buckets admit twice the limit (what sharing prevents)",
          "[storage][rate_limit]") {
  redis_process redis;
  node a(redis.endpoint(), 60, 0, "node-a"), b(redis.endpoint(), 60, 0, "node-b");
  node s1(redis.endpoint(), 60, 0, "shared"), s2(redis.endpoint(), 60, 0, "shared");
  for (int i = 0; i < 40; ++i) {
    a.request(5);
    b.request(5);
    s1.request(5);
    s2.request(5);
  }
  CHECK(a.admitted + b.admitted >= 120);
  CHECK(s1.admitted + s2.admitted <= 62);
  CHECK(s1.admitted + s2.admitted >= 60);
}
