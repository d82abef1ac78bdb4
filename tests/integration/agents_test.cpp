// The sending agents (GET /api/v1/agents, docs/API.md "Agents"): every request counted for its
// agent (client address + User-Agent) with its outcome, flushed to Redis once per second; the
// silence check's agent_silent / agent_back events, once per transition; what each token sees.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

namespace {

const char* kYaml = R"(
auth:
  tokens:
    - {name: admin, token: adm, services: ["*"], admin: true}
    - {name: team-a, token: ta, services: [checkout]}
    - {name: team-b, token: tb, services: [billing, noisy]}
rate_limit:
  per_minute: 100000
  services: {noisy: 2}
agents: {silent_after_seconds: 2}
)";

std::string records(const std::string& service, const std::string& host, int n, int offset,
                    bool lines) {
  std::string b = lines ? "" : "[";
  for (int i = 0; i < n; ++i) {
    const std::string r = R"({"message":"agent test )" + std::to_string(offset + i) +
                          R"(","timestamp":"2026-01-01T00:00:00Z","service_id":")" + service +
                          R"(","hostname":")" + host + R"("})";
    b += lines ? r + "\n" : std::string(i ? "," : "") + r;
  }
  return lines ? b : b + "]";
}

http_call with_agent(http_call c, const std::string& user_agent) {
  c.headers.emplace_back("User-Agent", user_agent);
  return c;
}

// One ingest request over a socket bound to `source` (another loopback address: another agent),
// as NDJSON; returns the status.
int post_from(int port, const char* source, const std::string& user_agent, const std::string& token,
              const std::string& body) {
  const int fd = connect_loopback(port, source);
  REQUIRE(fd >= 0);
  const std::string req =
      "POST /api/v1/ingest/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      token + "\r\nUser-Agent: " + user_agent +
      "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  const std::string reply = exchange_until_close(fd, req);
  REQUIRE(reply.size() > 12);
  return std::stoi(reply.substr(9, 3));
}

Poco::JSON::Object::Ptr get_json(const server_process& server, const std::string& path,
                                 const std::string& token) {
  auto r = server.call(api_call("GET", path, token));
  INFO(r.body);
  REQUIRE(r.status == 200);
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

// The agent with this User-Agent in a page, or null.
Poco::JSON::Object::Ptr find_agent(const Poco::JSON::Object::Ptr& page, const std::string& ua) {
  auto list = page->getArray("agents");
  for (size_t i = 0; i < list->size(); ++i) {
    auto a = list->getObject(static_cast<unsigned>(i));
    if (a->getValue<std::string>("user_agent") == ua) {
      return a;
    }
  }
  return nullptr;
}

long num(const Poco::JSON::Object::Ptr& a, const std::string& key) {
  return a->getValue<long>(key);
}

// Events of `type` for agent `id` in <prefix>:events.
int events_of(const redis_process& redis, const std::string& type, const std::string& id) {
  int n = 0;
  for (const auto& e : stream_entries(redis, "luffy:events")) {
    auto t = e.find("type");
    auto a = e.find("agent_id");
    if (t != e.end() && t->second == type && a != e.end() && a->second == id) {
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("agents: counts per agent, what each token sees, silent and back once", "[agents]") {
  redis_process redis;
  server_process server(kYaml + journal_only_yaml(redis));
  const std::string ua_a = "Fluent-Bit/4.2.8", ua_b = "Fluent-Bit/3.0.0", ua_c = "bad-token/1.0";

  // Agent A (127.0.0.1): 3 records, the same request again (its retry: duplicates), a malformed
  // body (a chunk Fluent Bit drops).
  const std::string body_a = records("checkout", "node-a", 3, 0, false);
  REQUIRE(server.call(with_agent(ingest_post(body_a, "adm"), ua_a)).status == 202);
  auto replay = server.call(with_agent(ingest_post(body_a, "adm"), ua_a));
  REQUIRE(replay.status == 202);
  REQUIRE(json_int(replay.body, "duplicate_count") == 3);
  REQUIRE(server.call(with_agent(ingest_post("[{\"message\":", "adm"), ua_a)).status == 400);

  // Agent B (127.0.0.2, NDJSON): 2 billing records; 3 noisy ones (2 admitted, 1 over the limit);
  // then noisy only: 429.
  const int port = server.port();
  REQUIRE(post_from(port, "127.0.0.2", ua_b, "tb", records("billing", "node-b", 2, 10, true)) ==
          202);
  REQUIRE(post_from(port, "127.0.0.2", ua_b, "tb", records("noisy", "node-b", 3, 20, true)) == 202);
  REQUIRE(post_from(port, "127.0.0.2", ua_b, "tb", records("noisy", "node-b", 2, 30, true)) == 429);

  // Agent C: a bad token (401), which an operator wants to see.
  REQUIRE(server.call(with_agent(ingest_post(body_a, "wrong"), ua_c)).status == 401);

  Poco::JSON::Object::Ptr page;
  REQUIRE(eventually([&] {
    page = get_json(server, "/api/v1/agents", "adm");
    auto a = find_agent(page, ua_a), b = find_agent(page, ua_b), c = find_agent(page, ua_c);
    return a && b && c && num(a, "requests") == 3 && num(b, "requests") == 3 &&
           num(c, "requests") == 1;
  }));
  CHECK(page->getValue<long>("silent_after_seconds") == 2);
  auto a = find_agent(page, ua_a);
  auto b = find_agent(page, ua_b);
  auto c = find_agent(page, ua_c);
  CHECK(a->getValue<std::string>("address") == "127.0.0.1");
  CHECK(a->getValue<std::string>("id").size() == 16);
  CHECK(num(a, "records") == 3);
  CHECK(num(a, "duplicates") == 3);
  CHECK(num(a, "refused_4xx") == 1);
  CHECK(num(a, "throttled_429") == 0);
  CHECK(num(a, "last_status") == 400);
  CHECK(a->getObject("formats")->getValue<long>("json") == 3);
  CHECK(a->getArray("hostnames")->getElement<std::string>(0) == "node-a");
  CHECK(a->getArray("services")->getElement<std::string>(0) == "checkout");
  CHECK(a->getArray("per_minute")->size() == 60);
  long in_minutes = 0;
  for (size_t i = 0; i < 60; ++i) {
    in_minutes += a->getArray("per_minute")->getElement<long>(static_cast<unsigned>(i));
  }
  CHECK(in_minutes == 3);
  CHECK(a->getValue<double>("records_per_minute") == Approx(0.6));
  CHECK_FALSE(a->getValue<bool>("silent"));
  CHECK(a->getValue<std::string>("last_seen").size() == 24);  // 2026-12-05T09:10:00.000Z

  CHECK(b->getValue<std::string>("address") == "127.0.0.2");
  CHECK(num(b, "records") == 4);
  CHECK(num(b, "throttled_429") == 1);
  CHECK(num(b, "refused_4xx") == 0);
  CHECK(num(b, "last_status") == 429);
  CHECK(b->getObject("formats")->getValue<long>("json_lines") == 3);
  CHECK(b->getArray("services")->size() == 2);

  CHECK(num(c, "refused_4xx") == 1);
  CHECK(num(c, "last_status") == 401);
  CHECK(num(c, "records") == 0);
  CHECK(c->getArray("services")->size() == 0);

  // A token sees the agents that sent one of its services; an agent with none (C) only admins.
  auto seen_a = get_json(server, "/api/v1/agents", "ta");
  CHECK(seen_a->getArray("agents")->size() == 1);
  CHECK(find_agent(seen_a, ua_a));
  auto seen_b = get_json(server, "/api/v1/agents", "tb");
  CHECK(seen_b->getArray("agents")->size() == 1);
  CHECK(find_agent(seen_b, ua_b));

  // Pages of one, by cursor: three distinct agents, then the end.
  std::set<std::string> ids;
  std::string cursor;
  for (int i = 0; i < 4; ++i) {
    auto p = get_json(
        server, "/api/v1/agents?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor), "adm");
    for (size_t k = 0; k < p->getArray("agents")->size(); ++k) {
      ids.insert(
          p->getArray("agents")->getObject(static_cast<unsigned>(k))->getValue<std::string>("id"));
    }
    if (p->isNull("next_cursor")) {
      break;
    }
    cursor = p->getValue<std::string>("next_cursor");
  }
  CHECK(ids.size() == 3);

  // Hostile parameters: 400 naming the problem.
  for (const std::string q : {"limit=0", "limit=501", "limit=abc", "silent=maybe", "cursor=xyz",
                              "cursor=12-zzzzzzzzzzzzzzzz", "cursor=-1-0123456789abcdef"}) {
    auto r = server.call(api_call("GET", "/api/v1/agents?" + q, "adm"));
    INFO(q << " " << r.body);
    CHECK(r.status == 400);
    CHECK(json_str(r.body, "error") == "bad_parameter");
  }
  CHECK(server.call(api_call("GET", "/api/v1/agents", "")).status == 401);

  // Silence: no request for 2 s, flagged by the check, ONE agent_silent event.
  const std::string id_a = a->getValue<std::string>("id");
  REQUIRE(eventually(
      [&] {
        auto p = get_json(server, "/api/v1/agents?silent=true", "adm");
        auto s = find_agent(p, ua_a);
        return s && s->getValue<bool>("silent");
      },
      std::chrono::seconds(15), std::chrono::milliseconds(200)));
  CHECK(events_of(redis, "agent_silent", id_a) == 1);
  CHECK(!find_agent(get_json(server, "/api/v1/agents?silent=false", "adm"), ua_a));
  for (const auto& e : stream_entries(redis, "luffy:events")) {
    if (e.count("agent_id") && e.at("agent_id") == id_a) {
      CHECK(e.at("address") == "127.0.0.1");
      CHECK(e.at("user_agent") == ua_a);
      CHECK(e.at("hostnames") == "[\"node-a\"]");
      CHECK(e.at("services") == "[\"checkout\"]");
      CHECK(std::stoll(e.at("last_seen_ms")) > 1700000000000LL);
    }
  }
  auto metrics = server.get("/metrics");
  CHECK(metrics.body.find("luffy_ingest_agents_known 3") != std::string::npos);
  CHECK(metrics.body.find("luffy_ingest_agents_silent") != std::string::npos);
  CHECK(metrics.body.find("luffy_ingest_agents_overflow_total 0") != std::string::npos);

  // It sends again: silent=false and ONE agent_back; still one agent_silent.
  REQUIRE(
      server.call(with_agent(ingest_post(records("checkout", "node-a", 1, 50, false), "adm"), ua_a))
          .status == 202);
  REQUIRE(eventually([&] {
    auto s = find_agent(get_json(server, "/api/v1/agents", "adm"), ua_a);
    return s && !s->getValue<bool>("silent") && num(s, "records") == 4;
  }));
  CHECK(events_of(redis, "agent_back", id_a) == 1);
  CHECK(events_of(redis, "agent_silent", id_a) == 1);
}

TEST_CASE("agents: beyond max_tracked per interval, requests go to the overflow counter",
          "[agents]") {
  redis_process redis;
  server_process server(R"(
auth: {tokens: [{name: admin, token: adm, services: ["*"], admin: true}]}
agents: {max_tracked: 2}
)" + journal_only_yaml(redis));
  for (int i = 0; i < 6; ++i) {
    // A bad token each: 401, counted (refused_4xx) for at most max_tracked agents.
    server.call(with_agent(ingest_post("[]", "wrong"), "flood/" + std::to_string(i)));
  }
  REQUIRE(eventually([&] {
    auto m = server.get("/metrics").body;
    return m.find("luffy_ingest_agents_overflow_total 4") != std::string::npos &&
           m.find("luffy_ingest_agents_known 2") != std::string::npos;
  }));
  // Without a valid token no new agent is made once max_tracked are known, across intervals.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  server.call(with_agent(ingest_post("[]", "wrong"), "flood/late"));
  REQUIRE(eventually([&] {
    return server.get("/metrics").body.find("luffy_ingest_agents_overflow_total 5") !=
           std::string::npos;
  }));
  auto page = get_json(server, "/api/v1/agents", "adm");
  CHECK(page->getArray("agents")->size() == 2);
}

TEST_CASE("agents: 503s while Redis is away are counted once it is back", "[agents]") {
  redis_process redis;
  server_process server(R"(
auth: {tokens: [{name: admin, token: adm, services: ["*"], admin: true}]}
storage: {timeout_ms: 500}
)" + journal_only_yaml(redis));
  const std::string ua = "Fluent-Bit/4.2.8";
  REQUIRE(
      server.call(with_agent(ingest_post(records("checkout", "node-a", 2, 0, false), "adm"), ua))
          .status == 202);
  REQUIRE(eventually([&] {
    auto a = find_agent(get_json(server, "/api/v1/agents", "adm"), ua);
    return a && num(a, "records") == 2;
  }));
  redis.kill();
  // The ingest path answers 503 (its data waits in the agent's buffer); the tracker's flushes
  // fail and keep the counts.
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    const auto r = server.call(
        with_agent(ingest_post(records("checkout", "node-a", 1, 10 + i, false), "adm"), ua));
    refused += r.status == 503;
  }
  REQUIRE(refused == 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  redis.start();
  Poco::JSON::Object::Ptr a;
  REQUIRE(eventually([&] {
    auto r = server.call(api_call("GET", "/api/v1/agents", "adm"));
    if (r.status != 200) {
      return false;
    }
    a = find_agent(Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>(), ua);
    return a && num(a, "unavailable_503") == 3;
  }));
  CHECK(num(a, "requests") == 4);
  CHECK(num(a, "records") == 2);
  CHECK(num(a, "last_status") == 503);
  CHECK(server.get("/metrics").body.find("luffy_ingest_agents_flush_failures_total 0") ==
        std::string::npos);
}
