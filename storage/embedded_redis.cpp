#include "storage/embedded_redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace luffy {

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

embedded_redis::~embedded_redis() {
  stop();
}

std::string embedded_redis::start(const std::string& binary, const std::string& data_dir, int port,
                                  const std::string& fsync) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return "cannot create storage.data_dir " + data_dir + ": " + ec.message();
  }
  const fs::path dir = fs::absolute(data_dir);
  if (port == 0) {
    port = free_loopback_port();
    if (port <= 0) {
      return "no free loopback port for the embedded Redis";
    }
  }
  const std::string sock = (dir / "redis.sock").string();
  const bool use_socket = sock.size() < 100;  // sun_path limit
  const std::string log = (dir / "redis.log").string();
  std::vector<std::string> args = {binary, "--port", std::to_string(port), "--bind", "127.0.0.1",
                                   "--protected-mode", "yes", "--dir", dir.string(), "--appendonly",
                                   "yes", "--appendfsync", fsync, "--save", "",
                                   // AOF rewrites fork and copy the whole dataset; while the
                                   // journal is a backlog they are the largest cost, so rewrite
                                   // only past 1 GiB and skip LZF compression of the preamble.
                                   "--auto-aof-rewrite-min-size", "1gb", "--rdbcompression", "no",
                                   "--daemonize", "no", "--logfile", log};
  if (use_socket) {
    args.insert(args.end(), {"--unixsocket", sock, "--unixsocketperm", "700"});
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return "fork failed";
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(1);  // the parent died before prctl took effect
    }
    // The server blocks its stop signals to wait for them; Redis must get them normally.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::setpgid(0, 0);  // a terminal's Ctrl-C goes to the server, which stops Redis in order
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  endpoint_.host = "127.0.0.1";
  endpoint_.port = static_cast<uint16_t>(port);
  endpoint_.unix_socket = use_socket ? sock : "";
  endpoint_.timeout = std::chrono::milliseconds(2000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      std::string line, tail;
      while (std::getline(in, line))
        tail = line;
      return "redis-server (" + binary + ") exited at start" +
             (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": binary not found" : "") +
             (tail.empty() ? "" : ": " + tail);
    }
    redis_client probe(endpoint_);
    auto r = probe.command({"PING"});
    if (r.ok() && r.value->str == "PONG") {
      return "";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return "redis-server did not answer PING within 30 s";
}

void embedded_redis::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace luffy
