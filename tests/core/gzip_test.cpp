#include "core/gzip.hpp"

#include <catch2/catch.hpp>

#include "gzip_compress.hpp"

using namespace luffy;
using luffy::test::gzip;

TEST_CASE("gzip round trip, including two members", "[gzip]") {
  const std::string text(100000, 'a');
  std::string out;
  REQUIRE(inflate_gzip(gzip(text), 1 << 20, out).status == inflate_status::ok);
  CHECK(out == text);
  REQUIRE(inflate_gzip(gzip("hello ") + gzip("world"), 1 << 20, out).status == inflate_status::ok);
  CHECK(out == "hello world");
  REQUIRE(inflate_gzip(gzip(""), 1 << 20, out).status == inflate_status::ok);
  CHECK(out.empty());
}

TEST_CASE("a gzip bomb stops at the bound", "[gzip]") {
  const std::string bomb = gzip(std::string(50 << 20, '\0'));  // 50 MiB of zeros -> ~50 KB
  CHECK(bomb.size() < 100000);
  std::string out;
  const auto r = inflate_gzip(bomb, 1 << 20, out);
  CHECK(r.status == inflate_status::too_large);
  CHECK(out.capacity() <= (2u << 20));
  // exactly at the bound is fine
  CHECK(inflate_gzip(gzip(std::string(4096, 'x')), 4096, out).status == inflate_status::ok);
  CHECK(inflate_gzip(gzip(std::string(4097, 'x')), 4096, out).status == inflate_status::too_large);
}

TEST_CASE("corrupt and truncated gzip are told apart", "[gzip]") {
  std::string g = gzip(std::string(10000, 'z') + "some text to compress");
  std::string out;
  CHECK(inflate_gzip(g.substr(0, g.size() / 2), 1 << 20, out).status == inflate_status::truncated);
  std::string bad = g;
  bad[bad.size() - 6] ^= 0x55;  // CRC
  CHECK(inflate_gzip(bad, 1 << 20, out).status == inflate_status::corrupt);
  CHECK(inflate_gzip("not gzip at all", 1 << 20, out).status == inflate_status::corrupt);
}
