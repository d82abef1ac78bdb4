// The in-flight memory budget and the pieces that draw from it: the budget itself, gzip
// inflation asking before it allocates, the decoder's memory bound, and the msgpack value cap.
#include "core/memory_budget.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/body_decoder.hpp"
#include "core/gzip.hpp"
#include "gzip_compress.hpp"

using namespace luffy;
using luffy::test::gzip;

TEST_CASE("memory budget: reserve, refuse, release, leases", "[memory_budget]") {
  memory_budget b(100);
  CHECK(b.try_reserve(60));
  CHECK_FALSE(b.try_reserve(41));
  CHECK(b.used() == 60);
  CHECK(b.refusals() == 1);
  CHECK(b.try_reserve(40));
  b.release(100);
  CHECK(b.used() == 0);
  CHECK(b.high_water() == 100);
  {
    budget_lease a(b), c(b);
    CHECK(a.hold(70));
    CHECK_FALSE(c.hold(31));
    CHECK(c.held() == 0);
    CHECK(a.hold(20));  // shrinking gives back
    CHECK(c.hold(80));
    CHECK(b.used() == 100);
    CHECK_FALSE(a.hold(21));
    CHECK(a.held() == 20);  // a refused growth keeps what was held
  }
  CHECK(b.used() == 0);
  b.set_limit(10);  // a reload: new draws see the new limit
  CHECK_FALSE(b.try_reserve(11));
}

TEST_CASE("memory budget: concurrent draws never exceed the limit", "[memory_budget]") {
  memory_budget b(1000);
  std::atomic<bool> exceeded{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        budget_lease l(b);
        if (l.hold(1 + (i * 37) % 300) && b.used() > 1000) {
          exceeded = true;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK_FALSE(exceeded.load());
  CHECK(b.used() == 0);
  CHECK(b.high_water() <= 1000);
}

TEST_CASE("gzip: sized from its trailer, asks before every allocation", "[memory_budget][gzip]") {
  const std::string text(3 << 20, 'a');
  const std::string z = gzip(text);
  CHECK(gzip_size_hint(z) == text.size());
  CHECK(gzip_size_hint("short") == 0);
  std::vector<size_t> asked;
  std::string out;
  auto r = inflate_gzip(z, 64 << 20, out, 64, [&](size_t n) {
    asked.push_back(n);
    return true;
  });
  REQUIRE(r.status == inflate_status::ok);
  CHECK(out == text);
  REQUIRE(asked.size() == 1);  // an honest body: one allocation of its size
  CHECK(asked[0] == text.size() + 64);

  // A trailer that lies (says 16 bytes): the buffer grows, each growth asked for; refusing one
  // stops the inflation with over_budget and frees what was built.
  std::string liar = z;
  liar[liar.size() - 4] = 16;
  liar[liar.size() - 3] = liar[liar.size() - 2] = liar[liar.size() - 1] = 0;
  asked.clear();
  r = inflate_gzip(liar, 64 << 20, out, 64, [&](size_t n) {
    asked.push_back(n);
    return n < (1 << 20);
  });
  CHECK(r.status == inflate_status::over_budget);
  CHECK(asked.size() > 2);
  CHECK(out.capacity() < 4096);
  // Refused at once.
  r = inflate_gzip(z, 64 << 20, out, 64, [](size_t) { return false; });
  CHECK(r.status == inflate_status::over_budget);
}

TEST_CASE("decode memory bound: log-shaped JSON ~2.6x, dense JSON ~14x", "[memory_budget]") {
  std::string logs = "[";
  while (logs.size() < 1000000) {
    logs += R"x({"level":"ERROR","service":"billing","message":"payment failed for order 12345 )x"
            R"x(because the card was declined by the issuer (code 51)"},)x";
  }
  logs.back() = ']';
  const double log_ratio =
      static_cast<double>(decode_memory_bound(logs, media_type::json)) / logs.size();
  CHECK(log_ratio > 2.0);
  CHECK(log_ratio < 3.5);
  std::string dense = "[";
  for (int i = 0; i < 500000; ++i) {
    dense += "0,";
  }
  dense.back() = ']';
  const double dense_ratio =
      static_cast<double>(decode_memory_bound(dense, media_type::json)) / dense.size();
  CHECK(dense_ratio > 12);
  CHECK(decode_memory_bound("", media_type::json) > 0);
}

TEST_CASE("msgpack: an event with too many values is refused before it is unpacked",
          "[memory_budget][msgpack]") {
  // [1, {"message": "hi", "v": [0 x 70000]}]
  std::string body = "\x92\x01\x82\xa7message\xa2hi\xa1v\xdd";
  const uint32_t n = 70000;
  body += static_cast<char>(n >> 24);
  body += static_cast<char>((n >> 16) & 0xff);
  body += static_cast<char>((n >> 8) & 0xff);
  body += static_cast<char>(n & 0xff);
  body += std::string(n, '\0');
  body_decoder dec;
  decode_options opt;
  auto r = dec.decode(body, media_type::msgpack, opt);
  CHECK(r.error == decode_error::malformed);
  CHECK(r.message.find("more than 65536 values") != std::string::npos);
  // The same event with 1,000 values is a record.
  body = "\x92\x01\x82\xa7message\xa2hi\xa1v\xdc\x03\xe8" + std::string(1000, '\0');
  r = dec.decode(body, media_type::msgpack, opt);
  CHECK(r.error == decode_error::none);
  CHECK(r.records.size() == 1);
}
