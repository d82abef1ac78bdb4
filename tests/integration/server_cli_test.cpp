// The binary's interface: check-config, --set/env precedence, --help/--version, routes, the
// embedded Redis, health/ready/metrics, and SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

TEST_CASE("check-config prints every problem with its key path and exits non-zero", "[cli]") {
  const auto dir = make_temp_dir("cfg");
  std::ofstream(dir / "bad.yaml") << R"(
server: {listen: "nowhere", threads: 0, colour: blue}
auth: {tokens: [{name: x, services: []}]}
bogus: {a: 1}
)";
  auto [code, out] = run_binary({"check-config", "--config", (dir / "bad.yaml").string()});
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("server.threads: 0 is outside") != std::string::npos);
  CHECK(out.find("server.colour: unknown key") != std::string::npos);
  CHECK(out.find("bogus: unknown section") != std::string::npos);

  std::ofstream(dir / "good.yaml") << "auth: {disabled: true}\n";
  auto ok = run_binary({"check-config", "--config", (dir / "good.yaml").string()});
  CHECK(ok.first == 0);
  // --set beats the environment, which beats the file.
  auto env_bad = run_binary({"check-config", "--config", (dir / "good.yaml").string()},
                            {{"LUFFY_SERVER_THREADS", "0"}});
  CHECK(env_bad.first == 1);
  CHECK(env_bad.second.find("LUFFY_SERVER_THREADS") != std::string::npos);
  auto fixed = run_binary(
      {"check-config", "--config", (dir / "good.yaml").string(), "--set", "server.threads=8"},
      {{"LUFFY_SERVER_THREADS", "0"}});
  CHECK(fixed.first == 1);  // env is applied and reported even when --set overrides it later
  // The shipped config reads var/dev-token from the working directory (tools/dev.sh run writes
  // it): without it, a clear problem; with a random one, OK; never a weak token allowed.
  const std::string shipped_cfg = std::string(LUFFY_SOURCE_DIR) + "/config/luffy.yaml";
  auto check_in = [&](const std::filesystem::path& cwd) {
    const auto log = dir / "shipped.log";
    const pid_t pid = spawn_process({"/bin/sh", "-c",
                                     "cd '" + cwd.string() + "' && exec '" + server_binary() +
                                         "' check-config --config '" + shipped_cfg + "'"},
                                    log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return std::pair<int, std::string>{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                       read_text(log)};
  };
  const auto cwd = dir / "repo";
  std::filesystem::create_directories(cwd / "var");
  auto missing = check_in(cwd);
  INFO(missing.second);
  CHECK(missing.first == 1);
  CHECK(missing.second.find("auth.tokens[0].token_file: var/dev-token: cannot read the file") !=
        std::string::npos);
  std::ofstream(cwd / "var" / "dev-token") << "3f9a1c77e0b24d5a8e61c0d9b7a2f4e1\n";
  auto shipped = check_in(cwd);
  INFO(shipped.second);
  CHECK(shipped.first == 0);
  CHECK(shipped.second.find("warning") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("check-config reports every problem in one run", "[cli]") {
  // Problems of every kind at once: values out of range, a conversion that fails inside a token,
  // and the cross-key rules (listen port, inflated below body size, default_service, services).
  // Before, the conversion error ended the read and the cross-key rules ran only on a clean file,
  // so each fix revealed more.
  const auto dir = make_temp_dir("cfg1");
  std::ofstream(dir / "all.yaml") << R"(
server: {listen: "127.0.0.1:70000", threads: 0, max_body_bytes: 32MiB, max_inflated_bytes: 16MiB}
auth:
  tokens:
    - {name: a, token: x, services: [checkout], default_service: billing}
    - {name: b, token: y, services: []}
    - {name: c, token: z, services: ["*"], admin: maybe}
)";
  auto [code, out] = run_binary({"check-config", "--config", (dir / "all.yaml").string()});
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find(": 6 problem(s):") != std::string::npos);
  for (const char* problem : {
           "server.threads: 0 is outside [1, 4096]",
           "auth.tokens[2].admin: expected true or false, got \"maybe\"",
           "server.listen: expected host:port, got \"127.0.0.1:70000\"",
           "server.max_inflated_bytes: must be at least server.max_body_bytes",
           "auth.tokens[0].default_service: \"billing\" is not in its services",
           "auth.tokens[1].services: list at least one service or \"*\"",
       }) {
    CHECK(out.find(problem) != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("help, version and routes subcommands", "[cli]") {
  auto help = run_binary({"--help"});
  CHECK(help.first == 0);
  CHECK(help.second.find("serve") != std::string::npos);
  auto version = run_binary({"--version"});
  CHECK(version.first == 0);
  CHECK(version.second.rfind("luffy-ingest ", 0) == 0);
  auto routes = run_binary({"routes"});
  CHECK(routes.second.find("POST /api/v1/ingest/logs\n") != std::string::npos);
  CHECK(run_binary({"frobnicate"}).first == 2);
}

TEST_CASE("every configuration key is documented in docs/CONFIGURATION.md", "[cli][docs]") {
  auto [code, out] = run_binary({"--help-config"});
  REQUIRE(code == 0);
  const auto doc = read_text(std::string(LUFFY_SOURCE_DIR) + "/docs/CONFIGURATION.md");
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);  // header
  int keys = 0;
  while (std::getline(lines, line)) {
    std::string key = line.substr(0, line.find(' '));
    if (key.size() > 2 && key.substr(key.size() - 2) == ".*") {
      key = key.substr(0, key.size() - 1) + "<service>";
    }
    INFO(key);
    CHECK(doc.find("`" + key + "`") != std::string::npos);
    ++keys;
  }
  CHECK(keys > 30);
}

TEST_CASE("cluster: offline preview, one deterministic JSON line per input", "[cli][clustering]") {
  const auto dir = make_temp_dir("preview");
  std::ofstream(dir / "in.jsonl")
      << R"j({"service_id":"a","message":"x","stack_trace":"java.lang.IllegalStateException: boom 1\n\tat com.acme.A.b(A.java:10)"})j"
         "\n"
      << R"j({"service_id":"a","message":"y","stack_trace":"java.lang.IllegalStateException: boom 2\n\tat com.acme.A.b(A.java:99)"})j"
         "\n"
      << R"j({"service_id":"b","message":"x","stack_trace":"java.lang.IllegalStateException: boom 1\n\tat com.acme.A.b(A.java:10)"})j"
         "\n"
      << "not json\n";
  auto first = run_binary({"cluster", "--input-format", "jsonl"}, {}, (dir / "in.jsonl").string());
  auto second = run_binary({"cluster", "--input-format", "jsonl"}, {}, (dir / "in.jsonl").string());
  INFO(first.second);
  CHECK(first.first == 0);
  CHECK(first.second == second.second);  // deterministic
  std::istringstream lines(first.second);
  std::vector<std::string> out;
  for (std::string l; std::getline(lines, l);)
    out.push_back(l);
  REQUIRE(out.size() == 4);
  CHECK(json_str(out[0], "cluster_id") == json_str(out[1], "cluster_id"));  // another deploy
  CHECK(json_str(out[0], "cluster_id") != json_str(out[2], "cluster_id"));  // another service
  CHECK(json_int(out[0], "level") == 1);
  CHECK(out[3].find("\"error\"") != std::string::npos);
  std::ofstream(dir / "in.txt")
      << "user 17 logged in from 10.0.0.1\nuser 99 logged in from 10.0.0.7\n";
  auto text = run_binary({"cluster", "--input-format", "text"}, {}, (dir / "in.txt").string());
  std::istringstream tl(text.second);
  std::string a, b;
  std::getline(tl, a);
  std::getline(tl, b);
  CHECK(json_int(a, "level") == 3);
  CHECK(json_str(a, "cluster_id") == json_str(b, "cluster_id"));
  CHECK(run_binary({"cluster", "--input-format", "xml"}).first == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("refuses to start without tokens unless auth.disabled is explicit", "[cli][auth]") {
  const auto dir = make_temp_dir("noauth");
  std::ofstream(dir / "c.yaml") << "storage: {redis: \"redis://127.0.0.1:1/0\"}\n";
  auto r = run_binary({"serve", "--config", (dir / "c.yaml").string()});
  CHECK(r.first == 1);
  CHECK(r.second.find("auth.tokens") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("embedded Redis: the server starts its own redis-server and stops it", "[embedded]") {
  const auto data = make_temp_dir("embedded");
  pid_t redis_pid = -1;
  {
    server_process server("auth: {disabled: true}\nstorage: {redis: embedded, data_dir: \"" +
                          data.string() + "\"}\n");
    REQUIRE(server.wait_ready());
    CHECK(server
              .call(ingest_post(R"([{"message":"kept in the embedded redis","service_id":"svc"}])",
                                ""))
              .status == 202);
    CHECK(std::filesystem::exists(data / "appendonlydir"));
    CHECK(server.log().find("auth.disabled is true") != std::string::npos);
    const auto log = server.log();
    const auto p = log.find("redis-server pid ");
    REQUIRE(p != std::string::npos);
    redis_pid = std::stoi(log.substr(p + 17));
    CHECK(kill(redis_pid, 0) == 0);
    const int status = server.stop();
    INFO("status " << status << " log: " << server.log());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  // The child is gone with the server (or is a zombie waiting for a container init to reap it).
  const auto stat = read_text("/proc/" + std::to_string(redis_pid) + "/stat");
  CHECK((stat.empty() || stat.find(") Z ") != std::string::npos));
  std::filesystem::remove_all(data);
}

TEST_CASE("a listen address already taken: exits 1 and stops what it had started", "[embedded]") {
  // serve() starts the embedded redis-server and the pipeline before it listens; a failed listen
  // must stop both (the stop guards), not leave a redis-server behind or hang.
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(taken >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int port = free_port();
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(taken, 4) == 0);
  const auto dir = make_temp_dir("taken");
  std::ofstream(dir / "c.yaml") << "auth: {disabled: true}\nserver: {listen: \"127.0.0.1:" << port
                                << "\"}\nstorage: {redis: embedded, data_dir: \""
                                << (dir / "data").string() << "\"}\n";
  const auto started = std::chrono::steady_clock::now();
  auto [code, out] = run_binary({"serve", "--config", (dir / "c.yaml").string()});
  ::close(taken);
  INFO(out);
  CHECK(code == 1);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
  CHECK(out.find("cannot listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  const auto p = out.find("redis-server pid ");
  REQUIRE(p != std::string::npos);
  const int redis_pid = std::stoi(out.substr(p + 17));
  const auto stat = read_text("/proc/" + std::to_string(redis_pid) + "/stat");
  CHECK((stat.empty() || stat.find(") Z ") != std::string::npos));
  std::filesystem::remove_all(dir);
}

TEST_CASE("health, readiness and metrics", "[health]") {
  redis_process redis;
  server_process server(R"(
auth: {tokens: [{name: t, token: tok, services: ["*"], default_service: a}]}
)" + storage_yaml(redis));
  REQUIRE(server.wait_ready());
  CHECK(server.get("/health").status == 200);
  auto ready = server.get("/api/v1/ingest/health");
  CHECK(ready.status == 200);
  CHECK(ready.body.find("\"queue_depth\":0") != std::string::npos);
  CHECK(server.call(ingest_post(R"([{"message":"m1"},{"message":"m2"},{"nomessage":1}])")).status ==
        202);
  auto m = server.get("/api/v1/ingest/metrics");
  CHECK(json_int(m.body, "received") == 3);
  CHECK(json_int(m.body, "accepted") == 2);
  CHECK(json_int(m.body, "rejected") == 1);
  // Clustering catches up with what was accepted.
  for (int i = 0; i < 100 && json_int(m.body, "processed") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    m = server.get("/api/v1/ingest/metrics");
  }
  CHECK(json_int(m.body, "processed") == 2);
  CHECK(json_int(m.body, "clusters_created") == 2);
  auto prom = server.get("/metrics");
  CHECK(prom.status == 200);
  CHECK(prom.body.find("luffy_ingest_accepted_records_total 2\n") != std::string::npos);
  CHECK(prom.body.find("luffy_ingest_requests_total{code=\"202\"} 1\n") != std::string::npos);
  CHECK(prom.body.find("luffy_ingest_request_duration_seconds_count 1\n") != std::string::npos);
}
