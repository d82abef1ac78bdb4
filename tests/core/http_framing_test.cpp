#include "core/http_framing.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace luffy;

namespace {

struct parsed {
  framing_status status;
  request_head head;
  size_t size = 0;
  framing_error error;
};

parsed parse(const std::string& bytes) {
  request_framer f;
  const auto st = f.parse_head(bytes);
  return {st, f.head(), f.head_size(), f.error()};
}

std::string get(const std::string& fields) {
  return "POST /api/v1/ingest/logs HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
}

// Decodes a whole chunked body with an output buffer of `cap` bytes, feeding the input `step`
// bytes at a time. Returns the status at the end and the decoded data.
std::pair<framing_status, std::string> dechunk(const std::string& body, size_t cap, size_t step,
                                               size_t* used = nullptr) {
  request_framer f;
  REQUIRE(f.parse_head(get("Transfer-Encoding: chunked\r\n")) == framing_status::done);
  std::string data, out(cap, '\0');
  size_t pos = 0, avail = std::min(step, body.size());
  for (int guard = 0; guard < 100000; ++guard) {
    size_t consumed = 0, produced = 0;
    const auto st = f.decode_chunked(std::string_view(body).substr(pos, avail - pos), out.data(),
                                     cap, consumed, produced);
    data.append(out.data(), produced);
    pos += consumed;
    if (st == framing_status::done || st == framing_status::invalid) {
      if (used) {
        *used = pos;
      }
      return {st, data};
    }
    if (st == framing_status::need_more) {
      if (avail == body.size()) {
        return {st, data};
      }
      avail = std::min(avail + step, body.size());
    }
  }
  FAIL("no progress");
  return {};
}

}  // namespace

TEST_CASE("framing: heads with one clear framing are accepted", "[framing]") {
  auto p = parse(get("Content-Length: 12\r\n"));
  INFO(p.error.message);
  REQUIRE(p.status == framing_status::done);
  CHECK(p.head.framing == body_framing::length);
  CHECK(p.head.content_length == 12);
  CHECK(p.head.method == "POST");
  CHECK(p.head.target == "/api/v1/ingest/logs");
  CHECK(p.head.keep_alive);
  CHECK(p.size == get("Content-Length: 12\r\n").size());

  p = parse(get("transfer-encoding: Chunked\r\n"));
  REQUIRE(p.status == framing_status::done);
  CHECK(p.head.framing == body_framing::chunked);

  p = parse(get(""));
  REQUIRE(p.status == framing_status::done);
  CHECK(p.head.framing == body_framing::none);

  p = parse(get("Content-Length: 5\r\nContent-Length: 5\r\n"));  // identical repeats are one
  REQUIRE(p.status == framing_status::done);
  CHECK(p.head.content_length == 5);
  int lengths = 0;
  for (auto& [n, v] : p.head.fields) {
    lengths += n == "Content-Length";
  }
  CHECK(lengths == 1);

  p = parse("\r\n\r\nGET /health HTTP/1.0\r\n\r\n");  // leading empty lines; 1.0 without Host
  REQUIRE(p.status == framing_status::done);
  CHECK(!p.head.keep_alive);
  CHECK(p.size == 4 + 24);

  p = parse(get("Expect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n"));
  REQUIRE(p.status == framing_status::done);
  CHECK(p.head.expect_continue);
  CHECK(!p.head.keep_alive);
}

TEST_CASE("framing: incomplete heads wait", "[framing]") {
  const std::string full = get("Content-Length: 12\r\n");
  for (size_t n = 0; n < full.size(); ++n) {
    INFO(n);
    CHECK(parse(full.substr(0, n)).status == framing_status::need_more);
  }
  // One framer, fed the same prefix again and again, one byte longer each time.
  request_framer f;
  for (size_t n = 0; n < full.size(); ++n) {
    REQUIRE(f.parse_head(full.substr(0, n)) == framing_status::need_more);
  }
  REQUIRE(f.parse_head(full) == framing_status::done);
  CHECK(f.head().content_length == 12);
  CHECK(f.head_size() == full.size());
}

TEST_CASE("framing: ambiguous or malformed heads are refused with a status", "[framing]") {
  const std::pair<std::string, int> cases[] = {
      {get("Content-Length: 5\r\nContent-Length: 6\r\n"), 400},
      {get("Content-Length: 5, 6\r\n"), 400},
      {get("Content-Length: -1\r\n"), 400},
      {get("Content-Length: +5\r\n"), 400},
      {get("Content-Length: 0x5\r\n"), 400},
      {get("Content-Length: \r\n"), 400},
      {get("Content-Length: 99999999999999999999999\r\n"), 400},
      {get("Content-Length : 5\r\n"), 400},
      {get("Content-Length\t: 5\r\n"), 400},
      {get("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
      {get("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
      {get("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400},
      {get("Transfer-Encoding: gzip\r\n"), 400},
      {get("Transfer-Encoding: xchunked\r\n"), 400},
      {get("Transfer-Encoding: identity\r\n"), 400},
      {get("Transfer-Encoding: chunked, gzip\r\n"), 400},
      {get("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
      {get("Transfer-Encoding: \r\n"), 400},
      {get("Transfer-Encoding: gzip, chunked\r\n"), 501},
      {get("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501},
      {get("X-A: 1\r\n folded\r\n"), 400},
      {"POST / HTTP/1.1\r\n Host: x\r\n\r\n", 400},
      {"POST / HTTP/1.1\nHost: x\n\n", 400},
      {"POST / HTTP/1.1\r\nHost: x\nContent-Length: 1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET / HTXP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {get("Expect: 200-ok\r\n"), 417},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {get(std::string(40000, 'x')), 431},
  };
  for (const auto& [bytes, status] : cases) {
    INFO(bytes.substr(0, 200));
    const auto p = parse(bytes);
    REQUIRE(p.status == framing_status::invalid);
    CHECK(p.error.status == status);
    CHECK(!p.error.code.empty());
    CHECK(!p.error.message.empty());
  }
  std::string many;
  for (int i = 0; i < 101; ++i) {
    many += "X-" + std::to_string(i) + ": v\r\n";
  }
  const auto p = parse(get(many));
  REQUIRE(p.status == framing_status::invalid);
  CHECK(p.error.status == 431);
}

TEST_CASE("framing: chunked bodies decode the same whatever the buffer sizes", "[framing]") {
  const std::string body =
      "5\r\nhello\r\n1;name=value\r\n \r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n";
  const std::string next = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t cap : {1, 3, 7, 64}) {
    for (size_t step : {1, 2, 5, 1000}) {
      INFO(cap << " " << step);
      size_t used = 0;
      const auto [st, data] = dechunk(body + next, cap, step, &used);
      CHECK(st == framing_status::done);
      CHECK(data == "hello 0123456789abcdef");
      CHECK(used == body.size());  // never a byte of the next request
    }
  }
}

TEST_CASE("framing: malformed chunked bodies are refused", "[framing]") {
  const std::string bad[] = {
      "zz\r\nhello\r\n0\r\n\r\n",        // not hexadecimal
      "5\r\nhelloEXTRA\r\n0\r\n\r\n",    // more data than the size
      "5\r\nhel\r\n0\r\n\r\n",           // less data (the CRLF is data, then garbage)
      "5\nhello\r\n0\r\n\r\n",           // bare LF
      "-5\r\nhello\r\n0\r\n\r\n",        // sign
      "5;=x\r\nhello\r\n0\r\n\r\n",      // bad extension
      "0\r\nContent-Length: 5\r\n\r\n",  // framing field in the trailers
      "fffffffffffffffff\r\n",           // overflow
      std::string(9000, '1') + "\r\n",   // chunk line too long
      "1;" + std::string(9000, 'a') + "\r\nx\r\n0\r\n\r\n",
  };
  for (const auto& b : bad) {
    INFO(b.substr(0, 60));
    CHECK(dechunk(b, 64, 1000).first == framing_status::invalid);
  }
  CHECK(dechunk("5\r\nhel", 64, 1000).first == framing_status::need_more);
}
