#include <catch2/catch.hpp>

#include "core/backpressure.hpp"

using luffy::watermark_gate;

TEST_CASE("a gate closes at its high watermark and opens at its low one") {
  watermark_gate g("journal", 1000, 80);
  CHECK(g.low() == 800);
  CHECK(g.admit(0));
  CHECK(g.admit(999));
  CHECK_FALSE(g.admit(1000));
  CHECK(g.closed());
  CHECK(g.trips() == 1);
  // Between the watermarks it stays as it was: closed on the way down ...
  CHECK_FALSE(g.admit(900));
  CHECK_FALSE(g.admit(801));
  CHECK(g.admit(800));
  // ... and open on the way up.
  CHECK(g.admit(900));
  CHECK(g.admit(999));
  CHECK_FALSE(g.admit(5000));
  CHECK(g.trips() == 2);
  CHECK(g.refused() == 4);
}

TEST_CASE("a gate with no high watermark never closes") {
  watermark_gate g("off", 0, 80);
  CHECK(g.admit(1'000'000'000));
  CHECK_FALSE(g.closed());
}

TEST_CASE("the low watermark is exact for large values and clamps the percent") {
  watermark_gate g("big", 9'000'000'000'000'000'000LL, 90);
  CHECK(g.low() == 8'100'000'000'000'000'000LL);
  g.configure("x", 10, 0);
  CHECK(g.low() == 0);
  g.configure("x", 10, 500);
  CHECK(g.low() == 10);
}

TEST_CASE("a depth fed without a request moves the state and refuses nobody") {
  watermark_gate g("journal", 100, 50);
  CHECK_FALSE(g.admit(150));  // a request closes it
  CHECK(g.refused() == 1);
  CHECK(g.closed());
  // No request follows; the backlog drains. A metrics read sees the gate open again.
  CHECK(g.update(40));
  CHECK_FALSE(g.closed());
  CHECK(g.last_depth() == 40);
  CHECK(g.refused() == 1);
  CHECK(g.trips() == 1);
  // It closes the same way (counted as a trip), still without a refusal.
  CHECK_FALSE(g.update(120));
  CHECK(g.closed());
  CHECK(g.trips() == 2);
  CHECK(g.refused() == 1);
  // A reload that disables the gate while it is closed opens it.
  g.configure("journal", 0, 50);
  CHECK(g.update(500));
  CHECK_FALSE(g.closed());
}
