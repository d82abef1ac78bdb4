#include "core/auth_failure_tracker.hpp"

#include <catch2/catch.hpp>
#include <string>

using luffy::auth_failure_tracker;

TEST_CASE("K failures in a window are 401s, the next is throttled, decay lifts it",
          "[auth_failure_tracker]") {
  auth_failure_tracker t(16);
  for (int i = 0; i < 5; ++i)
    CHECK(t.failed("10.0.0.1", 0, 5, 60000) == 0);
  const auto wait = t.failed("10.0.0.1", 0, 5, 60000);
  CHECK(wait >= 1);
  CHECK(wait <= 60);
  // Another address is not affected.
  CHECK(t.failed("10.0.0.2", 0, 5, 60000) == 0);
  // After the wait the level has drained below the limit: a failure is a 401 again.
  CHECK(t.failed("10.0.0.1", static_cast<int64_t>(wait) * 1000, 5, 60000) == 0);
  // Failures spread over the window never trip it (5 per 60 s drains 1 per 12 s).
  for (int i = 0; i < 50; ++i)
    CHECK(t.failed("10.0.0.3", 12000LL * i, 5, 60000) == 0);
}

TEST_CASE("a flood waits at most about one window after it stops", "[auth_failure_tracker]") {
  auth_failure_tracker t(16);
  uint32_t wait = 0;
  for (int i = 0; i < 100000; ++i)
    wait = t.failed("10.0.0.1", i / 100, 20, 60000);
  CHECK(wait > 0);
  CHECK(wait <= 63);
}

TEST_CASE("a correct authentication clears the address", "[auth_failure_tracker]") {
  auth_failure_tracker t(16);
  for (int i = 0; i < 3; ++i)
    t.failed("a", 0, 2, 60000);
  CHECK(t.failed("a", 0, 2, 60000) > 0);
  t.succeeded("a");
  CHECK(t.tracked() == 0);
  CHECK(t.failed("a", 0, 2, 60000) == 0);
  t.succeeded("unknown");  // harmless
}

TEST_CASE("memory is bounded: the least recently failing address is forgotten first",
          "[auth_failure_tracker]") {
  auth_failure_tracker t(4);
  for (int i = 0; i < 3; ++i)
    t.failed("old", 0, 2, 60000);
  for (int n = 0; n < 10000; ++n)
    t.failed("10.1." + std::to_string(n), 0, 2, 60000);
  CHECK(t.tracked() == 4);
  CHECK(t.failed("old", 0, 2, 60000) == 0);  // evicted: counted afresh
  t.set_max_addresses(2);
  CHECK(t.tracked() == 2);
}

TEST_CASE("limit 0 switches the check off", "[auth_failure_tracker]") {
  auth_failure_tracker t(4);
  for (int i = 0; i < 100; ++i)
    CHECK(t.failed("a", 0, 0, 60000) == 0);
  CHECK(t.tracked() == 0);
}
