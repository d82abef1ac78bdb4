#include "net/body_reader.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <string>

using luffy::budget_lease;
using luffy::kBodyPadding;
using luffy::memory_budget;
using luffy::read_outcome;
using luffy::read_whole_body;

namespace {

// A body arriving in pieces of at most `piece` bytes.
struct source {
  std::string data;
  size_t piece = 1000;
  size_t pos = 0;
  size_t calls = 0;
  size_t operator()(char* out, size_t n) {
    ++calls;
    const size_t k = std::min({n, piece, data.size() - pos});
    std::memcpy(out, data.data() + pos, k);
    pos += k;
    return k;
  }
};

}  // namespace

TEST_CASE("body reader: a declared body is read whole into its one reservation", "[body]") {
  memory_budget budget(1 << 20);
  budget_lease lease(budget);
  source in{std::string(5000, 'x')};
  const auto declared = static_cast<int64_t>(in.data.size());
  REQUIRE(lease.hold(declared + static_cast<int64_t>(kBodyPadding)));  // the caller's draw
  std::string body;
  std::function<size_t(char*, size_t)> read = std::ref(in);
  CHECK(read_whole_body(read, declared, 10000, body, lease) == read_outcome::ok);
  CHECK(body == in.data);
  CHECK(body.capacity() >= in.data.size() + kBodyPadding);
  CHECK(lease.held() == declared + static_cast<int64_t>(kBodyPadding));  // nothing more drawn
}

TEST_CASE("body reader: a chunked body draws each growth from the budget", "[body]") {
  memory_budget budget(8 << 20);
  budget_lease lease(budget);
  source in{std::string(1 << 20, 'y'), 64 << 10};
  std::string body;
  std::function<size_t(char*, size_t)> read = std::ref(in);
  CHECK(read_whole_body(read, -1, 4 << 20, body, lease) == read_outcome::ok);
  CHECK(body == in.data);
  CHECK(lease.held() >= static_cast<int64_t>(body.size()));
  CHECK(budget.used() == lease.held());
}

TEST_CASE("body reader: a chunked body past the budget stops with what it read", "[body]") {
  memory_budget budget(300 << 10);
  budget_lease lease(budget);
  source in{std::string(1 << 20, 'z'), 64 << 10};
  std::string body;
  std::function<size_t(char*, size_t)> read = std::ref(in);
  CHECK(read_whole_body(read, -1, 4 << 20, body, lease) == read_outcome::over_budget);
  CHECK(body.size() < in.data.size());
  CHECK(lease.held() <= budget.limit());
}

TEST_CASE("body reader: more than the limit is too large", "[body]") {
  memory_budget budget(8 << 20);
  SECTION("chunked") {
    budget_lease lease(budget);
    source in{std::string(3000, 'a')};
    std::string body;
    std::function<size_t(char*, size_t)> read = std::ref(in);
    CHECK(read_whole_body(read, -1, 2000, body, lease) == read_outcome::too_large);
    CHECK(body.size() == 2001);
  }
  SECTION("a body at exactly the limit is fine") {
    budget_lease lease(budget);
    source in{std::string(2000, 'a')};
    std::string body;
    std::function<size_t(char*, size_t)> read = std::ref(in);
    CHECK(read_whole_body(read, -1, 2000, body, lease) == read_outcome::ok);
    CHECK(body.size() == 2000);
  }
}

TEST_CASE("body reader: an empty body ends at once", "[body]") {
  memory_budget budget(1 << 20);
  budget_lease lease(budget);
  source in{};
  std::string body = "stale";
  std::function<size_t(char*, size_t)> read = std::ref(in);
  CHECK(read_whole_body(read, 0, 1000, body, lease) == read_outcome::ok);
  CHECK(body.empty());
}
