// core/agent_tally: the agent identity, what each status counts as, the bounds of the lists and
// of the tally, and the overflow.
#include <catch2/catch.hpp>

#include "core/agent_tally.hpp"

using namespace luffy;

namespace {

agent_report report(const std::string& ua, int status, uint64_t records = 0) {
  agent_report r;
  r.address = "10.1.2.3";
  r.user_agent = ua;
  r.status = status;
  r.authenticated = status != 401;
  r.arrival_ms = 60000 * 1000 + 5;
  r.records = records;
  return r;
}

}  // namespace

TEST_CASE("agent id: 16 hex digits of address and User-Agent, both part of it", "[agents]") {
  const auto id = agent_id("10.1.2.3", "Fluent-Bit/4.2.8");
  CHECK(id.size() == 16);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(id == agent_id("10.1.2.3", "Fluent-Bit/4.2.8"));
  CHECK(id != agent_id("10.1.2.4", "Fluent-Bit/4.2.8"));
  CHECK(id != agent_id("10.1.2.3", "Fluent-Bit/4.2.9"));
  // The separator keeps ("a", "bc") and ("ab", "c") apart.
  CHECK(agent_id("a", "bc") != agent_id("ab", "c"));
}

TEST_CASE("agent status classes follow what Fluent Bit does with them", "[agents]") {
  CHECK(classify_agent_status(202) == agent_outcome::accepted);
  CHECK(classify_agent_status(400) == agent_outcome::refused_4xx);
  CHECK(classify_agent_status(401) == agent_outcome::refused_4xx);
  CHECK(classify_agent_status(413) == agent_outcome::refused_4xx);
  CHECK(classify_agent_status(408) == agent_outcome::other);  // retried by Fluent Bit
  CHECK(classify_agent_status(429) == agent_outcome::throttled);
  CHECK(classify_agent_status(503) == agent_outcome::unavailable);
  CHECK(classify_agent_status(500) == agent_outcome::other);
}

TEST_CASE("agent text: bounded, valid UTF-8, no control characters", "[agents]") {
  CHECK(agent_text("ok\nnext\x01", 100) == "ok next ");
  CHECK(agent_text(std::string(1000, 'x'), 256).size() == 256);
  CHECK(agent_text("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9");  // not cut inside a character
  CHECK(agent_text("\xff", 10) == "\xef\xbf\xbd");
}

TEST_CASE("agent tally: counts per agent by outcome, formats, minutes, lists bounded", "[agents]") {
  agent_tally tally(100);
  auto ok = report("fb", 202, 5);
  ok.duplicates = 2;
  ok.format = static_cast<int>(agent_format::json_lines);
  ok.gzip = true;
  for (int i = 0; i < 15; ++i) {
    ok.hostnames.push_back("host-" + std::to_string(i));
  }
  for (int i = 0; i < 25; ++i) {
    ok.services.push_back("svc-" + std::to_string(i));
  }
  tally.record(ok);
  tally.record(ok);
  tally.record(report("fb", 400));
  tally.record(report("fb", 429));
  tally.record(report("fb", 503));
  tally.record(report("other", 401));
  auto d = tally.drain();
  CHECK(d.overflow == 0);
  REQUIRE(d.agents.size() == 2);
  const auto& a = d.agents[0].user_agent == "fb" ? d.agents[0] : d.agents[1];
  const auto& b = d.agents[0].user_agent == "fb" ? d.agents[1] : d.agents[0];
  CHECK(a.id == agent_id("10.1.2.3", "fb"));
  CHECK(a.requests == 5);
  CHECK(a.records == 10);
  CHECK(a.duplicates == 4);
  CHECK(a.refused_4xx == 1);
  CHECK(a.throttled_429 == 1);
  CHECK(a.unavailable_503 == 1);
  CHECK(a.last_status == 503);
  CHECK(a.authenticated);
  CHECK(a.formats[1] == 2);
  CHECK(a.formats[3] == 2);
  CHECK(a.hostnames.size() == kAgentMaxHostnames);
  CHECK(a.services.size() == kAgentMaxServices);
  REQUIRE(a.minutes.size() == 1);
  CHECK(a.minutes.begin()->first == 1000);
  CHECK(a.minutes.begin()->second == 10);
  CHECK_FALSE(b.authenticated);
  CHECK(b.refused_4xx == 1);
  CHECK(tally.drain().agents.empty());  // drained: empty again
}

TEST_CASE("agent tally: at most max_tracked agents per interval, the rest in the overflow",
          "[agents]") {
  agent_tally tally(3);
  for (int i = 0; i < 10; ++i) {
    tally.record(report("ua-" + std::to_string(i), 202, 1));
  }
  tally.record(report("ua-0", 202, 1));  // a tracked agent still counts
  auto d = tally.drain();
  CHECK(d.agents.size() == 3);
  CHECK(d.overflow == 7);
  // The next interval starts over.
  tally.record(report("ua-9", 202, 1));
  d = tally.drain();
  CHECK(d.agents.size() == 1);
  CHECK(d.overflow == 0);
}

TEST_CASE("agent tally: a delta spans at most a few minutes", "[agents]") {
  agent_tally tally(10);
  for (int m = 0; m < 10; ++m) {
    auto r = report("fb", 202, 1);
    r.arrival_ms = int64_t{60000} * m;
    tally.record(r);
  }
  auto d = tally.drain();
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].minutes.size() == kAgentMaxMinutes);
  uint64_t sum = 0;
  for (const auto& [m, n] : d.agents[0].minutes) {
    sum += n;
  }
  CHECK(sum == 10);
}

TEST_CASE("agent tally: a failed flush's deltas go back, merged under the newer ones, bounded",
          "[agents]") {
  agent_tally tally(2);
  tally.record(report("a", 202, 3));
  tally.record(report("b", 429));
  auto failed = tally.drain();
  REQUIRE(failed.agents.size() == 2);
  tally.record(report("a", 400));  // arrived while the flush failed: newer
  tally.record(report("c", 202, 1));
  tally.restore(std::move(failed.agents));
  auto d = tally.drain();
  REQUIRE(d.agents.size() == 2);  // a (merged) and c; b over the bound
  CHECK(d.overflow == 1);         // b's one request
  const auto& a = d.agents[0].user_agent == "a" ? d.agents[0] : d.agents[1];
  CHECK(a.requests == 2);
  CHECK(a.records == 3);
  CHECK(a.refused_4xx == 1);
  CHECK(a.last_status == 400);
  CHECK(a.minutes.begin()->second == 3);
}
