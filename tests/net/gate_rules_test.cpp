#include "net/gate_rules.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using luffy::evicted_before;
using luffy::eviction_rank;
using luffy::prefetch_wanted;
using luffy::refusal_response;
using luffy::request_head;

namespace {

const auto t0 = luffy::steady::time_point{} + std::chrono::seconds(100);

eviction_rank rank(int64_t client_open, bool idle, uint64_t requests, int seconds) {
  return eviction_rank{client_open, idle, requests, t0 + std::chrono::seconds(seconds)};
}

}  // namespace

TEST_CASE("gate rules: eviction takes from the address holding the most first", "[gate]") {
  // Whatever else: a busy idle connection of a crowding address goes before a fresh one of
  // another address.
  CHECK(evicted_before(rank(10, false, 0, 5), rank(2, true, 0, 0)));
  CHECK_FALSE(evicted_before(rank(2, true, 0, 0), rank(10, false, 0, 5)));
}

TEST_CASE("gate rules: then idle before sending, the least used idle, then the oldest", "[gate]") {
  CHECK(evicted_before(rank(3, true, 50, 9), rank(3, false, 0, 0)));
  CHECK_FALSE(evicted_before(rank(3, false, 0, 0), rank(3, true, 50, 9)));
  // Among idle ones, an agent's busy connection goes last.
  CHECK(evicted_before(rank(3, true, 1, 9), rank(3, true, 1000, 0)));
  CHECK_FALSE(evicted_before(rank(3, true, 1000, 0), rank(3, true, 1, 9)));
  // Same use: the one waiting longest.
  CHECK(evicted_before(rank(3, true, 7, 0), rank(3, true, 7, 1)));
  // Connections still sending a request: the oldest, whatever they served.
  CHECK(evicted_before(rank(3, false, 900, 0), rank(3, false, 1, 1)));
  // Irreflexive (a strict order for the scan).
  CHECK_FALSE(evicted_before(rank(3, true, 7, 0), rank(3, true, 7, 0)));
}

TEST_CASE("gate rules: body bytes waited for before a worker", "[gate]") {
  request_head h;
  h.framing = luffy::body_framing::length;
  h.content_length = 100;
  CHECK(prefetch_wanted(h) == 100);
  h.content_length = 0;
  CHECK(prefetch_wanted(h) == 0);
  h.content_length = 5 << 20;
  CHECK(prefetch_wanted(h) == static_cast<int64_t>(luffy::kBodyPrefetch));
  // The client waits for 100 Continue before it sends the body: nothing to wait for.
  h.expect_continue = true;
  CHECK(prefetch_wanted(h) == 0);
  h.expect_continue = false;
  h.framing = luffy::body_framing::chunked;
  CHECK(prefetch_wanted(h) == 0);
  h.framing = luffy::body_framing::none;
  CHECK(prefetch_wanted(h) == 0);
}

TEST_CASE("gate rules: a refusal is a complete response that closes", "[gate]") {
  const std::string r = refusal_response(408, "request_timeout", "too slow");
  const std::string body = R"({"status":"error","error":"request_timeout","message":"too slow"})";
  CHECK(r ==
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
  CHECK(refusal_response(503, "overloaded", "retry")
            .rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
}
