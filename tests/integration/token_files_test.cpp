// Tokens read from files (auth.tokens[].token_file, auth.tokens_file) through the real binary:
// the files are watched, so a rewritten file or a Kubernetes Secret volume's `..data` symlink
// swap changes the valid tokens without any signal; a broken file keeps the running tokens; the
// rotation procedure of docs/OPERATIONS.md ("Token rotation") costs an agent no 401; weak and
// placeholder tokens are refused at start-up and by check-config, naming the key, never the token.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;
namespace fs = std::filesystem;

namespace {

// Strong enough for the server (16+ characters, no placeholder words).
const std::string kAlpha = "alpha-7f3c9e21b4d8a6";
const std::string kBravo = "bravo-0c5e8a93f1d27b";
const std::string kCharlie = "charlie-94b1e6d07a3f5c";

// Replaces `path` at once (write aside, rename), as an operator's editor or a Secret store does.
void replace_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp, std::ios::trunc) << text;
  fs::rename(tmp, path);
}

std::string record(const std::string& message) {
  return R"([{"service_id":"orders","level":"ERROR","message":")" + message + R"("}])";
}

int post_status(const server_process& s, const std::string& token, const std::string& message) {
  return s.call(ingest_post(record(message), token)).status;
}

// Strict tokens (the harness would allow weak ones), no 429 for the 401s the tests provoke, and
// a one-second watch.
std::vector<std::string> strict_args() {
  return {"--set", "auth.allow_weak_tokens=false", "--set", "auth.failure_limit.max_failures=0",
          "--set", "auth.watch_interval_seconds=1"};
}

// A Secret volume as the kubelet writes it: <dir>/..<version>/<key>, <dir>/..data -> ..<version>,
// <dir>/<key> -> ..data/<key>. A new version is a new directory and an atomic swap of ..data, so
// every key changes at once and a key removed from the Secret disappears.
struct secret_volume {
  fs::path dir;
  int version = 0;

  explicit secret_volume(fs::path d, const std::map<std::string, std::string>& keys)
      : dir(std::move(d)) {
    fs::create_directories(dir);
    publish(keys);
  }
  void publish(const std::map<std::string, std::string>& keys) {
    const std::string name = "..v" + std::to_string(++version);
    fs::create_directories(dir / name);
    for (const auto& [key, value] : keys) {
      std::ofstream(dir / name / key) << value;  // kubectl create secret: no trailing newline
    }
    fs::create_symlink(name, dir / "..data_tmp");
    fs::rename(dir / "..data_tmp", dir / "..data");  // rename(2) replaces the link at once
    for (const auto& entry : fs::directory_iterator(dir)) {
      const auto file = entry.path().filename().string();
      if (file.rfind("..", 0) != 0 && keys.count(file) == 0) {
        fs::remove(entry.path());  // a key no longer in the Secret
      }
    }
    for (const auto& [key, value] : keys) {
      if (!fs::is_symlink(dir / key)) {
        fs::create_symlink("..data/" + key, dir / key);
      }
    }
  }
};

// An agent posting continuously with whatever token it has now, counting the answers.
struct agent_loop {
  const server_process& server;
  std::mutex mu;
  std::string token;
  std::map<int, int> answers;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread thread;

  agent_loop(const server_process& s, std::string t) : server(s), token(std::move(t)) {
    thread = std::thread([this] {
      while (!stop) {
        std::string now;
        {
          std::lock_guard lock(mu);
          now = token;
        }
        const int status = post_status(server, now, "agent " + std::to_string(sent++));
        std::lock_guard lock(mu);
        ++answers[status];
      }
    });
  }
  ~agent_loop() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) {
      thread.join();
    }
  }
  void use(const std::string& t) {
    std::lock_guard lock(mu);
    token = t;
  }
  bool wait_sent(int more) {
    const int until = sent + more;
    return eventually([&] { return sent >= until; }, std::chrono::seconds(20));
  }
  int count(int status) {
    std::lock_guard lock(mu);
    return answers[status];
  }
};

}  // namespace

TEST_CASE("token_file: the token authenticates, a rewrite or a ..data swap rotates it unsignalled",
          "[token_files]") {
  redis_process redis;
  const fs::path dir = make_temp_dir("token-files");
  replace_file(dir / "agent-token", kAlpha + "\n");  // `echo token > file` leaves a newline
  secret_volume secret(dir / "secret", {{"token", kBravo}});
  server_process server(journal_only_yaml(redis) +
                            "auth:\n  tokens:\n"
                            "    - {name: agents, token_file: \"" +
                            (dir / "agent-token").string() +
                            "\", services: [\"*\"]}\n"
                            "    - {name: k8s, token_file: \"" +
                            (dir / "secret" / "token").string() + "\", services: [\"*\"]}\n",
                        strict_args());
  CHECK(post_status(server, kAlpha, "from the file") == 202);
  CHECK(post_status(server, kBravo, "from the secret") == 202);
  CHECK(post_status(server, kCharlie, "unknown") == 401);

  // The file is rewritten: within the watch interval the new token works and the old one is
  // refused, and nobody sent a signal.
  replace_file(dir / "agent-token", kCharlie + "\n");
  CHECK(eventually([&] { return post_status(server, kCharlie, "rewritten") == 202; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(post_status(server, kAlpha, "old") == 401);

  // The Kubernetes way: the path's own inode never changes, ..data points elsewhere.
  secret.publish({{"token", kAlpha}});
  CHECK(eventually([&] { return post_status(server, kAlpha, "swapped") == 202; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(post_status(server, kBravo, "old secret") == 401);
  CHECK(post_status(server, kCharlie, "still the file") == 202);

  const std::string log = server.log();
  CHECK(log.find("token files changed") != std::string::npos);
  for (const auto& t : {kAlpha, kBravo, kCharlie}) {
    CHECK(log.find(t) == std::string::npos);  // never logged
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("a broken token file keeps the running tokens and says why", "[token_files]") {
  redis_process redis;
  const fs::path dir = make_temp_dir("token-files-broken");
  replace_file(dir / "token", kAlpha + "\n");
  replace_file(dir / "tokens.yaml", "- {name: listed, token: " + kBravo + ", services: [\"*\"]}\n");
  server_process server(journal_only_yaml(redis) + "auth:\n  tokens_file: \"" +
                            (dir / "tokens.yaml").string() +
                            "\"\n  tokens:\n    - {name: agents, token_file: \"" +
                            (dir / "token").string() + "\", services: [\"*\"]}\n",
                        strict_args());
  REQUIRE(post_status(server, kAlpha, "a") == 202);
  REQUIRE(post_status(server, kBravo, "b") == 202);

  // Each breakage in turn: refused, logged with the key, and both old tokens keep working.
  const std::vector<std::pair<std::string, std::string>> breakages = {
      {"empty token file", "auth.tokens[0].token_file: " + (dir / "token").string()},
      {"two lines", "holds more than one line"},
      {"not yaml", "auth.tokens_file: " + (dir / "tokens.yaml").string() + ": not YAML"},
      {"weak", "auth.tokens_file[0].token: the token is a known placeholder"},
      {"gone", "cannot read the file"},
  };
  for (const auto& breakage : breakages) {
    const std::string what = breakage.first;
    const std::string expected = breakage.second;
    SECTION(what) {
      if (what == "empty token file") {
        replace_file(dir / "token", "\n");
      } else if (what == "two lines") {
        replace_file(dir / "token", kCharlie + "\n" + kAlpha + "\n");
      } else if (what == "not yaml") {
        replace_file(dir / "tokens.yaml", "- {name: listed, token: [unclosed\n");
      } else if (what == "weak") {
        replace_file(dir / "tokens.yaml",
                     "- {name: listed, token: please-change-me-now, services: [\"*\"]}\n");
      } else {
        fs::remove(dir / "tokens.yaml");
      }
      CHECK(eventually([&] { return server.log().find(expected) != std::string::npos; },
                       std::chrono::seconds(10), std::chrono::milliseconds(100)));
      INFO(server.log());
      CHECK(server.log().find("token file change): refused") != std::string::npos);
      CHECK(post_status(server, kAlpha, "kept a") == 202);
      CHECK(post_status(server, kBravo, "kept b") == 202);
      CHECK(server.log().find("please-change-me-now") == std::string::npos);
      CHECK(server.log().find(kCharlie) == std::string::npos);

      // Fixed: the change is taken (a refused content is not retried, a new one is).
      replace_file(dir / "token", kCharlie + "\n");
      replace_file(dir / "tokens.yaml",
                   "- {name: listed, token: " + kBravo + ", services: [\"*\"]}\n");
      CHECK(eventually([&] { return post_status(server, kCharlie, "fixed") == 202; },
                       std::chrono::seconds(10), std::chrono::milliseconds(100)));
      CHECK(post_status(server, kBravo, "b again") == 202);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("token rotation with overlap: an agent that switches during the window never sees 401",
          "[token_files]") {
  redis_process redis;
  const fs::path dir = make_temp_dir("token-rotation");
  const fs::path tokens = dir / "tokens.yaml";
  auto entry = [](const std::string& name, const std::string& token) {
    return "- {name: " + name + ", token: " + token + ", services: [\"*\"]}\n";
  };
  replace_file(tokens, entry("agents-2026-11", kAlpha));
  server_process server(
      journal_only_yaml(redis) + "auth:\n  tokens_file: \"" + tokens.string() + "\"\n",
      strict_args());

  agent_loop agent(server, kAlpha);
  CHECK(agent.wait_sent(20));

  // 1. Add the new token beside the old one; 2. check that the server takes it (what the
  // operator's curl does); 3. switch the agent; 4. remove the old token; 5. check it is refused.
  replace_file(tokens, entry("agents-2026-11", kAlpha) + entry("agents-2026-12", kBravo));
  CHECK(eventually([&] { return post_status(server, kBravo, "operator check") == 202; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(agent.wait_sent(20));
  agent.use(kBravo);
  CHECK(agent.wait_sent(20));
  replace_file(tokens, entry("agents-2026-12", kBravo));
  CHECK(eventually([&] { return post_status(server, kAlpha, "old refused") == 401; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(agent.wait_sent(20));
  agent.finish();

  INFO("sent " << agent.sent.load() << ", 202: " << agent.count(202)
               << ", 401: " << agent.count(401));
  CHECK(agent.count(401) == 0);
  CHECK(agent.count(202) == agent.sent.load());
  CHECK(agent.sent.load() >= 80);
  CHECK(server.log().find("auth.tokens added [agents-2026-12]") != std::string::npos);
  CHECK(server.log().find("removed [agents-2026-11]") != std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("token rotation through a Kubernetes Secret volume: token, next, previous",
          "[token_files]") {
  // deploy/k8s/luffy-configmap.yaml's entries and docs/OPERATIONS.md's procedure: agents take
  // key `token` when they start; `next` and `previous` exist only during the rotation.
  redis_process redis;
  const fs::path dir = make_temp_dir("token-k8s");
  secret_volume secret(dir / "secret", {{"token", kAlpha}});
  std::string yaml = journal_only_yaml(redis) + "auth:\n  tokens:\n";
  for (const char* key : {"token", "next", "previous"}) {
    yaml += std::string("    - {name: agents-") + key + ", token_file: \"" +
            (dir / "secret" / key).string() + "\", services: [\"*\"]" +
            (std::string(key) == "token" ? "" : ", optional: true") + "}\n";
  }
  server_process server(yaml, strict_args());
  agent_loop running(server, kAlpha);  // started before the rotation: keeps kAlpha until rolled
  CHECK(running.wait_sent(20));
  CHECK(post_status(server, kBravo, "not yet") == 401);

  // 1. next = NEW; 2. the operator waits until the server takes it.
  secret.publish({{"token", kAlpha}, {"next", kBravo}});
  CHECK(eventually([&] { return post_status(server, kBravo, "operator check") == 202; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  // 3. one update: token = NEW, previous = OLD, next gone. An agent started now takes NEW.
  secret.publish({{"token", kBravo}, {"previous", kAlpha}});
  agent_loop started(server, kBravo);
  CHECK(eventually(
      [&] {
        return server.log().find("changed [agents-token, agents-next, agents-previous]") !=
               std::string::npos;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(running.wait_sent(20));
  // the rollout: the running agent restarts with NEW
  running.use(kBravo);
  CHECK(running.wait_sent(20));
  // 4. previous removed: OLD is refused from the next poll on.
  secret.publish({{"token", kBravo}});
  CHECK(eventually([&] { return post_status(server, kAlpha, "old refused") == 401; },
                   std::chrono::seconds(10), std::chrono::milliseconds(100)));
  CHECK(running.wait_sent(20));
  running.finish();
  started.finish();
  INFO("running: sent " << running.sent.load() << ", 401: " << running.count(401)
                        << "; started: sent " << started.sent.load()
                        << ", 401: " << started.count(401));
  CHECK(running.count(401) == 0);
  CHECK(started.count(401) == 0);
  CHECK(running.count(202) == running.sent.load());
  CHECK(started.count(202) == started.sent.load());
  const std::string log = server.log();
  CHECK(log.find(kAlpha) == std::string::npos);
  CHECK(log.find(kBravo) == std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("placeholder and short tokens are refused at start-up and by check-config",
          "[token_files]") {
  const fs::path dir = make_temp_dir("token-weak");
  replace_file(dir / "placeholder-token", "our-example-token-for-docs\n");
  struct weak_case {
    std::string yaml_token;  // the credential part of the entry
    std::string key;         // what the message must name
    std::string secret;      // what it must not print
  };
  const std::vector<weak_case> cases = {
      {"token: dev-token-change-me", "auth.tokens[0].token: the token is a known placeholder",
       "dev-token-change-me"},
      {"token: short-tok", "auth.tokens[0].token: the token is shorter than 16 characters",
       "short-tok"},
      {"token: SECRET", "auth.tokens[0].token: the token is a known placeholder", "SECRET"},
      {"token_file: \"" + (dir / "placeholder-token").string() + "\"",
       "auth.tokens[0].token_file: the token in " + (dir / "placeholder-token").string() +
           " is a known placeholder",
       "our-example-token-for-docs"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml_token);
    const fs::path cfg = dir / "luffy.yaml";
    std::ofstream(cfg, std::ios::trunc)
        << "auth:\n  tokens:\n    - {name: agents, " << c.yaml_token << ", services: [\"*\"]}\n";
    for (const char* command : {"check-config", "serve"}) {
      // serve stops before it starts anything: the same check as check-config.
      const auto [code, out] =
          run_binary({command, "--config", cfg.string(), "--set", "auth.allow_weak_tokens=false",
                      "--set", "server.listen=127.0.0.1:" + std::to_string(free_port())});
      INFO(command << ": " << out);
      CHECK(code == 1);
      CHECK(out.find(c.key) != std::string::npos);
      CHECK(out.find(c.secret) == std::string::npos);
    }
    // Allowed explicitly: a warning naming the token entry, and check-config passes.
    const auto [code, out] = run_binary(
        {"check-config", "--config", cfg.string(), "--set", "auth.allow_weak_tokens=true"});
    INFO(out);
    CHECK(code == 0);
    CHECK(out.find("warning: token \"agents\"") != std::string::npos);
    CHECK(out.find(c.secret) == std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
