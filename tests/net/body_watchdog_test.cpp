#include "net/body_watchdog.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using luffy::body_overdue;
using luffy::body_progress;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

luffy::edge_settings settings() {
  luffy::edge_settings s;
  s.body_timeout = seconds(60);
  s.min_body_rate = 16 << 10;
  return s;
}

}  // namespace

TEST_CASE("body watchdog: a complete body is never cut", "[watchdog]") {
  const auto s = settings();
  CHECK_FALSE(body_overdue({seconds(600), 100, 100, 0}, s, true));
  CHECK_FALSE(body_overdue({seconds(600), 0, 0, 0}, s, true));
}

TEST_CASE("body watchdog: past the body deadline, whatever the load", "[watchdog]") {
  const auto s = settings();
  CHECK(body_overdue({seconds(61), 10, 100, 0}, s, false));
  CHECK(body_overdue({seconds(61), 10, -1, 0}, s, false));  // chunked: never complete here
  CHECK_FALSE(body_overdue({seconds(59), 10, 100, 0}, s, false));
}

TEST_CASE("body watchdog: below the minimum rate only while requests wait", "[watchdog]") {
  const auto s = settings();
  // 2 s at 1 KiB/s, far below 16 KiB/s.
  const body_progress slow{seconds(2), 2048, 1 << 20, 0};
  CHECK(body_overdue(slow, s, true));
  CHECK_FALSE(body_overdue(slow, s, false));
  // Within the grace period it may be slow.
  CHECK_FALSE(body_overdue({milliseconds(400), 0, 1 << 20, 0}, s, true));
  // Fast enough.
  CHECK_FALSE(body_overdue({seconds(2), 64 << 10, 1 << 20, 0}, s, true));
  // Bytes that were in the kernel buffer at hand-over do not count towards the rate.
  CHECK(body_overdue({seconds(2), 40 << 10, 1 << 20, 16 << 10}, s, true));
  CHECK_FALSE(body_overdue({seconds(2), 40 << 10, 1 << 20, 0}, s, true));
  // No minimum rate configured.
  auto off = s;
  off.min_body_rate = 0;
  CHECK_FALSE(body_overdue(slow, off, true));
}
