// Operator-side grouping through the real interfaces (docs/API.md "Clusters", docs/CLUSTERING.md
// "Operator controls"): merging clusters over HTTP, fingerprint and in-app rules from the YAML
// (reloaded live), and the per-service bound on new clusters. The real binary and a real
// redis-server on loopback.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "core/grouping_v1/legacy_fingerprint.hpp"
#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string base_config(const redis_process& redis, const std::string& extra = "") {
  return R"(
auth:
  tokens:
    - {name: all, token: tok, services: ["*"], default_service: app}
    - {name: orders-only, token: orders-tok, services: [orders]}
    - {name: admin, token: admin-tok, services: ["*"], admin: true}
)" + storage_yaml(redis) +
         extra;
}

int seq = 0;

// A Java error of `service` whose crash site is methods[site]; unique per call.
std::string java_record(int site, const std::string& service = "orders",
                        const std::string& host = "host-a") {
  static const char* methods[] = {"findById", "charge", "ship", "load", "save"};
  const int n = ++seq;
  const std::string ts = "2026-11-30T10:" + std::to_string(10 + n % 40) + ":" +
                         std::to_string(10 + n % 49) + "." + std::to_string(100 + n % 900) + "Z";
  return R"j({"timestamp":")j" + ts + R"j(","level":"ERROR","service_id":")j" + service +
         R"j(","hostname":")j" + host + R"j(","message":"request )j" + std::to_string(n) +
         R"j( failed","stack_trace":"java.lang.IllegalStateException: order )j" +
         std::to_string(1000 + n) + R"j( not found\n\tat com.acme.orders.Repo.)j" +
         methods[site % 5] +
         R"j((Repo.java:12)\n\tat com.acme.orders.Service.handle(Service.java:40)"})j";
}

// A plain message record (level 3) of `service`.
std::string plain_record(const std::string& message, const std::string& service,
                         const std::string& extra_fields = "", const std::string& level = "ERROR") {
  const int n = ++seq;
  return R"({"timestamp":"2026-11-30T11:)" + std::to_string(10 + n % 40) + ":" +
         std::to_string(10 + n % 49) + "." + std::to_string(100 + n % 900) + R"(Z","level":")" +
         level + R"(","service_id":")" + service + R"(","message":")" + message + "\"" +
         extra_fields + "}";
}

std::string array_of(const std::vector<std::string>& records) {
  std::string b = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    b += (i ? "," : "") + records[i];
  }
  return b + "]";
}

std::string hget(const redis_process& redis, const std::string& id, const std::string& field) {
  auto v = redis.cmd({"HGET", luffy::cluster_key("luffy", id), field});
  return v.type == luffy::redis_value::kind::string ? v.str : "";
}

long cluster_count(const redis_process& redis, const std::string& id) {
  const auto c = hget(redis, id, "count");
  return c.empty() ? -1 : std::stol(c);
}

// Ids of `service`'s listed clusters (the per-service zset), by culprit or title.
std::map<std::string, std::string> ids_by(const redis_process& redis, const std::string& service,
                                          const std::string& field) {
  std::map<std::string, std::string> out;
  for (const auto& id :
       redis.cmd({"ZRANGE", luffy::service_index_key("luffy", service, "count"), "0", "-1"})
           .elements) {
    out[hget(redis, id.str, field)] = id.str;
  }
  return out;
}

long listed_sum(const redis_process& redis) {
  long sum = 0;
  for (const auto& id :
       redis.cmd({"ZRANGE", luffy::clusters_index_key("luffy", "count"), "0", "-1"}).elements) {
    sum += cluster_count(redis, id.str);
  }
  return sum;
}

std::vector<std::map<std::string, std::string>> events(const redis_process& redis,
                                                       const std::string& type) {
  std::vector<std::map<std::string, std::string>> out;
  for (auto& m : stream_entries(redis, luffy::events_stream_key("luffy"))) {
    if (m["type"] == type)
      out.push_back(std::move(m));
  }
  return out;
}

std::string merge_body(const std::string& into) {
  return R"({"into":")" + into + R"("})";
}

}  // namespace

TEST_CASE("merge folds a cluster into another and later records follow it", "[clustering][merge]") {
  redis_process redis;
  std::string a, b, billing;
  long total = 0;
  {
    server_process server(base_config(redis));
    std::vector<std::string> recs;
    for (int i = 0; i < 6; ++i)
      recs.push_back(java_record(0, "orders", "host-a"));  // findById: cluster a
    for (int i = 0; i < 4; ++i)
      recs.push_back(java_record(1, "orders", "host-b"));  // charge: cluster b
    for (int i = 0; i < 3; ++i)
      recs.push_back(java_record(0, "billing"));  // the same trace in another service
    REQUIRE(server.call(ingest_post(array_of(recs))).status == 202);
    total = 13;
    REQUIRE(wait_processed(redis, total));
    const auto orders = ids_by(redis, "orders", "culprit");
    a = orders.at("com.acme.orders.Repo.findById");
    b = orders.at("com.acme.orders.Repo.charge");
    billing = ids_by(redis, "billing", "culprit").at("com.acme.orders.Repo.findById");

    // Refusals first: nothing changes.
    auto r =
        server.call(api_call("POST", "/api/v1/clusters/" + a + "/merge", "tok", merge_body(a)));
    CHECK(r.status == 400);
    CHECK(json_str(r.body, "error") == "merge_into_self");
    r = server.call(
        api_call("POST", "/api/v1/clusters/" + a + "/merge", "tok", merge_body("f00d")));
    CHECK(r.status == 404);
    CHECK(json_str(r.body, "error") == "unknown_target");
    r = server.call(api_call("POST", "/api/v1/clusters/" + a + "/merge", "tok", R"({"to":"x"})"));
    CHECK(r.status == 400);
    r = server.call(
        api_call("POST", "/api/v1/clusters/" + a + "/merge", "tok", merge_body(billing)));
    CHECK(r.status == 403);
    CHECK(json_str(r.body, "error") == "cross_service_merge");
    r = server.call(
        api_call("POST", "/api/v1/clusters/" + a + "/merge", "orders-tok", merge_body(billing)));
    CHECK(r.status == 404);  // a service the token may not read does not exist for it
    CHECK(server.call(api_call("POST", "/api/v1/clusters/" + a + "/merge", "", merge_body(b)))
              .status == 401);
    CHECK(cluster_count(redis, a) == 6);

    // a into b.
    r = server.call(
        api_call("POST", "/api/v1/clusters/" + a + "/merge", "orders-tok", merge_body(b)));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json_str(r.body, "merged_into") == b);
    CHECK(json_int(r.body, "count") == 10);
    CHECK(json_int(r.body, "moved_count") == 6);
    CHECK(cluster_count(redis, b) == 10);
    CHECK(redis.cmd({"SCARD", luffy::cluster_hosts_key("luffy", b)}).integer == 2);
    CHECK(redis.cmd({"LLEN", luffy::cluster_samples_key("luffy", b)}).integer == 5);
    long minutes = 0;
    const auto m = redis.cmd({"HGETALL", luffy::cluster_minutes_key("luffy", b)});
    for (size_t i = 1; i < m.elements.size(); i += 2)
      minutes += std::stol(m.elements[i].str);
    CHECK(minutes == 10);
    CHECK(redis.cmd({"EXISTS", luffy::cluster_minutes_key("luffy", a)}).integer == 0);
    // The merged id is gone from the lists; the listed counts still add up to every record.
    CHECK(redis.cmd({"ZSCORE", luffy::clusters_index_key("luffy", "count"), a}).type ==
          luffy::redis_value::kind::nil);
    CHECK(listed_sum(redis) == total);
    const auto list = server.call(api_call("GET", "/api/v1/clusters?service_id=orders", "tok"));
    CHECK(list.body.find(a) == std::string::npos);
    CHECK(list.body.find(b) != std::string::npos);
    // GET of the merged id names its target.
    r = server.call(api_call("GET", "/api/v1/clusters/" + a, "tok"));
    CHECK(r.status == 200);
    CHECK(json_str(r.body, "status") == "merged");
    CHECK(json_str(r.body, "merged_into") == b);
    // One merged event.
    const auto ev = events(redis, "merged");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].at("cluster_id") == b);
    CHECK(ev[0].at("merged_id") == a);
    CHECK(ev[0].at("merged_count") == "6");

    // Merging again, or b back into a (a cycle), is refused; resolving a merged id too.
    r = server.call(api_call("POST", "/api/v1/clusters/" + a + "/merge", "tok", merge_body(b)));
    CHECK(r.status == 409);
    CHECK(json_str(r.body, "error") == "already_merged");
    r = server.call(api_call("POST", "/api/v1/clusters/" + b + "/merge", "tok", merge_body(a)));
    CHECK(r.status == 409);
    CHECK(json_str(r.body, "error") == "merge_cycle");
    CHECK(server.call(api_call("POST", "/api/v1/clusters/" + a + "/resolve", "tok")).status == 409);

    // Later records of a's fingerprint are counted in b, once.
    REQUIRE(server.call(ingest_post(array_of({java_record(0), java_record(0), java_record(1)})))
                .status == 202);
    total += 3;
    REQUIRE(wait_processed(redis, total));
    CHECK(cluster_count(redis, b) == 13);
    CHECK(cluster_count(redis, a) == 6);  // frozen at the merge
    CHECK(listed_sum(redis) == total);
    CHECK(server.stop() == 0);
  }
  {
    // After a restart (the redirect lives in Redis) and for entries still in the journal.
    server_process server(base_config(redis));
    REQUIRE(server.call(ingest_post(array_of({java_record(0), java_record(0)}))).status == 202);
    total += 2;
    REQUIRE(wait_processed(redis, total));
    CHECK(cluster_count(redis, b) == 15);
    CHECK(listed_sum(redis) == total);
    // An admin may merge across services; the chain is followed: billing into a means into b.
    auto r = server.call(
        api_call("POST", "/api/v1/clusters/" + billing + "/merge", "admin-tok", merge_body(a)));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json_str(r.body, "merged_into") == b);
    CHECK(cluster_count(redis, b) == 18);
    REQUIRE(server.call(ingest_post(array_of({java_record(0, "billing")}))).status == 202);
    total += 1;
    REQUIRE(wait_processed(redis, total));
    CHECK(cluster_count(redis, b) == 19);
    CHECK(listed_sum(redis) == total);
  }
}

namespace {

const std::string k_rules_v1 = R"(
clustering:
  fingerprint_rules:
    - match: {exception_type: "*Timeout*", message: "*upstream*"}
      fingerprint: upstream-timeouts
      title: Upstream timeouts
)";

const std::string k_rules_v2 = R"(
clustering:
  not_in_app_prefixes: ["com.acme.orders.Repo*"]
  fingerprint_rules:
    - match: {exception_type: "*Timeout*", message: "*upstream*"}
      fingerprint: upstream-timeouts
      title: Upstream timeouts
    - match: {logger: "com.acme.noisy.*", level: "WARN*"}
      fingerprint: noisy-poller
)";

const std::string k_rules_bad = R"(
clustering:
  fingerprint_rules:
    - match: {exception_type: "*Timeout*"}
      fingerprint: timeouts
    - match: {msg: "*upstream*"}
      fingerprint: upstream
    - match: {message: "[oops"}
      fingerprint: ""
)";

std::string timeout_record(const std::string& service, const std::string& message) {
  const int n = ++seq;
  return R"j({"timestamp":"2026-11-30T12:)j" + std::to_string(10 + n % 40) + ":" +
         std::to_string(10 + n % 49) + R"j(Z","level":"ERROR","service_id":")j" + service +
         R"j(","message":")j" + message + " #" + std::to_string(n) +
         R"j(","stack_trace":"java.util.concurrent.TimeoutException: timed out after 30s\n\tat com.acme.pay.Client.call(Client.java:10)"})j";
}

std::string noisy_record(const std::string& service) {
  return plain_record("poll " + std::to_string(seq) + " skipped", service,
                      R"(,"logger":"com.acme.noisy.Poller")", "WARN");
}

void rewrite(const server_process& s, const std::string& yaml) {
  const auto tmp = s.config_path().string() + ".tmp";
  std::ofstream(tmp) << yaml;
  std::filesystem::rename(tmp, s.config_path());
}

}  // namespace

TEST_CASE("check-config refuses bad grouping rules with their key paths",
          "[clustering][rules][cli]") {
  const auto dir = make_temp_dir("rules");
  std::ofstream(dir / "luffy.yaml")
      << "auth: {disabled: true}\n" + k_rules_bad + "  not_in_app_prefixes: [\"vendor/[x\"]\n";
  auto [code, out] = run_binary({"check-config", "--config", (dir / "luffy.yaml").string()});
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("clustering.fingerprint_rules[1].match.msg: unknown field") != std::string::npos);
  CHECK(out.find("clustering.fingerprint_rules[2].match.message: bad glob \"[oops\"") !=
        std::string::npos);
  CHECK(out.find("clustering.fingerprint_rules[2].fingerprint: must not be empty") !=
        std::string::npos);
  CHECK(out.find("clustering.not_in_app_prefixes[0]: bad glob") != std::string::npos);
  std::ofstream(dir / "unknown.yaml")
      << "auth: {disabled: true}\nclustering:\n  fingerprint_rules:\n    - {matches: {level: x}, "
         "fingerprint: y}\n";
  auto unknown = run_binary({"check-config", "--config", (dir / "unknown.yaml").string()});
  CHECK(unknown.first == 1);
  CHECK(unknown.second.find("clustering.fingerprint_rules[0].matches: unknown key") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fingerprint and in-app rules group records, reload live, and match the offline preview",
          "[clustering][rules][reload]") {
  redis_process redis;
  server_process server(base_config(redis, k_rules_v1));
  long total = 0;
  // Two services, the rule's records: one cluster per (service, fingerprint).
  std::vector<std::string> recs = {
      timeout_record("checkout", "call to upstream payments failed"),
      timeout_record("checkout", "upstream ledger did not answer"),
      timeout_record("billing", "upstream tax service slow"),
      timeout_record("checkout", "database pool exhausted"),  // no rule: level 1
  };
  REQUIRE(server.call(ingest_post(array_of(recs))).status == 202);
  total += 4;
  REQUIRE(wait_processed(redis, total));
  const auto checkout = ids_by(redis, "checkout", "title");
  REQUIRE(checkout.count("Upstream timeouts") == 1);
  const std::string upstream = checkout.at("Upstream timeouts");
  CHECK(cluster_count(redis, upstream) == 2);
  CHECK(hget(redis, upstream, "fingerprint_level") == "4");
  CHECK(hget(redis, upstream, "exception_type") == "java.util.concurrent.TimeoutException");
  CHECK(checkout.size() == 2);
  CHECK(ids_by(redis, "billing", "title").count("Upstream timeouts") == 1);

  // Reload: a second rule and a not-in-app glob.
  rewrite(server, base_config(redis, k_rules_v2));
  auto r = server.call(api_call("POST", "/api/v1/admin/reload", "admin-tok"));
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.body.find("clustering.fingerprint_rules") != std::string::npos);
  CHECK(r.body.find("clustering.not_in_app_prefixes") != std::string::npos);
  const size_t clusters_before = events(redis, "new_cluster").size();
  std::vector<std::string> after = {
      noisy_record("orders"),
      noisy_record("orders"),
      java_record(0),  // Repo.findById is not in-app any more: Service.handle is the culprit
      timeout_record("checkout", "upstream payments again"),
      plain_record("cache warmed in 3 seconds", "orders"),
  };
  REQUIRE(server.call(ingest_post(array_of(after))).status == 202);
  total += static_cast<long>(after.size());
  REQUIRE(wait_processed(redis, total));
  CHECK(cluster_count(redis, upstream) == 3);
  const auto orders = ids_by(redis, "orders", "title");
  REQUIRE(orders.count("noisy-poller") == 1);
  CHECK(cluster_count(redis, orders.at("noisy-poller")) == 2);
  CHECK(ids_by(redis, "orders", "culprit").count("com.acme.orders.Service.handle") == 1);

  // The offline preview with the same file gives the same clusters.
  const auto dir = make_temp_dir("preview");
  {
    std::ofstream in(dir / "in.jsonl");
    for (const auto& rec : after)
      in << rec << "\n";
  }
  auto [code, out] =
      run_binary({"cluster", "--config", server.config_path().string(), "--input-format", "jsonl"},
                 {}, (dir / "in.jsonl").string());
  INFO(out);
  REQUIRE(code == 0);
  const auto preview = lines_of(out);
  REQUIRE(preview.size() == after.size());
  std::set<std::string> ids;
  for (const auto& line : preview) {
    const auto id = json_str(line, "cluster_id");
    ids.insert(id);
    CHECK(cluster_count(redis, id) >= 1);
  }
  CHECK(json_str(preview[0], "cluster_id") == orders.at("noisy-poller"));
  CHECK(json_str(preview[3], "cluster_id") == upstream);
  // Every cluster the reload's records opened is one the preview names (upstream existed).
  CHECK(events(redis, "new_cluster").size() - clusters_before == ids.size() - 1);
  std::filesystem::remove_all(dir);

  // A bad reload is refused with the key path; the running rules keep serving.
  rewrite(server, base_config(redis, k_rules_bad));
  r = server.call(api_call("POST", "/api/v1/admin/reload", "admin-tok"));
  CHECK(r.status == 422);
  CHECK(r.body.find("clustering.fingerprint_rules[1].match.msg: unknown field") !=
        std::string::npos);
  REQUIRE(server.call(ingest_post(array_of({noisy_record("orders")}))).status == 202);
  total += 1;
  REQUIRE(wait_processed(redis, total));
  CHECK(cluster_count(redis, orders.at("noisy-poller")) == 3);
}

namespace {

// A message of three words nothing parameterises (letters g-z only), distinct for every i.
std::string flood_message(int i) {
  static const char* letters = "ghijklmnopqrstuvwxyz";
  std::string out;
  uint64_t words[3] = {static_cast<uint64_t>(i) * 7919u + 13u, static_cast<uint64_t>(i) * 104729u,
                       static_cast<uint64_t>(i)};
  for (uint64_t w : words) {
    if (!out.empty())
      out += ' ';
    for (int k = 0; k < 5; ++k) {
      out += letters[w % 20];
      w /= 20;
    }
  }
  return out;
}

// Waits until the wall-clock minute has at least `seconds` left, so a test's floods fall in one
// minute of the bound.
void wait_for_minute_room(int seconds) {
  while (true) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto into = std::chrono::duration_cast<std::chrono::seconds>(now).count() % 60;
    if (60 - into >= seconds)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

TEST_CASE("a flood of distinct messages opens at most the bound of clusters, others are unaffected",
          "[clustering][explosion]") {
  redis_process redis;
  server_process server(base_config(redis, "clustering: {max_new_clusters_per_minute: 5}\n"));
  wait_for_minute_room(40);
  long total = 0;
  std::vector<std::string> recs;
  for (int i = 0; i < 60; ++i) {
    recs.push_back(plain_record(flood_message(i), "flood"));
    if (i % 20 == 0) {
      recs.push_back(java_record(i % 3, "calm"));  // another service, three problems
    }
  }
  REQUIRE(server.call(ingest_post(array_of(recs))).status == 202);
  total += static_cast<long>(recs.size());
  REQUIRE(wait_processed(redis, total));
  auto flood =
      redis.cmd({"ZRANGE", luffy::service_index_key("luffy", "flood", "count"), "0", "-1"});
  CHECK(flood.elements.size() == 6);  // the bound, plus the overflow cluster
  const auto by_level = ids_by(redis, "flood", "fingerprint_level");
  REQUIRE(by_level.count("0") == 1);
  const std::string overflow = by_level.at("0");
  CHECK(cluster_count(redis, overflow) == 55);
  CHECK(hget(redis, overflow, "title").find("over the limit of 5 per minute") != std::string::npos);
  CHECK(redis.cmd({"LLEN", luffy::cluster_samples_key("luffy", overflow)}).integer == 5);
  // Only the clusters that exist have miner groups saved.
  CHECK(redis.cmd({"HLEN", luffy::service_templates_key("luffy", "flood")}).integer == 5);
  auto explosions = events(redis, "cluster_explosion");
  REQUIRE(explosions.size() == 1);
  CHECK(explosions[0].at("service_id") == "flood");
  CHECK(explosions[0].at("cluster_id") == overflow);
  CHECK(explosions[0].at("limit") == "5");
  long flood_new = 0;
  for (const auto& e : events(redis, "new_cluster"))
    flood_new += e.at("service_id") == "flood" ? 1 : 0;
  CHECK(flood_new == 5);
  // The other service is unaffected.
  CHECK(redis.cmd({"ZCARD", luffy::service_index_key("luffy", "calm", "count")}).integer == 3);
  CHECK(listed_sum(redis) == total);

  // More of the flood in the same minute: still six clusters, still one event; a known cluster of
  // the flooding service still counts its own records.
  recs.clear();
  for (int i = 60; i < 160; ++i)
    recs.push_back(plain_record(flood_message(i), "flood"));
  const std::string known = ids_by(redis, "flood", "title").at(flood_message(0));
  recs.push_back(plain_record(flood_message(0), "flood"));
  recs.push_back(java_record(2, "calm"));
  REQUIRE(server.call(ingest_post(array_of(recs))).status == 202);
  total += static_cast<long>(recs.size());
  REQUIRE(wait_processed(redis, total));
  CHECK(redis.cmd({"ZCARD", luffy::service_index_key("luffy", "flood", "count")}).integer == 6);
  CHECK(cluster_count(redis, overflow) == 155);
  CHECK(cluster_count(redis, known) == 2);
  CHECK(events(redis, "cluster_explosion").size() == 1);
  CHECK(redis.cmd({"ZCARD", luffy::service_index_key("luffy", "calm", "count")}).integer == 3);
  CHECK(listed_sum(redis) == total);

  // A reload that lifts the bound applies at once: new clusters open again.
  rewrite(server, base_config(redis, "clustering: {max_new_clusters_per_minute: 0}\n"));
  REQUIRE(server.call(api_call("POST", "/api/v1/admin/reload", "admin-tok")).status == 200);
  REQUIRE(server.call(ingest_post(array_of({plain_record(flood_message(500), "flood")}))).status ==
          202);
  total += 1;
  REQUIRE(wait_processed(redis, total));
  CHECK(redis.cmd({"ZCARD", luffy::service_index_key("luffy", "flood", "count")}).integer == 7);
}

namespace {

// A Java error thrown through generated code: method `m` of the generated mapper, then the
// service's `handler`. Its level-1 id depends on whether the generated frame is in-app.
std::string mapper_record(const std::string& m, const std::string& handler = "handle") {
  const int n = ++seq;
  return R"j({"timestamp":"2026-11-30T13:)j" + std::to_string(10 + n % 40) + ":" +
         std::to_string(10 + n % 49) +
         R"j(Z","level":"ERROR","service_id":"orders","message":"mapping )j" + std::to_string(n) +
         R"j( failed","stack_trace":"java.lang.IllegalStateException: cannot map order )j" +
         std::to_string(n) + R"j(\n\tat com.acme.orders.generated.OrderMapper.)j" + m +
         R"j((OrderMapper.java:10)\n\tat com.acme.orders.Service.)j" + handler +
         R"j((Service.java:40)"})j";
}

}  // namespace

TEST_CASE("an upgrade that changes fingerprints keeps known problems in their clusters",
          "[clustering][legacy]") {
  redis_process redis;
  std::string old_map, old_other;
  long total = 0;
  {
    // Cluster state written by the previous fingerprint version: before the upgrade this
    // configuration's grouping equals grouping_v1's (core/grouping_v1), as the ids show.
    server_process server(base_config(redis));
    REQUIRE(server
                .call(ingest_post(array_of(
                    {mapper_record("map"), mapper_record("map"), mapper_record("other", "save")})))
                .status == 202);
    total += 3;
    REQUIRE(wait_processed(redis, total));
    const auto ids = ids_by(redis, "orders", "culprit");
    old_map = ids.at("com.acme.orders.generated.OrderMapper.map");
    old_other = ids.at("com.acme.orders.generated.OrderMapper.other");
    luffy::log_record rec;
    rec.service_id = "orders";
    rec.stack_trace =
        "java.lang.IllegalStateException: cannot map order 7\n\tat "
        "com.acme.orders.generated.OrderMapper.map(OrderMapper.java:10)\n\tat "
        "com.acme.orders.Service.handle(Service.java:40)";
    CHECK(luffy::grouping_v1::legacy_cluster_id(rec, {}, {}, 5) == old_map);
    CHECK(server.stop() == 0);
  }
  // The upgrade: generated code is not in-app any more (a glob, which the previous version read
  // as a prefix that matched nothing), so both problems get new level-1 ids.
  const std::string upgraded = "clustering: {not_in_app_prefixes: [\"*.generated.*\"]}\n";
  {
    server_process server(base_config(redis, upgraded));
    REQUIRE(
        server.call(ingest_post(array_of({mapper_record("map"), mapper_record("map")}))).status ==
        202);
    total += 2;
    REQUIRE(wait_processed(redis, total));
    // Counted in the old cluster; no cluster was opened.
    CHECK(cluster_count(redis, old_map) == 4);
    CHECK(events(redis, "new_cluster").size() == 2);
    CHECK(redis.cmd({"ZCARD", luffy::service_index_key("luffy", "orders", "count")}).integer == 2);
    // The new id is a redirect to the old cluster, like a merge.
    std::string new_id;
    for (const auto& id :
         redis.cmd({"SMEMBERS", luffy::cluster_merged_from_key("luffy", old_map)}).elements) {
      new_id = id.str;
    }
    REQUIRE(new_id.size() == 32);
    CHECK(new_id != old_map);
    CHECK(hget(redis, new_id, "merged_reason") == "legacy_grouping");
    auto r = server.call(api_call("GET", "/api/v1/clusters/" + new_id, "tok"));
    CHECK(r.status == 200);
    CHECK(json_str(r.body, "merged_into") == old_map);
    // From now on the new id redirects by itself (no legacy lookup needed).
    REQUIRE(server.call(ingest_post(array_of({mapper_record("map")}))).status == 202);
    total += 1;
    REQUIRE(wait_processed(redis, total));
    CHECK(cluster_count(redis, old_map) == 5);
    CHECK(server.stop() == 0);
  }
  {
    // After the transition window (clustering.legacy_grouping_days, counted from the first start
    // of a server with secondary grouping) a changed fingerprint opens a new cluster.
    const auto since = redis.cmd({"GET", luffy::grouping_transition_key("luffy")});
    REQUIRE(since.type == luffy::redis_value::kind::string);
    redis.cmd({"SET", luffy::grouping_transition_key("luffy"),
               std::to_string(std::stoll(since.str) - 31LL * 86400000)});
    server_process server(base_config(redis, upgraded));
    REQUIRE(server.call(ingest_post(array_of({mapper_record("other", "save")}))).status == 202);
    total += 1;
    REQUIRE(wait_processed(redis, total));
    CHECK(cluster_count(redis, old_other) == 1);
    CHECK(events(redis, "new_cluster").size() == 3);
    CHECK(listed_sum(redis) == total);
  }
}
