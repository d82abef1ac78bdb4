// Several luffy-ingest processes ("nodes") on one Redis, on loopback: the virtual shards are
// spread by leases, a node that dies or stops hands its shards to the others, a paused node's late
// writes are refused by the fence, and whatever happens, every acknowledged record is counted
// exactly once and grouped exactly as one process (`luffy-ingest cluster`) groups it.
// (The same scenarios across hosts, in network namespaces: tests/netns/node_scenarios.py.)
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "core/shard.hpp"
#include "harness.hpp"

using namespace luffy::test;

namespace {

constexpr int virtual_shards = 8;

// A node's configuration; `fast_path`: node.cluster_listen on a free loopback port (the journal
// fast path between nodes, CAF's middleman).
std::string node_yaml(const redis_process& redis, const std::string& name,
                      const std::string& role = "all", bool fast_path = false) {
  std::string node = "node: {name: " + name + ", role: " + role + ", min_hold_seconds: 1";
  if (fast_path) {
    node += ", cluster_listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"";
  }
  return R"(
auth:
  tokens:
    - {name: all, token: tok, services: ["*"], default_service: app}
    - {name: admin, token: tok-admin, services: ["*"], admin: true}
actors: {cluster_shards: )" +
         std::to_string(virtual_shards) + "}\n" + node + "}\ntesting: {fault_injection: true}\n" +
         storage_yaml(redis);
}

// shard -> owner ("" when free), from GET /api/v1/admin/shards of `via`.
std::map<int, std::string> owners(const server_process& via) {
  std::map<int, std::string> out;
  auto r = via.call(api_call("GET", "/api/v1/admin/shards", "tok-admin"));
  if (r.status != 200) {
    return out;
  }
  size_t at = 0;
  while ((at = r.body.find("{\"shard\":", at)) != std::string::npos) {
    const size_t end = r.body.find('}', at);
    const std::string item = r.body.substr(at, end - at + 1);
    out[static_cast<int>(json_int(item, "shard"))] = json_str(item, "owner");
    at = end;
  }
  return out;
}

// True when every shard is held by one of `nodes`, each of them holding at least `min_each`.
bool spread_over(const server_process& via, const std::set<std::string>& nodes, int min_each) {
  const auto o = owners(via);
  if (static_cast<int>(o.size()) != virtual_shards) {
    return false;
  }
  std::map<std::string, int> per;
  for (const auto& [shard, owner] : o) {
    if (nodes.count(owner) == 0) {
      return false;
    }
    ++per[owner];
  }
  for (const auto& n : nodes) {
    if (per[n] < min_each) {
      return false;
    }
  }
  return true;
}

long journal_length(const redis_process& redis) {
  long n = 0;
  for (int s = 0; s < virtual_shards; ++s) {
    n += redis.cmd({"XLEN", luffy::journal_stream_key("luffy", static_cast<uint32_t>(s))}).integer;
  }
  return n;
}

// cluster id -> count, from Redis.
std::map<std::string, long> cluster_counts(const redis_process& redis) {
  std::map<std::string, long> out;
  auto ids = redis.cmd({"ZRANGE", luffy::clusters_index_key("luffy", "count"), "0", "-1"});
  for (const auto& id : ids.elements) {
    out[id.str] = std::stol(redis.cmd({"HGET", luffy::cluster_key("luffy", id.str), "count"}).str);
  }
  return out;
}

// The fleet corpus and the offline command's grouping of it.
struct corpus {
  std::vector<std::string> records;
  std::map<std::string, long> expected;
};

corpus make_corpus(int records, int seed) {
  corpus c;
  const auto dir = make_temp_dir("nodes-corpus");
  const std::string path = (dir / "fleet.jsonl").string();
  const std::string gen = std::string("python3 ") + LUFFY_SOURCE_DIR +
                          "/tests/grouping/fleet_corpus.py --records " + std::to_string(records) +
                          " --seed " + std::to_string(seed) + " --out " + path;
  REQUIRE(std::system(gen.c_str()) == 0);
  c.records = lines_of(read_text(path));
  const auto [code, out] = run_binary({"cluster", "--input-format", "jsonl"}, {}, path);
  REQUIRE(code == 0);
  for (const auto& p : lines_of(out)) {
    ++c.expected[json_str(p, "cluster_id")];
  }
  return c;
}

// Posts record i to nodes[i % nodes.size()] (skipping dead ones), one at a time and in order,
// retrying a 503 like Fluent Bit would. Returns false on any other answer.
bool post_in_order(const std::vector<server_process*>& nodes, const std::vector<std::string>& recs,
                   size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    for (int attempt = 0;; ++attempt) {
      server_process* target = nodes[(i + static_cast<size_t>(attempt)) % nodes.size()];
      auto r = target->call(ingest_post("[" + recs[i] + "]"));
      if (r.status == 202) {
        break;
      }
      if ((r.status != 503 && r.status != 0) || attempt > 200) {
        FAIL_CHECK("record " << i << ": " << r.status << " " << r.body);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

}  // namespace

TEST_CASE(
    "nodes share the virtual shards, a killed node's shards resume elsewhere, grouping equals one "
    "process",
    "[nodes]") {
  const corpus c = make_corpus(600, 11);
  redis_process redis({"--appendfsync", "always"});
  auto a = std::make_unique<server_process>(node_yaml(redis, "node-a"));
  auto b = std::make_unique<server_process>(node_yaml(redis, "node-b"));
  auto d = std::make_unique<server_process>(node_yaml(redis, "node-c"));
  // min_hold_seconds 1: the first node's shards move to the later ones within seconds.
  REQUIRE(eventually(
      [&] {
        return spread_over(*a, {"node-a", "node-b", "node-c"}, 2);
      },
      std::chrono::seconds(15)));

  REQUIRE(post_in_order({a.get(), b.get(), d.get()}, c.records, 0, 300));
  // SIGKILL one node: its leases expire (5 s) and the others take its shards.
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(b->stop(SIGKILL) != 0);
  REQUIRE(eventually(
      [&] {
        return spread_over(*a, {"node-a", "node-c"}, 2);
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100)));
  const double resumed = seconds_since(killed);
  WARN("shards of a SIGKILLed node resumed elsewhere after " << resumed << " s");
  CHECK(resumed <= 8.0);
  REQUIRE(post_in_order({a.get(), d.get()}, c.records, 300, c.records.size()));

  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(30)));
  const auto got = cluster_counts(redis);
  long sum = 0;
  for (const auto& [id, n] : got) {
    sum += n;
  }
  CHECK(sum == static_cast<long>(c.records.size()));
  CHECK(got == c.expected);  // ids and counts, as `luffy-ingest cluster` made them
  // One new_cluster event per cluster.
  const auto events = stream_entries(redis, luffy::events_stream_key("luffy"));
  long created = 0;
  for (const auto& e : events) {
    auto it = e.find("type");
    created += it != e.end() && it->second == "new_cluster" ? 1 : 0;
  }
  CHECK(created == static_cast<long>(c.expected.size()));
}

TEST_CASE(
    "SIGTERM hands a node's shards over within a heartbeat, and an ingest-only node clusters "
    "nothing",
    "[nodes]") {
  redis_process redis({"--appendfsync", "always"});
  server_process ingest(node_yaml(redis, "edge", "ingest"));
  // The shard nodes take entries from the ingest node over CAF's middleman (the fast path).
  auto a = std::make_unique<server_process>(node_yaml(redis, "node-a", "shard", true));
  auto b = std::make_unique<server_process>(node_yaml(redis, "node-b", "shard", true));
  REQUIRE(eventually(
      [&] {
        return spread_over(ingest, {"node-a", "node-b"}, 3);
      },
      std::chrono::seconds(15)));
  // A shard node takes no logs: 503 (the agent keeps them), naming the role.
  auto refused = a->call(ingest_post(R"([{"message":"x","level":"ERROR"}])"));
  CHECK(refused.status == 503);
  CHECK(json_str(refused.body, "error") == "not_an_ingest_node");

  const corpus c = make_corpus(200, 5);
  REQUIRE(post_in_order({&ingest}, c.records, 0, 100));
  const auto stopping = std::chrono::steady_clock::now();
  CHECK(b->stop() == 0);
  REQUIRE(eventually([&] { return spread_over(ingest, {"node-a"}, virtual_shards); },
                     std::chrono::seconds(10), std::chrono::milliseconds(50)));
  const double handed = seconds_since(stopping);
  WARN("SIGTERM: every shard held by the remaining node " << handed << " s after the signal");
  CHECK(handed < 4.0);  // well inside a lease TTL (5 s): handed over, not expired
  REQUIRE(post_in_order({&ingest}, c.records, 100, c.records.size()));
  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(30)));
  CHECK(cluster_counts(redis) == c.expected);
  // The ingest node holds no shard and applied nothing; it handed its entries to the shard
  // nodes directly, and they took them in.
  auto m = ingest.get("/api/v1/ingest/metrics");
  CHECK(json_int(m.body, "shards_held") == 0);
  CHECK(json_int(m.body, "processed") == 0);
  CHECK(json_int(m.body, "remote_entries_sent") >= 100);
  CHECK(json_int(a->get("/api/v1/ingest/metrics").body, "remote_entries_received") >= 50);
  CHECK(ingest.log().find("connected to node node-a") != std::string::npos);
}

TEST_CASE(
    "a node of another build is refused by the fast path, and its shards still count everything",
    "[nodes]") {
  redis_process redis({"--appendfsync", "always"});
  server_process ingest(node_yaml(redis, "edge", "ingest"));
  server_process odd(node_yaml(redis, "odd", "shard", true), {},
                     {{"LUFFY_TEST_BUILD_SALT", "-other"}});
  REQUIRE(eventually([&] { return spread_over(ingest, {"odd"}, virtual_shards); },
                     std::chrono::seconds(15)));
  const corpus c = make_corpus(60, 3);
  REQUIRE(post_in_order({&ingest}, c.records, 0, c.records.size()));
  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(30)));
  CHECK(cluster_counts(redis) == c.expected);
  const auto log = ingest.log();
  CHECK(log.find("not sending to node odd: it runs another build") != std::string::npos);
  CHECK(json_int(ingest.get("/api/v1/ingest/metrics").body, "remote_entries_sent") == 0);
}

TEST_CASE(
    "a node paused past its lease is fenced: its late write is refused and counted, nothing twice",
    "[nodes]") {
  redis_process redis({"--appendfsync", "always"});
  auto a = std::make_unique<server_process>(node_yaml(redis, "node-a"));
  REQUIRE(eventually([&] { return spread_over(*a, {"node-a"}, virtual_shards); },
                     std::chrono::seconds(10)));
  auto b = std::make_unique<server_process>(node_yaml(redis, "node-b"));
  REQUIRE(eventually(
      [&] {
        return spread_over(*a, {"node-a", "node-b"}, 3);
      },
      std::chrono::seconds(15)));
  // A record for a shard node-b holds, sent to node-b: its shard stalls 2 s in the middle of the
  // apply (fault injection), node-b is paused past its lease meanwhile, node-a takes the shard
  // and applies the entry; when node-b wakes, its apply reaches Redis late and is refused.
  const auto o = owners(*a);
  std::string service;
  for (int i = 0; i < 200 && service.empty(); ++i) {
    const std::string svc = "svc-" + std::to_string(i);
    const auto shard = luffy::shard_for(svc, virtual_shards);
    if (o.at(static_cast<int>(shard)) == "node-b") {
      service = svc;
    }
  }
  REQUIRE(!service.empty());
  auto r =
      b->call(ingest_post(R"([{"service_id":")" + service +
                          R"(","level":"ERROR","message":"luffy-fault:shard-stall boom 1"}])"));
  REQUIRE(r.status == 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(kill(b->pid(), SIGSTOP) == 0);
  std::this_thread::sleep_for(std::chrono::seconds(9));  // > lease TTL (5 s) + takeover
  CHECK(spread_over(*a, {"node-a"}, virtual_shards));
  REQUIRE(kill(b->pid(), SIGCONT) == 0);
  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(20)));
  REQUIRE(eventually(
      [&] { return json_int(b->get("/api/v1/ingest/metrics").body, "fenced_writes") >= 1; },
      std::chrono::seconds(10)));
  CHECK(sum_of_cluster_counts(redis) == 1);
  CHECK(stats_field(redis, "processed") == 1);
}

TEST_CASE(
    "an ingest-only node's circuit breaker reads the journal in Redis: 503 while no shard node "
    "keeps up, 202 again after",
    "[nodes][backpressure]") {
  redis_process redis({"--appendfsync", "always"});
  server_process ingest(node_yaml(redis, "edge", "ingest") +
                        "backpressure: {max_queue_depth: 60, resume_ratio: 50}\n");
  // No shard node yet: everything waits in the journal.
  int seq = 0;
  auto batch = [&] {
    std::string body = "[";
    for (int i = 0; i < 10; ++i, ++seq) {
      body += std::string(i ? "," : "") + R"({"service_id":"svc-)" + std::to_string(seq % 7) +
              R"(","level":"ERROR","message":"request )" + std::to_string(seq) + R"( failed"})";
    }
    return ingest_post(body + "]");
  };
  long acked = 0;
  http_reply refused;
  for (int i = 0; i < 40 && refused.status != 503; ++i) {
    auto r = ingest.call(batch());
    if (r.status == 202) {
      acked += 10;
      std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the probe reads each second
    } else {
      refused = r;
    }
  }
  INFO(refused.body);
  REQUIRE(refused.status == 503);
  CHECK(refused.body.find("clustering is behind") != std::string::npos);
  CHECK(acked >= 60);
  CHECK(acked <= 60 + 10 * 10);  // at most about a second of batches past the bound
  // A shard node drains the journal: 202 again, and everything acknowledged is clustered.
  server_process shard(node_yaml(redis, "node-a", "shard"));
  REQUIRE(eventually(
      [&] {
        auto r = ingest.call(batch());
        acked += r.status == 202 ? 10 : 0;
        return r.status == 202;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(200)));
  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(20)));
  CHECK(stats_field(redis, "processed") == acked);
}

namespace {

// Runs a shell command; {exit code, stdout+stderr}.
std::pair<int, std::string> shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) {
    out.append(buf, n);
  }
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace

// node.tls.*: the fast path between nodes over TLS with a certificate required on both sides
// (CAF's OpenSSL module). Entries flow from an ingest node holding a node certificate; the port
// refuses a client without one (openssl s_client); a node whose certificate another CA signed
// cannot dial, and its records still count exactly once through the shards' sweep.
TEST_CASE("node links over TLS: certificates on both sides, a node without one is refused",
          "[nodes][node_tls]") {
  const auto dir = make_temp_dir("node-tls");
  const std::string d = dir.string();
  auto made = shell("cd " + d +
                    " && for ca in ca rogue-ca; do openssl req -x509 -newkey rsa:2048 -nodes "
                    "-keyout $ca.key -out $ca.crt -days 30 -subj /CN=luffy-nodes-$ca || exit 1; "
                    "done && for n in node-a:ca edge:ca rogue:rogue-ca; do name=${n%%:*}; "
                    "ca=${n##*:}; openssl req -newkey rsa:2048 -nodes -keyout $name.key -out "
                    "$name.csr -subj /CN=$name && openssl x509 -req -in $name.csr -CA $ca.crt "
                    "-CAkey $ca.key -CAcreateserial -out $name.crt -days 30 || exit 1; done");
  INFO(made.second);
  REQUIRE(made.first == 0);
  auto with_tls = [&](std::string yaml, const std::string& name, const std::string& ca,
                      int listen_port) {
    std::string extra;
    if (listen_port > 0) {
      extra += ", cluster_listen: \"127.0.0.1:" + std::to_string(listen_port) + "\"";
    }
    extra += ", tls: {cert_file: \"" + d + "/" + name + ".crt\", key_file: \"" + d + "/" + name +
             ".key\", ca_file: \"" + d + "/" + ca + ".crt\"}";
    const std::string anchor = "min_hold_seconds: 1";
    yaml.replace(yaml.find(anchor), anchor.size(), anchor + extra);
    return yaml;
  };
  redis_process redis({"--appendfsync", "always"});
  const int port = free_port();
  auto a = std::make_unique<server_process>(
      with_tls(node_yaml(redis, "node-a", "shard"), "node-a", "ca", port));
  server_process edge(with_tls(node_yaml(redis, "edge", "ingest"), "edge", "ca", 0));
  REQUIRE(eventually([&] { return spread_over(edge, {"node-a"}, virtual_shards); },
                     std::chrono::seconds(15)));
  CHECK(a->log().find("TLS, node certificates required") != std::string::npos);

  const corpus c = make_corpus(200, 7);
  REQUIRE(post_in_order({&edge}, c.records, 0, 100));
  REQUIRE(
      eventually([&] { return edge.log().find("connected to node node-a") != std::string::npos; },
                 std::chrono::seconds(10)));

  // The port speaks TLS and wants a node certificate: a client without one is refused in the
  // handshake, one with the edge's certificate is verified both ways.
  const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -CAfile " + d + "/ca.crt -tls1_2 </dev/null";
  auto anonymous = shell(connect);
  INFO(anonymous.second);
  CHECK(anonymous.second.find("Verify return code: 0 (ok)") != std::string::npos);  // server side
  CHECK(anonymous.second.find("alert") != std::string::npos);  // and the refusal of no cert
  auto node = shell(connect + " -cert " + d + "/edge.crt -key " + d + "/edge.key");
  INFO(node.second);
  CHECK(node.second.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(node.second.find("alert") == std::string::npos);

  // A node with a certificate from another CA: its dial fails, its logs still count.
  server_process rogue(with_tls(node_yaml(redis, "rogue", "ingest"), "rogue", "rogue-ca", 0));
  REQUIRE(post_in_order({&rogue}, c.records, 100, c.records.size()));
  REQUIRE(eventually([&] { return journal_length(redis) == 0; }, std::chrono::seconds(30)));
  CHECK(cluster_counts(redis) == c.expected);
  CHECK(rogue.log().find("cannot reach node node-a") != std::string::npos);
  CHECK(rogue.log().find("connected to node node-a") == std::string::npos);
  CHECK(json_int(edge.get("/api/v1/ingest/metrics").body, "remote_entries_sent") >= 50);
  CHECK(json_int(rogue.get("/api/v1/ingest/metrics").body, "remote_entries_sent") == 0);
  a.reset();

  // check-config: the three keys go together, and the files are checked like server.tls's.
  auto check = [&](const std::string& tls) {
    std::ofstream(dir / "check.yaml", std::ios::trunc)
        << "auth: {tokens: [{name: t, token: x, services: [\"*\"]}]}\nnode: {tls: {" + tls + "}}\n";
    return run_binary({"check-config", "--config", (dir / "check.yaml").string()});
  };
  auto half = check("cert_file: \"" + d + "/edge.crt\"");
  INFO(half.second);
  CHECK(half.first == 1);
  CHECK(half.second.find("node.tls: cert_file, key_file and ca_file go together") !=
        std::string::npos);
  auto mismatch = check("cert_file: \"" + d + "/edge.crt\", key_file: \"" + d +
                        "/rogue.key\", ca_file: \"" + d + "/nope.crt\"");
  INFO(mismatch.second);
  CHECK(mismatch.first == 1);
  CHECK(mismatch.second.find("node.tls.key_file: " + d + "/rogue.key does not match") !=
        std::string::npos);
  CHECK(mismatch.second.find("node.tls.ca_file: cannot read " + d + "/nope.crt") !=
        std::string::npos);
  auto good = check("cert_file: \"" + d + "/edge.crt\", key_file: \"" + d +
                    "/edge.key\", ca_file: \"" + d + "/ca.crt\"");
  INFO(good.second);
  CHECK(good.first == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
