// The in-flight memory budget (issue 11, item 3): 64 clients at once each send a 275 KB gzip body
// that inflates to 60 MB (under server.max_inflated_bytes). With the default configuration the
// server's peak RSS must stay under 1 GiB (docs/RELIABILITY.md, "Memory"), requests over the
// budget must get 503 + Retry-After (Fluent Bit retries those), every client must be answered,
// and RSS must come back to within 256 MB of its idle level within 30 s of the last answer.
// The figures are printed ("[memory] ...").
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "tests/core/gzip_compress.hpp"

using namespace luffy::test;

namespace {

using clk = std::chrono::steady_clock;

constexpr long kMiB = 1024 * 1024;
constexpr long kPeakBound = 1024 * kMiB;  // the documented bound at the defaults
constexpr long kReturnSlack = 256 * kMiB;
constexpr int kClients = 64;
// Under ASan the server's RSS includes shadow memory and the allocation quarantine, and decoding
// is several times slower: the bounds are checked in the normal build only.
#ifdef __SANITIZE_ADDRESS__
constexpr bool kMeasure = false;
#else
constexpr bool kMeasure = true;
#endif

// VmRSS or VmHWM of a process, in bytes (0 when it is gone).
long proc_status_bytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stol(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
}

// A JSON array of ~9,900 records of ~6 KB (60 MB): the decoder parses every one of them
// (the worst case for memory), but none has a message, so nothing is journaled and Redis stays
// small. ~110 KB gzip (the issue's bodies were 275 KB -> 60 MB).
std::string bomb_body(int seed) {
  std::string body = "[";
  body.reserve(61 * 1000 * 1000);
  const std::string pad(6000, 'x');
  for (int i = 0; body.size() < 60 * 1000 * 1000; ++i) {
    if (i > 0) {
      body += ',';
    }
    body += R"({"level":"ERROR","seq":)" + std::to_string(seed * 1000003 + i) + R"(,"pad":")" +
            pad + R"("})";
  }
  body += "]";
  return body;
}

// 60 MB of [0,0,0,...]: the densest JSON (a value every 2 bytes), ~60 KB gzip. Decoding it would
// take ~14x its size; the server refuses it whole (413) after inflating it within the budget.
std::string dense_body() {
  std::string body = "[";
  body.reserve(60 * 1000 * 1000 + 2);
  while (body.size() < 60 * 1000 * 1000) {
    body += "0,";
  }
  body.back() = ']';
  return body;
}

struct outcome {
  int status = 0;
  std::string retry_after;
  int attempts = 0;
};
struct storm_result {
  long idle = 0, peak = 0, hwm = 0, after = 0;
  double return_s = 0;
  std::vector<outcome> outcomes;
};

// 64 clients send `body` (gzip) at once and, like Fluent Bit, send it again after a 503 (here
// after a short pause rather than the full Retry-After, to keep the pressure on) for up to 60 s.
// Samples the server's RSS throughout, then waits up to 30 s for it to come back near idle.
storm_result storm(const server_process& server, const std::string& plain) {
  const std::string body = gzip(plain);
  std::printf("[memory] body: %zu bytes gzip, %zu bytes inflated\n", body.size(), plain.size());
  REQUIRE(body.size() < 1 * kMiB);
  storm_result res;
  res.idle = proc_status_bytes(server.pid(), "VmRSS");
  REQUIRE(res.idle > 0);
  std::atomic<bool> sampling{true};
  std::atomic<long> peak{res.idle};
  std::thread sampler([&] {
    while (sampling.load()) {
      peak.store(std::max(peak.load(), proc_status_bytes(server.pid(), "VmRSS")));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  res.outcomes.resize(kClients);
  std::vector<std::thread> clients;
  const auto started = clk::now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      http_call call;
      call.body = body;
      call.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
      for (int attempt = 1; clk::now() - started < std::chrono::seconds(60); ++attempt) {
        const http_reply r = server.call(call);
        res.outcomes[c] = {
            r.status, r.headers.count("retry-after") ? r.headers.at("retry-after") : "", attempt};
        if (r.status != 503) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  const double storm_s = std::chrono::duration<double>(clk::now() - started).count();
  const auto ended = clk::now();
  res.after = proc_status_bytes(server.pid(), "VmRSS");
  while (res.after > res.idle + kReturnSlack && clk::now() - ended < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    res.after = proc_status_bytes(server.pid(), "VmRSS");
  }
  res.return_s = std::chrono::duration<double>(clk::now() - ended).count();
  sampling = false;
  sampler.join();
  res.peak = peak.load();
  res.hwm = proc_status_bytes(server.pid(), "VmHWM");
  int attempts = 0, refused = 0;
  for (const auto& o : res.outcomes) {
    attempts += o.attempts;
    refused += o.status == 503;
  }
  std::printf("[memory] %d of %d clients still refused (503) at the end\n", refused, kClients);
  std::printf(
      "[memory] %d clients, %d requests in %.1f s; idle RSS %ld MiB, peak %ld MiB (VmHWM %ld "
      "MiB), %ld MiB %.1f s after the last answer\n",
      kClients, attempts, storm_s, res.idle / kMiB, res.peak / kMiB, res.hwm / kMiB,
      res.after / kMiB, res.return_s);
  return res;
}

struct fixture {
  redis_process redis;
  server_process server{R"(rate_limit: {per_minute: 100000000}
auth: {disabled: true}
)" + journal_only_yaml(redis)};
  fixture() {
    // Idle level: after one small request, so that the lazily created pieces exist.
    REQUIRE(server.call(ingest_post(R"([{"level":"ERROR","message":"warm up"}])", "")).status ==
            202);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
};

}  // namespace

TEST_CASE("64 concurrent gzip bodies inflating to 60 MB stay inside the memory budget",
          "[memory][hostile]") {
  fixture f;
  const storm_result r = storm(f.server, bomb_body(1));
  int admitted = 0;
  for (const auto& o : r.outcomes) {
    // Records without a message: decoded in full, every one rejected (nothing to journal).
    CHECK((o.status == 202 || o.status == 400 || o.status == 503));
    if (o.status == 503) {
      CHECK_FALSE(o.retry_after.empty());
    }
    admitted += o.status != 503;
  }
  // The budget admits work while it refuses the rest (no livelock of half-drawn requests). How
  // many of the 64 get through in 60 s depends on the CPU (all of them on an idle 2-core machine,
  // docs/RELIABILITY.md); a fixed share keeps the check meaningful on a loaded CI machine.
  CHECK(admitted >= 8);
  if (kMeasure) {
    CHECK(r.hwm <= kPeakBound);
    CHECK(r.after <= r.idle + kReturnSlack);
  }
  const http_reply m = f.server.get("/api/v1/ingest/metrics");
  CHECK(json_int(m.body, "in_flight_bytes") == 0);  // every lease was given back
  CHECK(json_int(m.body, "memory_budget_refusals") > 0);
  REQUIRE(f.server.get("/health").status == 200);
}

TEST_CASE("64 concurrent dense JSON bombs are refused whole (413) inside the memory budget",
          "[memory][hostile]") {
  fixture f;
  const storm_result r = storm(f.server, dense_body());
  for (const auto& o : r.outcomes) {
    CHECK((o.status == 413 || (!kMeasure && o.status == 503)));
  }
  if (kMeasure) {
    CHECK(r.hwm <= kPeakBound);
    CHECK(r.after <= r.idle + kReturnSlack);
  }
  const http_reply m = f.server.get("/api/v1/ingest/metrics");
  CHECK(json_int(m.body, "in_flight_bytes") == 0);
  REQUIRE(f.server.get("/health").status == 200);
}
