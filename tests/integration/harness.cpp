#include "harness.hpp"

#include <algorithm>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/journal_codec.hpp"
#include "storage/embedded_redis.hpp"

namespace luffy::test {

namespace fs = std::filesystem;

fs::path make_temp_dir(const std::string& tag) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto p = fs::temp_directory_path() / ("luffy-it-" + tag + "-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(rng() % 1000000));
  fs::create_directories(p);
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

sockaddr_in loopback_address(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int connect_loopback(int port, const char* source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (source != nullptr) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &s.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof s);
  }
  sockaddr_in a = loopback_address(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string exchange_until_close(int fd, const std::string& request) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

int free_port() {
  return free_loopback_port();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

pid_t spawn_process(const std::vector<std::string>& argv, const fs::path& log,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& stdin_path) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    for (const auto& [k, v] : env) {
      ::setenv(k.c_str(), v.c_str(), 1);
    }
    if (!stdin_path.empty()) {
      const int in = ::open(stdin_path.c_str(), O_RDONLY);
      if (in >= 0) {
        ::dup2(in, 0);
        ::close(in);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

bool process_alive(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

int stop_process(pid_t pid, int seconds, int sig) {
  if (pid <= 0)
    return 0;
  ::kill(pid, sig);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0)
      return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

// ---- redis ----------------------------------------------------------------------------------

redis_process::redis_process(std::vector<std::string> extra_args)
    : dir_(make_temp_dir("redis")), port_(free_port()), extra_args_(std::move(extra_args)) {
  start();
}

redis_process::~redis_process() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void redis_process::start() {
  std::vector<std::string> argv({"redis-server", "--port", std::to_string(port_), "--bind",
                                 "127.0.0.1", "--dir", dir_.string(), "--appendonly", "yes",
                                 "--save", "", "--daemonize", "no"});
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  pid_ = spawn_process(argv, dir_ / "redis.log");
  for (int i = 0; i < 200; ++i) {
    redis_client c(endpoint());
    auto r = c.command({"PING"});
    if (r.ok() && r.value->str == "PONG")
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("redis-server did not start: " << read_text(dir_ / "redis.log"));
}

void redis_process::stop() {
  stop_process(pid_);
  pid_ = -1;
}

void redis_process::kill() {
  stop_process(pid_, 10, SIGKILL);
  pid_ = -1;
}

redis_endpoint redis_process::endpoint() const {
  redis_endpoint ep;
  ep.port = static_cast<uint16_t>(port_);
  ep.timeout = std::chrono::milliseconds(5000);
  return ep;
}

redis_value redis_process::cmd(const std::vector<std::string>& args) const {
  redis_client c(endpoint());
  std::vector<std::string_view> v(args.begin(), args.end());
  auto r = c.command(v);
  REQUIRE(r.ok());
  return *r.value;
}

// ---- server ---------------------------------------------------------------------------------

namespace {

// The tests' short tokens ("tok") would be refused as weak (core/config.hpp token_weakness):
// server_process and run_binary (serve, check-config) append `--set auth.allow_weak_tokens=true`
// unless `args` name that key themselves (tests/integration/token_files_test.cpp checks the
// refusal with `auth.allow_weak_tokens=false`).
void add_weak_tokens_allowed(std::vector<std::string>& argv, const std::vector<std::string>& args) {
  const bool says = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a.find("auth.allow_weak_tokens") != std::string::npos;
  });
  if (!says) {
    argv.insert(argv.end(), {"--set", "auth.allow_weak_tokens=true"});
  }
}

}  // namespace

std::string server_binary() {
  return LUFFY_SERVER_BINARY;
}
fs::path fixtures_dir() {
  return LUFFY_FIXTURES_DIR;
}

server_process::server_process(const std::string& yaml, std::vector<std::string> extra_args,
                               std::vector<std::pair<std::string, std::string>> env)
    : dir_(make_temp_dir("server")),
      port_(free_port()),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)) {
  std::ofstream(dir_ / "luffy.yaml") << yaml;
  start();
}

server_process::~server_process() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void server_process::start() {
  std::vector<std::string> argv = {
      server_binary(), "serve",
      "--config",      (dir_ / "luffy.yaml").string(),
      "--set",         "server.listen=127.0.0.1:" + std::to_string(port_)};
  add_weak_tokens_allowed(argv, extra_args_);
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  pid_ = spawn_process(argv, dir_ / "server.log", env_);
  for (int i = 0; i < 400; ++i) {
    if (!process_alive(pid_)) {
      pid_ = -1;
      FAIL("server exited at start: " << log());
    }
    try {
      if (get("/health").status == 200)
        return;
    } catch (...) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("server did not answer /health: " << log());
}

int server_process::stop(int sig) {
  const int st = stop_process(pid_, 15, sig);
  pid_ = -1;
  return st;
}

bool server_process::wait_ready(int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (get("/ready").status == 200)
        return true;
    } catch (...) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string server_process::log() const {
  return read_text(dir_ / "server.log");
}

std::string storage_yaml(const redis_process& redis) {
  return "storage: {redis: \"" + redis.url() + "\"}\n";
}

std::string journal_only_yaml(const redis_process& redis) {
  return storage_yaml(redis) + "clustering: {enabled: false}\n";
}

http_call ingest_post(const std::string& body, const std::string& token) {
  http_call c;
  c.headers = {{"Content-Type", "application/json"}};
  if (!token.empty()) {
    c.headers.emplace_back("Authorization", "Bearer " + token);
  }
  c.body = body;
  return c;
}

http_call api_call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body) {
  http_call c;
  c.method = method;
  c.path = path;
  if (!token.empty()) {
    c.headers.emplace_back("Authorization", "Bearer " + token);
  }
  if (!body.empty()) {
    c.headers.emplace_back("Content-Type", "application/json");
  }
  c.body = body;
  return c;
}

http_reply server_process::call(const http_call& c) const {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest req(c.method, c.path, Poco::Net::HTTPMessage::HTTP_1_1);
  bool has_length = false;
  for (const auto& [k, v] : c.headers) {
    req.add(k, v);
    if (Poco::icompare(k, "Content-Length") == 0)
      has_length = true;
  }
  if (!has_length && (c.method == "POST" || !c.body.empty())) {
    req.setContentLength64(static_cast<Poco::Int64>(c.body.size()));
  }
  auto& os = session.sendRequest(req);
  os.write(c.body.data(), static_cast<std::streamsize>(c.body.size()));
  Poco::Net::HTTPResponse res;
  auto& is = session.receiveResponse(res);
  http_reply out;
  out.status = res.getStatus();
  Poco::StreamCopier::copyToString(is, out.body);
  for (const auto& [k, v] : res) {
    std::string lk = k;
    for (auto& ch : lk)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[lk] = v;
  }
  return out;
}

http_reply server_process::get(const std::string& path) const {
  http_call c;
  c.method = "GET";
  c.path = path;
  return call(c);
}

std::pair<int, std::string> run_binary(const std::vector<std::string>& args,
                                       const std::vector<std::pair<std::string, std::string>>& env,
                                       const std::string& stdin_path) {
  const auto dir = make_temp_dir("run");
  std::vector<std::string> argv = {server_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!args.empty() && (args[0] == "serve" || args[0] == "check-config")) {
    add_weak_tokens_allowed(argv, args);
  }
  const pid_t pid = spawn_process(argv, dir / "out.log", env, stdin_path);
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto out = read_text(dir / "out.log");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

long json_int(const std::string& body, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const auto p = body.find(needle);
  if (p == std::string::npos)
    return -1;
  return std::strtol(body.c_str() + p + needle.size(), nullptr, 10);
}

std::string json_str(const std::string& body, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const auto p = body.find(needle);
  if (p == std::string::npos)
    return "";
  const auto e = body.find('"', p + needle.size());
  return body.substr(p + needle.size(), e - p - needle.size());
}

std::vector<std::string> journal_records(const redis_process& redis, const std::string& prefix) {
  std::vector<std::string> out;
  const auto keys = redis.cmd({"KEYS", journal_streams_pattern(prefix)});
  for (const auto& k : keys.elements) {
    const auto entries = redis.cmd({"XRANGE", k.str, "-", "+"});
    for (const auto& e : entries.elements) {
      const auto& fields = e.elements[1].elements;
      long n = -1;
      std::string records, enc;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "n")
          n = std::stol(fields[i + 1].str);
        if (fields[i].str == "records")
          records = fields[i + 1].str;
        if (fields[i].str == "enc")
          enc = fields[i + 1].str;
      }
      const auto encoding = journal_encoding_from(enc);
      REQUIRE(encoding.has_value());
      auto decoded = decode_payload(records, *encoding);
      REQUIRE(decoded.has_value());
      records = std::move(*decoded);
      std::istringstream in(records);
      std::string line;
      long lines = 0;
      while (std::getline(in, line)) {
        out.push_back(line);
        ++lines;
      }
      REQUIRE(lines == n);  // the entry's count matches its content
    }
  }
  return out;
}

long stats_field(const redis_process& redis, const std::string& field, const std::string& prefix) {
  auto v = redis.cmd({"HGET", stats_key(prefix), field});
  return v.type == luffy::redis_value::kind::string ? std::stol(v.str) : 0;
}

bool wait_processed(const redis_process& redis, long expected, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (stats_field(redis, "processed") >= expected)
      return stats_field(redis, "processed") == expected;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

long sum_of_cluster_counts(const redis_process& redis, const std::string& prefix) {
  long sum = 0;
  for (const auto& id :
       redis.cmd({"ZRANGE", clusters_index_key(prefix, "count"), "0", "-1"}).elements) {
    sum += std::stol(redis.cmd({"HGET", cluster_key(prefix, id.str), "count"}).str);
  }
  return sum;
}

std::vector<std::map<std::string, std::string>> stream_entries(const redis_process& redis,
                                                               const std::string& key) {
  std::vector<std::map<std::string, std::string>> out;
  for (const auto& e : redis.cmd({"XRANGE", key, "-", "+"}).elements) {
    std::map<std::string, std::string> m;
    const auto& f = e.elements.at(1).elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2)
      m[f[i].str] = f[i + 1].str;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace luffy::test
