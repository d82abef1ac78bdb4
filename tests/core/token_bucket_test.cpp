#include "core/token_bucket.hpp"

#include <catch2/catch.hpp>

using luffy::token_bucket;

TEST_CASE("a bucket admits a minute's worth, then refills at the rate", "[token_bucket]") {
  token_bucket b(600, 0, 0);  // 10 per second
  CHECK(b.take(500, 0) == 500);
  CHECK(b.take(500, 0) == 100);  // partial admission
  CHECK(b.take(1, 0) == 0);
  CHECK(b.seconds_until_available(0) == 1);
  CHECK(b.take(100, 1000000) == 10);      // one second later: 10 tokens
  CHECK(b.take(1000, 120000000) == 600);  // never more than capacity
}

TEST_CASE("refund gives back tokens up to capacity", "[token_bucket]") {
  token_bucket b(60, 0, 0);
  CHECK(b.take(60, 0) == 60);
  b.refund(20);
  CHECK(b.take(100, 0) == 20);
  b.refund(1000);
  CHECK(b.take(100, 0) == 60);
}

TEST_CASE("zero rate refuses everything, retry-after grows with the gap", "[token_bucket]") {
  token_bucket z(0, 0, 0);
  CHECK(z.take(1, 0) == 0);
  token_bucket slow(6, 0, 0);  // one every 10 s
  CHECK(slow.take(6, 0) == 6);
  CHECK(slow.seconds_until_available(0) == 10);
  slow.reconfigure(60, 0, 0);
  CHECK(slow.seconds_until_available(0) == 1);
}
