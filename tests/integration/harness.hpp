#pragma once
// Integration-test harness: real processes on free loopback ports, stopped by PID.
//  - redis_process: a redis-server with a temp dir (AOF on), restartable on the same port/dir;
//    kill() is an abrupt outage (SIGKILL).
//  - server_process: the luffy-ingest binary with a generated YAML config.
//  - server_process::call(): one request over Poco's client on 127.0.0.1; ingest_post() and
//    api_call() build the usual ones, storage_yaml() / journal_only_yaml() the usual config lines.
//  - connect_loopback(): a raw socket, for clients that misbehave.
// Every process started here is stopped by its destructor (SIGTERM, then SIGKILL after 10 s).
#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/keys.hpp"  // tests name keys as the server does
#include "storage/redis_client.hpp"

namespace luffy::test {

std::filesystem::path make_temp_dir(const std::string& tag);
int free_port();
std::string read_text(const std::filesystem::path& p);
// The non-empty lines of `text` (a JSONL corpus, the offline `cluster` command's output).
std::vector<std::string> lines_of(const std::string& text);
// Seconds since `t` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point t);

// Raw sockets, for clients that misbehave. loopback_address: 127.0.0.1:port. connect_loopback: a
// blocking TCP socket connected to it, bound first to `source` when given (any 127.x address is
// loopback); -1 when it cannot connect.
sockaddr_in loopback_address(int port);
int connect_loopback(int port, const char* source = nullptr);
// Sends `request` whole on `fd`, reads until the peer closes, closes `fd`. Returns what was read
// ("" when the send failed).
std::string exchange_until_close(int fd, const std::string& request);

// Starts argv[0] with args, stdout+stderr to `log`. Returns the pid.
pid_t spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& log,
                    const std::vector<std::pair<std::string, std::string>>& env = {},
                    const std::string& stdin_path = "");
// SIGTERM, wait up to `seconds`, then SIGKILL. Returns the exit status (waitpid form).
int stop_process(pid_t pid, int seconds = 10, int sig = 15);
bool process_alive(pid_t pid);

class redis_process {
 public:
  // `extra_args` are appended to the redis-server command line (e.g. {"--appendfsync", "always"}).
  explicit redis_process(std::vector<std::string> extra_args = {});
  ~redis_process();
  void start();
  void stop();
  void kill();  // SIGKILL, then reaps it: no shutdown, no final AOF flush
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  redis_endpoint endpoint() const;
  // Runs one command and returns the reply (REQUIREs success).
  redis_value cmd(const std::vector<std::string>& args) const;

 private:
  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
  std::vector<std::string> extra_args_;
};

struct http_reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct http_call {
  std::string method = "POST";
  std::string path = "/api/v1/ingest/logs";
  std::vector<std::pair<std::string, std::string>> headers;  // sent in order, duplicates kept
  std::string body;
};

// A JSON POST to the ingest endpoint (/api/v1/ingest/logs) with `Authorization: Bearer <token>`
// (no Authorization header when token is "").
http_call ingest_post(const std::string& body, const std::string& token = "tok");
// An API call with `Authorization: Bearer <token>` (none when token is ""), and
// `Content-Type: application/json` when there is a body.
http_call api_call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "");

// Config YAML lines: `storage: {redis: "<redis.url()>"}`; journal_only_yaml adds
// `clustering: {enabled: false}`, for tests that read the journal before it is clustered or only
// exercise the HTTP edge.
std::string storage_yaml(const redis_process& redis);
std::string journal_only_yaml(const redis_process& redis);

class server_process {
 public:
  // `yaml` is the config minus server.listen (added here); `extra_args` go after --config.
  server_process(const std::string& yaml, std::vector<std::string> extra_args = {},
                 std::vector<std::pair<std::string, std::string>> env = {});
  ~server_process();
  void start();            // waits for /health
  int stop(int sig = 15);  // returns the exit status
  bool wait_ready(int seconds = 20);
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The YAML file the server was started with (tests rewrite it to exercise hot reload).
  std::filesystem::path config_path() const { return dir_ / "luffy.yaml"; }
  std::string log() const;
  http_reply call(const http_call& c) const;
  http_reply get(const std::string& path) const;

 private:
  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
  std::vector<std::string> extra_args_;
  std::vector<std::pair<std::string, std::string>> env_;
};

// Path of the built binary (compile definition).
std::string server_binary();
std::filesystem::path fixtures_dir();

// Runs the binary with args to completion; returns {exit code, stdout+stderr}.
std::pair<int, std::string> run_binary(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {},
    const std::string& stdin_path = "");

// A JSON field of a flat reply: "accepted_count":N -> N (or -1).
long json_int(const std::string& body, const std::string& key);
std::string json_str(const std::string& body, const std::string& key);

// A field of <prefix>:stats (processed, clusters, dead_lettered, ...), 0 when absent.
long stats_field(const redis_process& redis, const std::string& field,
                 const std::string& prefix = "luffy");
// Waits (up to `seconds`) until `processed` reaches `expected`; true when it is exactly that.
bool wait_processed(const redis_process& redis, long expected, int seconds = 30);

// Polls `pred` every `poll` until it holds or `limit` passes; returns its last answer.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20),
                std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(poll);
  }
  return pred();
}
// The sum of the counts of every listed cluster (<prefix>:clusters:by_count).
long sum_of_cluster_counts(const redis_process& redis, const std::string& prefix = "luffy");
// Every entry of a stream, oldest first, as field -> value.
std::vector<std::map<std::string, std::string>> stream_entries(const redis_process& redis,
                                                               const std::string& key);

// Every record line stored in the journal streams (<prefix>:journal:*).
std::vector<std::string> journal_records(const redis_process& redis,
                                         const std::string& prefix = "luffy");

}  // namespace luffy::test
