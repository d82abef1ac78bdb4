// The notifier (actors/notifier.cpp): the real server and Redis, webhooks of every format pointing
// at a local receiver (Poco HTTPServer on 127.0.0.1) that records each POST and can be told to
// answer 503 to the next requests or to hang. New clusters, de-dup, regressions, digests,
// retries, restarts and the secrecy of webhook URLs.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;
using namespace std::chrono_literals;

namespace {

// A webhook receiver: records every POST (path, body, the status it answered); per path it can
// answer `fail_status` to the next `fail` requests, or hang (hold the request) until released.
class webhook_receiver {
 public:
  struct request {
    std::string path, body;
    int status = 0;
  };

  webhook_receiver() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new factory(*this), socket_, params);
    server_->start();
  }
  ~webhook_receiver() {
    {
      std::lock_guard lock(mutex_);
      hang_.clear();
      cv_.notify_all();
    }
    server_->stopAll(true);
  }
  int port() const { return socket_.address().port(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }

  void fail_next(const std::string& path, int n, int status = 503) {
    std::lock_guard lock(mutex_);
    fail_[path] = {n, status};
  }
  void hang(const std::string& path, bool on) {
    std::lock_guard lock(mutex_);
    if (on) {
      hang_.insert({path, true});
    } else {
      hang_.erase(path);
    }
    cv_.notify_all();
  }
  // Every request to `path`, answered 2xx only when `accepted`.
  std::vector<request> requests(const std::string& path, bool accepted = true) const {
    std::lock_guard lock(mutex_);
    std::vector<request> out;
    for (const auto& r : log_) {
      if (r.path == path && (!accepted || r.status == 200)) {
        out.push_back(r);
      }
    }
    return out;
  }
  size_t count(const std::string& path) const { return requests(path).size(); }

 private:
  struct handler : Poco::Net::HTTPRequestHandler {
    explicit handler(webhook_receiver& r) : rx(r) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& res) override {
      request r;
      r.path = req.getURI();
      Poco::StreamCopier::copyToString(req.stream(), r.body);
      {
        std::unique_lock lock(rx.mutex_);
        // Hanging: hold the request (at most 20 s) until released.
        rx.cv_.wait_for(lock, 20s, [&] { return rx.hang_.count(r.path) == 0; });
        r.status = 200;
        if (auto it = rx.fail_.find(r.path); it != rx.fail_.end() && it->second.first > 0) {
          --it->second.first;
          r.status = it->second.second;
        }
        rx.log_.push_back(r);
      }
      res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
      if (r.status == 503) {
        res.set("Retry-After", "1");
      }
      res.setContentLength(2);
      res.send() << "ok";
    }
    webhook_receiver& rx;
  };
  struct factory : Poco::Net::HTTPRequestHandlerFactory {
    explicit factory(webhook_receiver& r) : rx(r) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new handler(rx);
    }
    webhook_receiver& rx;
  };

  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, std::pair<int, int>> fail_;
  std::map<std::string, bool> hang_;
  std::vector<request> log_;
};

// A record whose stack trace makes its own cluster (one per `n`), `message` free to vary.
std::string record(const std::string& service, int n, const std::string& message = "failed") {
  return R"j({"level":"ERROR","service_id":")j" + service + R"j(","message":")j" + message +
         R"j(","stack_trace":"java.lang.IllegalStateException: boom\n\tat com.acme.Svc.op)j" +
         std::to_string(n) + R"j((Svc.java:12)\n\tat com.acme.Main.run(Main.java:40)"})j";
}

// The value of `"key":"..."` in a JSON body.
std::string field(const std::string& body, const std::string& key) {
  return json_str(body, key);
}

// The sum of a Prometheus series (exact name with labels) in a /metrics body, -1 when absent.
long metric(const std::string& body, const std::string& series) {
  const auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stol(body.substr(at + series.size() + 2));
}

const std::string json_path = "/hooks/json/SECRET-json-5f1e";
const std::string slack_path = "/services/T000/B000/SECRET-slack-9c2d";
const std::string chat_path = "/v1/spaces/AAA/messages?key=K&token=SECRET-chat-3a7b";

std::string notifier_yaml(const webhook_receiver& rx, const redis_process& redis,
                          const std::string& extra = "") {
  return R"(auth:
  tokens:
    - {name: all, token: tok, services: ["*"], admin: true}
actors: {cluster_shards: 1}
notifications:
  webhooks:
    - {name: json-hook, url: ")" +
         rx.url(json_path) + R"(", format: json}
    - {name: slack-hook, url: ")" +
         rx.url(slack_path) + R"(", format: slack, services: ["check*"]}
    - {name: chat-hook, url: "${LUFFY_TEST_CHAT_URL}", format: google_chat}
  dedup_seconds: 3600
  digest_threshold: 5
  max_attempts: 4
  timeout_ms: 2000
)" + extra +
         storage_yaml(redis);
}

}  // namespace

TEST_CASE("notifier: new clusters, de-dup, regressions, digests, retries, restarts, secrecy",
          "[notifier]") {
  redis_process redis;
  webhook_receiver rx;
  server_process server(notifier_yaml(rx, redis), {}, {{"LUFFY_TEST_CHAT_URL", rx.url(chat_path)}});
  // The notifier takes its lease and sets its cursor at the stream's end before anything counts.
  REQUIRE(eventually([&] { return !redis.cmd({"GET", "luffy:notifier:cursor"}).str.empty(); }));
  CHECK(redis.cmd({"GET", "luffy:notifier:lease"}).str.size() > 0);

  // One new cluster: one POST per webhook, in its format.
  REQUIRE(server.call(ingest_post("[" + record("checkout", 1) + "]")).status == 202);
  REQUIRE(eventually([&] {
    return rx.count(json_path) == 1 && rx.count(slack_path) == 1 && rx.count(chat_path) == 1;
  }));
  const auto json = rx.requests(json_path)[0].body;
  INFO(json);
  CHECK(json.rfind(R"({"kind":"event","event":{"type":"new_cluster",)", 0) == 0);
  CHECK(field(json, "service_id") == "checkout");
  const std::string cluster = field(json, "cluster_id");
  REQUIRE_FALSE(cluster.empty());
  const auto slack = rx.requests(slack_path)[0].body;
  CHECK(slack.rfind(R"({"text":"[checkout] new cluster: )", 0) == 0);
  CHECK(slack.find("(cluster " + cluster + ")") != std::string::npos);
  CHECK(rx.requests(chat_path)[0].body.rfind(R"({"text":"[checkout] new cluster: )", 0) == 0);

  // The same error again (the same cluster): no new event, no new POST.
  REQUIRE(server.call(ingest_post("[" + record("checkout", 1, "failed again") + "]")).status ==
          202);
  REQUIRE(wait_processed(redis, 2));
  std::this_thread::sleep_for(1500ms);
  CHECK(rx.count(json_path) == 1);
  CHECK(rx.count(slack_path) == 1);

  // Resolved, then seen again: one regression per webhook.
  auto resolve = [&] {
    const auto r = server.call(api_call("POST", "/api/v1/clusters/" + cluster + "/resolve", "tok"));
    INFO(r.body);
    REQUIRE(r.status == 200);
  };
  resolve();
  REQUIRE(server.call(ingest_post("[" + record("checkout", 1, "back") + "]")).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 2 && rx.count(chat_path) == 2; }));
  CHECK(field(rx.requests(json_path)[1].body, "type") == "regression");
  CHECK(field(rx.requests(json_path)[1].body, "cluster_id") == cluster);
  CHECK(rx.requests(chat_path)[1].body.rfind(R"({"text":"[checkout] regression: )", 0) == 0);
  REQUIRE(eventually([&] { return rx.count(slack_path) == 2; }));

  // A second regression of the cluster within dedup_seconds: suppressed, counted.
  resolve();
  REQUIRE(server.call(ingest_post("[" + record("checkout", 1, "back again") + "]")).status == 202);
  REQUIRE(wait_processed(redis, 4));
  CHECK(eventually([&] {
    return metric(
               server.get("/metrics").body,
               R"(luffy_ingest_notifications_suppressed_total{webhook="json-hook",format="json"})") ==
           1;
  }));
  std::this_thread::sleep_for(1000ms);
  CHECK(rx.count(json_path) == 2);

  // A burst of more than digest_threshold (5) new clusters: one digest per webhook. The slack
  // webhook only takes check* services: 3 of them, under the threshold, sent one by one.
  std::string burst = "[";
  for (int i = 0; i < 8; ++i) {
    burst += (i ? "," : "") + record(i < 3 ? "checkout" : "billing", 100 + i);
  }
  burst += "]";
  REQUIRE(server.call(ingest_post(burst)).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 3 && rx.count(chat_path) == 3; }));
  const auto digest = rx.requests(json_path)[2].body;
  INFO(digest);
  CHECK(digest.rfind(R"({"kind":"digest","count":8,"by_type":{"new_cluster":8},)"
                     R"("by_service":{"billing":5,"checkout":3},)",
                     0) == 0);
  CHECK(rx.requests(chat_path)[2].body.rfind(R"({"text":"8 cluster events (8 new cluster))", 0) ==
        0);
  REQUIRE(eventually([&] { return rx.count(slack_path) == 5; }));
  std::this_thread::sleep_for(1000ms);
  CHECK(rx.count(json_path) == 3);  // nothing but the digest
  CHECK(rx.count(slack_path) == 5);
  const auto metrics = server.get("/metrics").body;
  CHECK(metric(metrics,
               R"(luffy_ingest_notifications_digests_total{webhook="json-hook",format="json"})") ==
        1);
  CHECK(metric(metrics,
               R"(luffy_ingest_notifications_sent_total{webhook="slack-hook",format="slack"})") ==
        5);

  // The receiver answers 503 twice: the event arrives with the third attempt (Retry-After 1 s).
  rx.fail_next(json_path, 2, 503);
  REQUIRE(server.call(ingest_post("[" + record("checkout", 200) + "]")).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 4; }, 20s));
  CHECK(rx.requests(json_path, false).size() == 6);  // 4 accepted + 2 refused
  CHECK(field(rx.requests(json_path)[3].body, "type") == "new_cluster");
  CHECK(eventually([&] {
    return metric(
               server.get("/metrics").body,
               R"(luffy_ingest_notifications_retries_total{webhook="json-hook",format="json"})") ==
           2;
  }));
  REQUIRE(eventually([&] { return rx.count(chat_path) == 4 && rx.count(slack_path) == 6; }));
  const auto ingest_metrics = server.get("/api/v1/ingest/metrics").body;
  CHECK(ingest_metrics.find(R"("json-hook":{"format":"json","sent":4,"failed":0,"retries":2,)") !=
        std::string::npos);

  // A restart resends nothing, and what comes after it is sent once.
  server.stop();
  server.start();
  std::this_thread::sleep_for(2000ms);
  CHECK(rx.count(json_path) == 4);
  CHECK(rx.count(slack_path) == 6);
  CHECK(rx.count(chat_path) == 4);
  REQUIRE(server.call(ingest_post("[" + record("checkout", 300) + "]")).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 5 && rx.count(chat_path) == 5; }));
  std::this_thread::sleep_for(1000ms);
  CHECK(rx.count(json_path) == 5);

  // The webhook URLs' secret paths never reach the log; their redacted form does.
  const std::string log = server.log();
  CHECK(log.find("notifier: webhook json-hook (json, http://127.0.0.1:" +
                 std::to_string(rx.port()) + "/…)") != std::string::npos);
  for (const auto* secret : {"SECRET-json", "SECRET-slack", "SECRET-chat", "/hooks/json",
                             "/services/T000", "/v1/spaces"}) {
    INFO(secret);
    CHECK(log.find(secret) == std::string::npos);
  }
}

TEST_CASE("notifier: a hanging webhook delays neither the others nor ingest", "[notifier]") {
  redis_process redis;
  webhook_receiver rx;
  rx.hang(json_path, true);
  server_process server(notifier_yaml(rx, redis), {}, {{"LUFFY_TEST_CHAT_URL", rx.url(chat_path)}});
  REQUIRE(eventually([&] { return !redis.cmd({"GET", "luffy:notifier:cursor"}).str.empty(); }));
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(server.call(ingest_post("[" + record("checkout", 400 + i) + "]")).status == 202);
    CHECK(seconds_since(started) < 1.0);
  }
  REQUIRE(eventually([&] { return rx.count(chat_path) == 3 && rx.count(slack_path) == 3; }, 10s));
  CHECK(rx.count(json_path) == 0);
  rx.hang(json_path, false);
  // Each hung attempt timed out (timeout_ms 2000) and is retried: all three arrive.
  CHECK(eventually([&] { return rx.count(json_path) >= 3; }, 30s));
}

TEST_CASE("notifier: two nodes on one Redis post each event once, the survivor takes over",
          "[notifier]") {
  redis_process redis;
  webhook_receiver rx;
  const std::vector<std::pair<std::string, std::string>> env = {
      {"LUFFY_TEST_CHAT_URL", rx.url(chat_path)}};
  server_process a(notifier_yaml(rx, redis), {"--set", "node.name=node-a"}, env);
  REQUIRE(eventually([&] { return redis.cmd({"GET", "luffy:notifier:lease"}).str == "node-a"; }));
  server_process b(notifier_yaml(rx, redis), {"--set", "node.name=node-b"}, env);
  REQUIRE(a.call(ingest_post("[" + record("checkout", 500) + "]")).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 1; }));
  std::this_thread::sleep_for(1500ms);
  CHECK(rx.count(json_path) == 1);
  CHECK(rx.count(chat_path) == 1);
  CHECK(redis.cmd({"GET", "luffy:notifier:lease"}).str == "node-a");

  // node-a stops (and releases the lease): node-b posts what comes next, once.
  a.stop();
  REQUIRE(eventually([&] { return redis.cmd({"GET", "luffy:notifier:lease"}).str == "node-b"; }));
  REQUIRE(b.call(ingest_post("[" + record("checkout", 501) + "]")).status == 202);
  REQUIRE(eventually([&] { return rx.count(json_path) == 2; }, 40s));
  std::this_thread::sleep_for(1500ms);
  CHECK(rx.count(json_path) == 2);
  CHECK(rx.count(chat_path) == 2);
  CHECK(field(rx.requests(json_path)[1].body, "type") == "new_cluster");
}
