// Redis killed in the middle of a sustained load (docs/RELIABILITY.md, "Redis down"): every
// request still gets an answer, 503 within a bound while Redis is away, the server stays up and
// reconnects by itself when Redis returns, and no acknowledged record is lost or counted twice
// by clustering. The measured figures are printed ("[redis-outage] ...").
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

namespace {

using steady = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

// storage.timeout_ms: the Redis connect and per-command timeout of every server connection.
constexpr int kStorageTimeoutMs = 1000;
// Bound on every 503: storage.timeout_ms + 2 s = 3 s. With Redis killed, a call in flight sees the
// reset and a new connection is refused at once (or skipped during the reconnect backoff), so the
// storage timeout is the most one refusal can cost; 2 s is scheduling slack on a loaded 2-core
// machine. Far below the server's own request deadline (server.request_timeout_seconds, 15 s) and
// the client timeout, so a request that is only ended by those fails here.
constexpr ms k503Bound{kStorageTimeoutMs + 2000};
// The client gives up on a request after this: longer than the server's 15 s request deadline,
// so "no answer" can only mean a hang.
constexpr int kClientTimeoutSeconds = 20;
// After Redis is back: every client's backoff is at most 2 s (storage/redis_client.hpp); 15 s is
// the bound for the server to answer 202 steadily again without any operator action.
constexpr auto kRecoveryBound = std::chrono::seconds(15);

constexpr int kThreads = 4;
constexpr int kPerBatch = 40;  // 30 Java errors with stack traces (level 1), 10 plain messages

std::string config(const redis_process& redis) {
  return R"(
auth: {tokens: [{name: t, token: tok, services: ["*"], default_service: app}]}
storage: {redis: ")" +
         redis.url() + R"(", timeout_ms: )" + std::to_string(kStorageTimeoutMs) + R"(}
rate_limit: {per_minute: 100000000}  # the load must never meet a 429
clustering: {enabled: true}
)";
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<ms>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

// One unique record: thread `t`, sequence `seq`. Three in four are Java errors from one of five
// crash sites (level 1 clusters); the rest are plain messages (template clusters).
std::string record(int t, long seq, const std::string& ts) {
  static const char* services[] = {"orders", "billing", "search", "gateway"};
  static const char* methods[] = {"findById", "charge", "ship", "load", "save"};
  const std::string id = std::to_string(t) + "-" + std::to_string(seq);
  const std::string head = R"({"timestamp":")" + ts + R"(","level":"ERROR","service_id":")" +
                           services[(seq + t) % 4] + R"(","hostname":"host-)" + std::to_string(t) +
                           R"(",)";
  if (seq % 4 == 3) {
    return head + R"("message":"payment )" + id + R"( declined by provider )" +
           std::to_string(seq % 7) + R"("})";
  }
  return head + R"j("message":"request )j" + id +
         R"j( failed","stack_trace":"java.lang.IllegalStateException: order )j" + id +
         R"j( not found\n\tat com.acme.orders.Repo.)j" + methods[seq % 5] +
         "(Repo.java:" + std::to_string(10 + seq % 7) +
         R"j()\n\tat com.acme.orders.Service.handle(Service.java:13))j" +
         R"j(\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"})j";
}

std::string batch(int t, long first_seq) {
  const std::string ts = iso_now();
  std::string b = "[";
  for (long s = first_seq; s < first_seq + kPerBatch; ++s) {
    b += (s > first_seq ? "," : "") + record(t, s, ts);
  }
  return b + "]";
}

struct answer {
  int status = 0;     // 0: no HTTP answer (client timeout, connection error)
  std::string error;  // why there was no answer
  std::string body;
  bool retry_after = false;  // a Retry-After header came with it
  steady::time_point start, end;
  ms elapsed() const { return std::chrono::duration_cast<ms>(end - start); }
};

// One POST on a fresh connection with a client timeout (connect, send and each read).
answer post(int port, const std::string& body) {
  answer a;
  a.start = steady::now();
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(kClientTimeoutSeconds, 0));
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, "/api/v1/ingest/logs",
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.set("Authorization", "Bearer tok");
    req.setContentLength64(static_cast<Poco::Int64>(body.size()));
    session.sendRequest(req).write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse res;
    auto& in = session.receiveResponse(res);
    Poco::StreamCopier::copyToString(in, a.body);
    a.status = res.getStatus();
    a.retry_after = res.has("Retry-After");
  } catch (const Poco::Exception& e) {
    a.error = e.displayText();
  } catch (const std::exception& e) {
    a.error = e.what();
  }
  a.end = steady::now();
  return a;
}

// A 503 body is a JSON object {"status":"error","error":<code>,"message":<text>}. Returns the
// problem, or "" when it is well formed.
std::string bad_error_body(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    const auto obj = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    if (obj->optValue<std::string>("status", "") != "error")
      return "status is not \"error\"";
    if (obj->optValue<std::string>("error", "").empty())
      return "no error code";
    if (obj->optValue<std::string>("message", "").empty())
      return "no message";
  } catch (const std::exception& e) {
    return std::string("not a JSON object: ") + e.what();
  }
  return "";
}

bool mentions_redis(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s.find("redis") != std::string::npos;
}

struct sent_batch {
  std::string body;
  answer first;                 // the answer to its first sending, during the load
  std::vector<answer> resends;  // after the load, when the first answer was a 503
};

long field(const std::string& body, const std::string& key) {
  return json_int(body, key);
}

long redis_long(const redis_process& redis, const std::vector<std::string>& args) {
  const auto v = redis.cmd(args);
  if (v.type == luffy::redis_value::kind::integer)
    return v.integer;
  if (v.type == luffy::redis_value::kind::string)
    return std::stol(v.str);
  return 0;
}

// Sum of `count` over every cluster hash `luffy:cluster:<id>` (not its :minutes, :samples,
// :hosts, :environments sub-keys), found by SCAN, independently of the by_count index.
std::pair<long, long> cluster_hash_counts(const redis_process& redis) {
  long sum = 0, clusters = 0;
  std::string cursor = "0";
  const std::string prefix = luffy::cluster_key("luffy", "");
  do {
    const auto r = redis.cmd({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    REQUIRE(r.elements.size() == 2);
    cursor = r.elements[0].str;
    for (const auto& k : r.elements[1].elements) {
      if (k.str.find(':', prefix.size()) != std::string::npos)
        continue;  // a sub-key
      const auto c = redis.cmd({"HGET", k.str, "count"});
      REQUIRE(c.type == luffy::redis_value::kind::string);
      sum += std::stol(c.str);
      ++clusters;
    }
  } while (cursor != "0");
  return {sum, clusters};
}

long by_count_sum(const redis_process& redis) {
  long sum = 0;
  const auto r =
      redis.cmd({"ZRANGE", luffy::clusters_index_key("luffy", "count"), "0", "-1", "WITHSCORES"});
  for (size_t i = 1; i < r.elements.size(); i += 2)
    sum += std::stol(r.elements[i].str);
  return sum;
}

double secs(steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Journal entries still waiting in `luffy:journal:<n>` (every shard stream), and attempt
// counters left in `luffy:journal:<n>:attempts`.
std::pair<long, long> journal_left(const redis_process& redis) {
  long entries = 0, attempts = 0;
  for (const auto& k : redis.cmd({"KEYS", luffy::journal_streams_pattern("luffy")}).elements) {
    const std::string type = redis.cmd({"TYPE", k.str}).str;
    if (type == "stream")
      entries += redis_long(redis, {"XLEN", k.str});
    else if (type == "hash")
      attempts += redis_long(redis, {"HLEN", k.str});
  }
  return {entries, attempts};
}

// Waits until clustering has applied everything journaled: no journal entry left and `processed`
// unchanged over 1.5 s (at least one sweep). Returns `processed`.
long settle(const redis_process& redis, double& took) {
  const auto started = steady::now();
  long last = -1;
  while (steady::now() - started < std::chrono::seconds(90)) {
    const long now = redis_long(redis, {"HGET", luffy::stats_key("luffy"), "processed"});
    if (journal_left(redis).first == 0 && now == last)
      break;
    last = now;
    std::this_thread::sleep_for(ms(1500));
  }
  took = secs(steady::now() - started);
  return redis_long(redis, {"HGET", luffy::stats_key("luffy"), "processed"});
}

}  // namespace

TEST_CASE("Redis killed mid-load: bounded 503s, reconnect, no acknowledged record lost or doubled",
          "[outage]") {
  // appendfsync always, as docs/CONFIGURATION.md asks of an external Redis: a reply is sent only
  // after its write is in the AOF, so a SIGKILL cannot lose what Redis acknowledged to the server.
  redis_process redis({"--appendfsync", "always"});
  server_process server(config(redis));
  REQUIRE(server.wait_ready());
  const int port = server.port();

  std::atomic<bool> stop_load{false};
  std::atomic<int64_t> up_at_ns{0};   // steady time Redis answered again (0: not yet)
  std::atomic<int> streak[kThreads];  // consecutive 202s to requests sent after up_at_ns
  std::vector<std::vector<sent_batch>> sent(kThreads);
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    streak[t] = 0;
    clients.emplace_back([&, t] {
      long seq = 0;
      while (!stop_load) {
        sent_batch b;
        b.body = batch(t, seq);
        seq += kPerBatch;
        b.first = post(port, b.body);
        const int64_t up = up_at_ns.load();
        if (up != 0 && b.first.start.time_since_epoch().count() >= up) {
          streak[t] = b.first.status == 202 ? streak[t] + 1 : 0;
        }
        const bool refused = b.first.status != 202;
        sent[t].push_back(std::move(b));
        // A refused agent waits before its next chunk (Fluent Bit waits seconds); keep it short.
        std::this_thread::sleep_for(ms(refused ? 100 : 5));
      }
    });
  }
  struct join_all {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~join_all() {
      stop = true;
      for (auto& th : threads)
        if (th.joinable())
          th.join();
    }
  } joiner{stop_load, clients};

  // 1. Load with Redis up.
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // 2. Abrupt outage: SIGKILL, no shutdown.
  const auto kill_started = steady::now();
  redis.kill();
  const auto down_at = steady::now();  // Redis is reaped: nothing it answers after this
  bool health_ok = true, saw_not_ready = false;
  ms health_max{0};
  while (steady::now() - down_at < std::chrono::seconds(4)) {
    const auto h0 = steady::now();
    const auto h = server.get("/health");
    health_max = std::max(health_max, std::chrono::duration_cast<ms>(steady::now() - h0));
    health_ok = health_ok && h.status == 200;
    saw_not_ready = saw_not_ready || server.get("/ready").status == 503;
    REQUIRE(process_alive(server.pid()));
    std::this_thread::sleep_for(ms(250));
  }
  REQUIRE(process_alive(server.pid()));

  // 3. Redis back on the same port and data directory (AOF replayed).
  const auto restart_started = steady::now();
  redis.start();
  const auto up_at = steady::now();
  up_at_ns = up_at.time_since_epoch().count();
  // Keep the load going until every client has had 5 consecutive 202s to requests sent after
  // Redis came back (or the recovery bound plus 5 s has passed: then the assertions below fail).
  while (steady::now() - up_at < kRecoveryBound + std::chrono::seconds(5)) {
    bool all = true;
    for (int t = 0; t < kThreads; ++t)
      all = all && streak[t] >= 5;
    if (all)
      break;
    std::this_thread::sleep_for(ms(50));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop_load = true;
  for (auto& th : clients)
    th.join();
  const bool ready_again = server.wait_ready(20);
  REQUIRE(process_alive(server.pid()));

  // 4. Every answer of the load.
  long requests = 0, accepted_before = 0, refused = 0, outage_requests = 0;
  long acknowledged = 0;  // records in the `accepted_count` of 202 answers to first sendings
  ms max_503{0}, max_outage_503{0};
  std::optional<steady::time_point> first_202_after_up, last_refusal_after_up;
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& b : sent[t]) {
      const auto& a = b.first;
      ++requests;
      INFO("thread " << t << ", request sent " << secs(a.start - kill_started)
                     << " s after the kill: " << a.status << " in " << a.elapsed().count() << " ms "
                     << a.error << " " << a.body);
      // Every request gets an answer: no client timeout, no connection error, no hang.
      REQUIRE(a.status != 0);
      REQUIRE((a.status == 202 || a.status == 503));
      if (a.status == 202) {
        // Unique records, no rate limit: every one is new.
        REQUIRE(field(a.body, "received_count") == kPerBatch);
        REQUIRE(field(a.body, "accepted_count") == kPerBatch);
        REQUIRE(field(a.body, "duplicate_count") == 0);
        acknowledged += field(a.body, "accepted_count");
        accepted_before += a.end < kill_started ? 1 : 0;
        if (a.start >= up_at && (!first_202_after_up || a.end < *first_202_after_up))
          first_202_after_up = a.end;
      } else {
        ++refused;
        CHECK(bad_error_body(a.body) == "");
        CHECK(a.retry_after);
        CHECK(a.elapsed() <= k503Bound);
        max_503 = std::max(max_503, a.elapsed());
        if (a.start >= up_at && (!last_refusal_after_up || a.end > *last_refusal_after_up))
          last_refusal_after_up = a.end;
      }
      if (a.start >= down_at && a.start < restart_started) {
        // Sent while Redis was dead: refused, within the bound, naming the problem.
        ++outage_requests;
        REQUIRE(a.status == 503);
        CHECK(mentions_redis(a.body));
        max_outage_503 = std::max(max_outage_503, a.elapsed());
      }
    }
  }
  REQUIRE(accepted_before > 0);   // the load was flowing before the outage
  REQUIRE(outage_requests >= 8);  // and kept going through it
  CHECK(health_ok);               // /health answers while Redis is down
  CHECK(health_max <= ms(3000));
  CHECK(saw_not_ready);  // /ready reports the outage
  CHECK(ready_again);
  // Recovery without an operator: 202 again, and the last refusal within the bound.
  REQUIRE(first_202_after_up.has_value());
  for (int t = 0; t < kThreads; ++t)
    CHECK(streak[t] >= 5);
  const auto recovered_at = std::max(*first_202_after_up, last_refusal_after_up.value_or(up_at));
  CHECK(recovered_at - up_at <= kRecoveryBound);

  // 5. Before anything is resent: clustering holds exactly the acknowledged records (plus any
  // record a refused request stored anyway, which step 6 identifies).
  double settle_before = 0;
  const long processed_before = settle(redis, settle_before);
  const long cluster_sum_before = cluster_hash_counts(redis).first;

  // 6. A refused chunk is what Fluent Bit resends. Nothing of it was marked seen, so the resend
  // is accepted; the resend's duplicate_count names any record a refused request stored anyway
  // (Redis applied the commit and died before its reply reached the server: the server could not
  // know, it refused, and the dedup makes the retry count once).
  long resent_accepted = 0, resent_duplicates = 0, total_records = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (auto& b : sent[t]) {
      total_records += kPerBatch;
      if (b.first.status == 202)
        continue;
      for (int i = 0; i < 50; ++i) {
        b.resends.push_back(post(port, b.body));
        if (b.resends.back().status == 202)
          break;
        std::this_thread::sleep_for(ms(200));
      }
      const auto& r = b.resends.back();
      INFO(r.status << " " << r.error << " " << r.body);
      REQUIRE(r.status == 202);
      REQUIRE(field(r.body, "accepted_count") + field(r.body, "duplicate_count") == kPerBatch);
      resent_accepted += field(r.body, "accepted_count");
      resent_duplicates += field(r.body, "duplicate_count");
    }
  }
  // Every record sent is now acknowledged exactly once: as accepted, or as already stored.
  const long expected = acknowledged + resent_accepted + resent_duplicates;
  REQUIRE(expected == total_records);

  // 7. Clustering catches up again; the counts are exact: nothing lost, nothing counted twice.
  double settle_after = 0;
  const long processed = settle(redis, settle_after);
  const auto [cluster_sum, clusters] = cluster_hash_counts(redis);
  const long index_sum = by_count_sum(redis);
  const auto [entries_left, attempts_left] = journal_left(redis);
  const long dead_lettered = redis_long(redis, {"XLEN", luffy::dead_letter_stream_key("luffy")});

  std::printf(
      "[redis-outage] %ld requests (%ld refused, %ld sent during the outage), 503 max %lld ms "
      "(during the outage %lld ms, bound %lld ms); /health max %lld ms; first 202 %.2f s and "
      "recovered %.2f s after Redis was back; before resending: acknowledged %ld, processed %ld, "
      "cluster counts %ld (settled in %.1f s); resent %ld records (%ld already stored); final: "
      "expected %ld, processed %ld, sum of cluster counts %ld over %ld clusters (by_count %ld), "
      "journal entries left %ld, attempt counters %ld, dead-lettered %ld (settled in %.1f s)\n",
      requests, refused, outage_requests, static_cast<long long>(max_503.count()),
      static_cast<long long>(max_outage_503.count()), static_cast<long long>(k503Bound.count()),
      static_cast<long long>(health_max.count()), secs(*first_202_after_up - up_at),
      secs(recovered_at - up_at), acknowledged, processed_before, cluster_sum_before, settle_before,
      resent_accepted + resent_duplicates, resent_duplicates, expected, processed, cluster_sum,
      clusters, index_sum, entries_left, attempts_left, dead_lettered, settle_after);
  std::fflush(stdout);

  // Nothing acknowledged before or during the outage was lost or counted twice.
  CHECK(processed_before == acknowledged + resent_duplicates);
  CHECK(cluster_sum_before == acknowledged + resent_duplicates);
  CHECK(processed == expected);
  CHECK(cluster_sum == expected);
  CHECK(index_sum == expected);
  CHECK(entries_left == 0);
  CHECK(attempts_left == 0);
  CHECK(dead_lettered == 0);
  CHECK(process_alive(server.pid()));
}
