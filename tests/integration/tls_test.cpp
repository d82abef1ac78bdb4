// TLS on the listener (server.tls.cert_file / key_file, net/tls_terminator.hpp), through the
// real binary with certificates made here by `openssl`, and real clients (curl, openssl
// s_client): a verifying client ingests and reads /health; TLS 1.0/1.1 are refused by the
// server (the client is told to accept them); a client trusting another CA and a client given
// an expired server certificate refuse; plain HTTP to the TLS port is answered 400 and closed at
// once; a silent client does not stall the handshakes of others; check-config names a bad pair;
// a plain-HTTP config still serves plain HTTP.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;
namespace fs = std::filesystem;

namespace {

using clk = std::chrono::steady_clock;

const std::string kAuth =
    "auth:\n  tokens:\n    - {name: t, token: tls-token, services: [\"*\"]}\n";

// Runs a shell command; returns {exit code, stdout+stderr}.
std::pair<int, std::string> sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) {
    out.append(buf.data(), n);
  }
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// A CA, a server certificate for 127.0.0.1 signed by it, an expired one, and a second CA.
struct pki {
  fs::path dir = make_temp_dir("tls");
  pki() {
    const std::string d = dir.string();
    std::ofstream(dir / "san.cnf") << "subjectAltName=IP:127.0.0.1\n";
    for (const char* ca : {"ca", "ca2"}) {
      auto r = sh("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout " + ca +
                  ".key -out " + ca + ".crt -days 30 -subj /CN=luffy-test-" + ca);
      INFO(r.second);
      REQUIRE(r.first == 0);
    }
    auto r = sh("cd " + d +
                " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
                "-subj /CN=127.0.0.1"
                " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                "-out server.crt -days 30 -extfile san.cnf"
                " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                "-out expired.crt -days -1 -extfile san.cnf"
                " && openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr "
                "-subj /CN=other"
                " && openssl req -newkey rsa:2048 -nodes -keyout rotated.key -out rotated.csr "
                "-subj /CN=127.0.0.1"
                " && openssl x509 -req -in rotated.csr -CA ca2.crt -CAkey ca2.key "
                "-CAcreateserial -out rotated.crt -days 30 -extfile san.cnf");
    INFO(r.second);
    REQUIRE(r.first == 0);
    // Client certificates: an agent (CN and DNS SAN), a SPIFFE-style identity (URI SAN only,
    // CN unmapped), a stranger (verified, mapped by nothing), the agent's name signed by the
    // other CA, and an expired agent certificate.
    std::ofstream(dir / "agent.cnf")
        << "subjectAltName=DNS:node-1.agents.luffy\nextendedKeyUsage=clientAuth\n";
    std::ofstream(dir / "spiffe.cnf")
        << "subjectAltName=URI:spiffe://prod/ns/logging/sa/console\nextendedKeyUsage=clientAuth\n";
    std::ofstream(dir / "plain.cnf") << "extendedKeyUsage=clientAuth\n";
    auto client = [&](const std::string& name, const std::string& cn, const char* ca,
                      const char* ext, const char* days) {
      auto c = sh("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout " + name +
                  ".key -out " + name + ".csr -subj /CN=" + cn + " && openssl x509 -req -in " +
                  name + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -out " +
                  name + ".crt -days " + days + " -extfile " + ext);
      INFO(c.second);
      REQUIRE(c.first == 0);
    };
    client("agent", "fluent-bit.node-1.agents", "ca", "agent.cnf", "30");
    client("spiffe", "console-7", "ca", "spiffe.cnf", "30");
    client("stranger", "stranger", "ca", "plain.cnf", "30");
    client("rogue", "fluent-bit.node-1.agents", "ca2", "agent.cnf", "30");
    client("agent-expired", "fluent-bit.node-1.agents", "ca", "agent.cnf", "-1");
  }
  ~pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const char* name) const { return (dir / name).string(); }
};

pki& shared_pki() {
  static pki p;
  return p;
}

std::string tls_yaml(const redis_process& redis, const std::string& cert, const std::string& key) {
  return "server: {threads: 4, header_timeout_seconds: 2, max_connections_per_client: 8,\n"
         "  tls: {cert_file: \"" +
         cert + "\", key_file: \"" + key +
         "\"}}\n"
         "auth:\n  tokens:\n    - {name: t, token: tls-token, services: [\"*\"]}\n"
         "    - {name: admin, token: tls-admin, services: [\"*\"], admin: true}\n" +
         journal_only_yaml(redis);
}

std::string tls_yaml(const redis_process& redis, const pki& p, const char* cert = "server.crt") {
  return tls_yaml(redis, p.path(cert), p.path("server.key"));
}

// The binary serving `yaml` on a free port; ready once a TCP connect succeeds and the process
// lives (the harness's server_process polls /health over plain HTTP).
struct tls_server {
  fs::path dir = make_temp_dir("tls-server");
  int port = free_port();
  pid_t pid = -1;
  explicit tls_server(const std::string& yaml) {
    std::ofstream(dir / "luffy.yaml") << yaml;
    pid = spawn_process(
        {server_binary(), "serve", "--config", (dir / "luffy.yaml").string(), "--set",
         "server.listen=127.0.0.1:" + std::to_string(port), "--set", "auth.allow_weak_tokens=true"},
        dir / "server.log");
    const bool up = eventually([&] {
      if (!process_alive(pid)) {
        return true;
      }
      const int fd = connect_loopback(port);
      if (fd < 0) {
        return false;
      }
      ::close(fd);
      return true;
    });
    INFO(read_text(dir / "server.log"));
    REQUIRE(up);
    REQUIRE(process_alive(pid));
  }
  ~tls_server() {
    stop_process(pid);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port) + path;
  }
  std::string log() const { return read_text(dir / "server.log"); }
};

// curl's exit code and "<status>" (-w %{http_code}) with its output.
std::pair<int, std::string> curl(const std::string& args) {
  return sh("curl -sS --max-time 5 -o /dev/null -w '%{http_code}' " + args);
}

}  // namespace

TEST_CASE("a verifying client ingests and reads health over TLS", "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  tls_server server(tls_yaml(redis, p));
  const std::string ca = "--cacert " + p.path("ca.crt") + " ";

  auto health = curl(ca + server.url("/health"));
  INFO(health.second << server.log());
  CHECK(health.first == 0);
  CHECK(health.second == "200");

  auto ingest = curl(ca +
                     "-H 'Authorization: Bearer tls-token' -H 'Content-Type: application/json' "
                     "--data '[{\"service\":\"checkout\",\"level\":\"error\",\"message\":\"boom "
                     "over tls\"}]' " +
                     server.url("/api/v1/ingest/logs"));
  INFO(ingest.second);
  CHECK(ingest.first == 0);
  CHECK(ingest.second == "202");

  // Keep-alive through the relay: two requests on one connection.
  auto two =
      sh("curl -sS --max-time 5 -o /dev/null -o /dev/null -w '%{http_code} "
         "%{num_connects}\\n' " +
         ca + server.url("/health") + " " + server.url("/health"));
  INFO(two.second);
  CHECK(two.first == 0);
  CHECK(two.second == "200 1\n200 0\n");

  // Without a token, the answer is the usual 401 (authorization is unchanged under TLS).
  auto anon = curl(ca + "--data '[]' " + server.url("/api/v1/ingest/logs"));
  CHECK(anon.second == "401");
}

TEST_CASE("TLS 1.0 and 1.1 are refused by the server, 1.2 and 1.3 accepted", "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  tls_server server(tls_yaml(redis, p));
  const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(server.port) +
                              " -CAfile " + p.path("ca.crt") + " -verify_return_error </dev/null";
  // SECLEVEL=0 makes the client willing to speak the old versions: the refusal is the server's.
  for (const char* old : {"-tls1", "-tls1_1"}) {
    auto r = sh(connect + " " + old + " -cipher 'DEFAULT:@SECLEVEL=0'");
    INFO(old << ": " << r.second);
    CHECK(r.first != 0);
    CHECK(r.second.find("alert protocol version") != std::string::npos);
  }
  for (const char* good : {"-tls1_2", "-tls1_3"}) {
    auto r = sh(connect + " " + good);
    INFO(good << ": " << r.second);
    CHECK(r.first == 0);
    CHECK(r.second.find("Verify return code: 0 (ok)") != std::string::npos);
  }
  // A TLS 1.2 client offering only weak ciphers finds none in common.
  auto weak = sh(connect + " -tls1_2 -cipher 'AES128-SHA:DES-CBC3-SHA:@SECLEVEL=0'");
  INFO(weak.second);
  CHECK(weak.first != 0);
}

TEST_CASE("a client trusting another CA or given an expired certificate refuses", "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  {
    tls_server server(tls_yaml(redis, p));
    auto wrong = curl("--cacert " + p.path("ca2.crt") + " " + server.url("/health"));
    INFO(wrong.second);
    CHECK(wrong.first == 60);  // peer certificate cannot be authenticated
  }
  tls_server expired(tls_yaml(redis, p, "expired.crt"));
  auto r = curl("--cacert " + p.path("ca.crt") + " " + expired.url("/health"));
  INFO(r.second);
  CHECK(r.first == 60);
  CHECK(r.second.find("expired") != std::string::npos);
  // The server is up and serving that certificate (a non-verifying client gets through), and
  // said so at start.
  auto insecure = curl("-k " + expired.url("/health"));
  CHECK(insecure.second == "200");
  CHECK(expired.log().find("has expired") != std::string::npos);
}

TEST_CASE("plain HTTP to the TLS port gets 400 and a close at once", "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  tls_server server(tls_yaml(redis, p));
  const int fd = connect_loopback(server.port);
  REQUIRE(fd >= 0);
  const std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  const auto t0 = clk::now();
  std::string got;
  bool closed = false;
  while (seconds_since(t0) < 1.0 && !closed) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      char buf[1024];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
      } else {
        got.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  INFO(got);
  CHECK(closed);
  CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(got.find("\"error\":\"tls_required\"") != std::string::npos);
  // And curl speaking http:// to it gets the same 400, the server still serves TLS.
  auto r = curl("http://127.0.0.1:" + std::to_string(server.port) + "/health");
  CHECK(r.second == "400");
  CHECK(curl("--cacert " + p.path("ca.crt") + " " + server.url("/health")).second == "200");
}

TEST_CASE("a silent client does not stall other handshakes and is cut at the head deadline",
          "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  tls_server server(tls_yaml(redis, p));
  // Connected, never sends a byte: the handshake waits on it without blocking anyone.
  const int silent = connect_loopback(server.port);
  REQUIRE(silent >= 0);
  const auto t0 = clk::now();
  auto r = curl("--cacert " + p.path("ca.crt") + " " + server.url("/health"));
  CHECK(r.second == "200");
  CHECK(seconds_since(t0) < 1.0);
  // server.header_timeout_seconds is 2 here: the silent connection is closed by then.
  pollfd pfd{silent, POLLIN, 0};
  REQUIRE(::poll(&pfd, 1, 4000) == 1);
  char c = 0;
  CHECK(::recv(silent, &c, 1, 0) <= 0);
  CHECK(seconds_since(t0) < 3.5);
  ::close(silent);
}

TEST_CASE("a reload re-reads the certificate files and refuses a broken pair", "[tls]") {
  redis_process redis;
  const pki& p = shared_pki();
  const fs::path live = make_temp_dir("tls-live");
  const auto cert = live / "tls.crt";
  const auto key = live / "tls.key";
  auto put = [&](const char* c, const char* k) {
    fs::copy_file(p.path(c), cert, fs::copy_options::overwrite_existing);
    fs::copy_file(p.path(k), key, fs::copy_options::overwrite_existing);
  };
  put("server.crt", "server.key");
  tls_server server(tls_yaml(redis, cert.string(), key.string()));
  const std::string ca1 = "--cacert " + p.path("ca.crt") + " ";
  const std::string ca2 = "--cacert " + p.path("ca2.crt") + " ";
  auto reload = [&] {
    return sh(
        "curl -sS --max-time 5 -k -X POST -H 'Authorization: Bearer tls-admin' -w "
        "' %{http_code}' " +
        server.url("/api/v1/admin/reload"));
  };
  REQUIRE(curl(ca1 + server.url("/health")).second == "200");

  // Rotated in place (same paths, a new key and a certificate from another CA): the admin
  // reload re-reads them, new connections get the new certificate.
  put("rotated.crt", "rotated.key");
  auto r = reload();
  INFO(r.second << server.log());
  CHECK(r.second.find(" 200") != std::string::npos);
  CHECK(curl(ca2 + server.url("/health")).second == "200");
  CHECK(curl(ca1 + server.url("/health")).first == 60);

  // A key that does not match: 422 naming it, the running pair keeps serving.
  fs::copy_file(p.path("other.key"), key, fs::copy_options::overwrite_existing);
  r = reload();
  INFO(r.second);
  CHECK(r.second.find(" 422") != std::string::npos);
  CHECK(r.second.find("does not match the certificate") != std::string::npos);
  CHECK(curl(ca2 + server.url("/health")).second == "200");

  // An expired certificate with its key: refused as well.
  put("expired.crt", "server.key");
  r = reload();
  INFO(r.second);
  CHECK(r.second.find(" 422") != std::string::npos);
  CHECK(r.second.find("has expired") != std::string::npos);
  CHECK(curl(ca2 + server.url("/health")).second == "200");

  // SIGHUP does the same as the admin call.
  put("server.crt", "server.key");
  REQUIRE(::kill(server.pid, SIGHUP) == 0);
  CHECK(eventually([&] { return curl(ca1 + server.url("/health")).second == "200"; },
                   std::chrono::seconds(10), std::chrono::milliseconds(200)));
  std::error_code ec;
  fs::remove_all(live, ec);
}

TEST_CASE("check-config names an unreadable or mismatched certificate pair", "[tls]") {
  const pki& p = shared_pki();
  const fs::path dir = make_temp_dir("tls-check");
  auto check = [&](const std::string& cert, const std::string& key) {
    std::ofstream(dir / "luffy.yaml", std::ios::trunc)
        << "server:\n  tls: {cert_file: \"" + cert + "\", key_file: \"" + key + "\"}\n" + kAuth;
    return run_binary({"check-config", "--config", (dir / "luffy.yaml").string()});
  };
  auto ok = check(p.path("server.crt"), p.path("server.key"));
  INFO(ok.second);
  CHECK(ok.first == 0);

  auto mismatch = check(p.path("server.crt"), p.path("other.key"));
  INFO(mismatch.second);
  CHECK(mismatch.first == 1);
  CHECK(mismatch.second.find("server.tls.key_file: " + p.path("other.key") +
                             " does not match the certificate") != std::string::npos);

  auto missing = check(p.path("nope.crt"), p.path("server.key"));
  INFO(missing.second);
  CHECK(missing.first == 1);
  CHECK(missing.second.find("server.tls.cert_file: cannot read " + p.path("nope.crt")) !=
        std::string::npos);

  auto not_pem = check(p.path("san.cnf"), p.path("ca.crt"));
  INFO(not_pem.second);
  CHECK(not_pem.first == 1);
  CHECK(not_pem.second.find("no PEM certificate") != std::string::npos);
  CHECK(not_pem.second.find("no unencrypted PEM private key") != std::string::npos);

  std::ofstream(dir / "luffy.yaml", std::ios::trunc)
      << "server:\n  tls: {cert_file: \"" + p.path("server.crt") + "\"}\n" + kAuth;
  auto half = run_binary({"check-config", "--config", (dir / "luffy.yaml").string()});
  CHECK(half.first == 1);
  CHECK(half.second.find("cert_file and key_file go together") != std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("a config without server.tls still serves plain HTTP", "[tls]") {
  redis_process redis;
  server_process server(kAuth + journal_only_yaml(redis));
  CHECK(server.get("/health").status == 200);
  auto r = curl("http://127.0.0.1:" + std::to_string(server.port()) + "/health");
  CHECK(r.second == "200");
}

namespace {

// Mutual TLS: clients signed by ca.crt, mapped by auth.clients.
std::string mtls_yaml(const redis_process& redis, const pki& p, bool require,
                      const std::string& more_clients = "") {
  return "server: {threads: 4, header_timeout_seconds: 2, max_connections_per_client: 8,\n"
         "  tls: {cert_file: \"" +
         p.path("server.crt") + "\", key_file: \"" + p.path("server.key") +
         "\", client_ca_file: \"" + p.path("ca.crt") +
         "\", require_client_cert: " + (require ? "true" : "false") +
         "}}\n"
         "auth:\n  tokens:\n    - {name: t, token: tls-token, services: [\"*\"]}\n"
         "  clients:\n"
         "    - {name: agents, subject: \"fluent-bit.*.agents\", services: [checkout], "
         "scopes: [ingest]}\n"
         "    - {name: console, san: \"URI:spiffe://prod/ns/logging/*\", services: [\"*\"], "
         "scopes: [read]}\n" +
         more_clients + journal_only_yaml(redis);
}

// curl with a client certificate of the pki ("" = none): {exit code, "<status> <body>"}.
std::pair<int, std::string> mtls_curl(const pki& p, const std::string& cert,
                                      const std::string& args) {
  std::string who = "--cacert " + p.path("ca.crt") + " ";
  if (!cert.empty()) {
    who += "--cert " + p.path((cert + ".crt").c_str()) + " --key " +
           p.path((cert + ".key").c_str()) + " ";
  }
  return sh("curl -sS --max-time 5 -o - -w ' %{http_code}' " + who + args);
}

std::string ingest_args(const tls_server& s, const std::string& service) {
  return "-H 'Content-Type: application/json' --data '[{\"service\":\"" + service +
         "\",\"level\":\"error\",\"message\":\"boom from a certificate\"}]' " +
         s.url("/api/v1/ingest/logs");
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST_CASE(
    "a client certificate mapped in auth.clients is a credential with its services and "
    "scopes",
    "[tls][client_cert]") {
  redis_process redis;
  const pki& p = shared_pki();
  tls_server server(mtls_yaml(redis, p, false));

  // The agent certificate (subject glob): ingest for its service, nothing else.
  auto ok = mtls_curl(p, "agent", ingest_args(server, "checkout"));
  INFO(ok.second << server.log());
  CHECK(ok.first == 0);
  CHECK(ends_with(ok.second, " 202"));
  auto other = mtls_curl(p, "agent", ingest_args(server, "billing"));
  INFO(other.second);
  CHECK(ends_with(other.second, " 403"));
  CHECK(other.second.find("billing") != std::string::npos);
  auto read = mtls_curl(p, "agent", server.url("/api/v1/clusters"));
  INFO(read.second);
  CHECK(ends_with(read.second, " 403"));
  CHECK(read.second.find("insufficient_scope") != std::string::npos);
  CHECK(read.second.find("cert:agents") != std::string::npos);

  // The SPIFFE certificate (URI SAN; its CN maps nothing): read, not ingest.
  auto list = mtls_curl(p, "spiffe", server.url("/api/v1/clusters"));
  INFO(list.second);
  CHECK(ends_with(list.second, " 200"));
  auto write = mtls_curl(p, "spiffe", ingest_args(server, "checkout"));
  INFO(write.second);
  CHECK(ends_with(write.second, " 403"));
  CHECK(write.second.find("insufficient_scope") != std::string::npos);

  // A token, when sent, decides over the certificate (the read-only console posts with one).
  auto token = mtls_curl(p, "spiffe",
                         "-H 'Authorization: Bearer tls-token' " + ingest_args(server, "billing"));
  INFO(token.second);
  CHECK(ends_with(token.second, " 202"));
  auto bad_token =
      mtls_curl(p, "agent", "-H 'Authorization: Bearer wrong' " + ingest_args(server, "checkout"));
  CHECK(ends_with(bad_token.second, " 401"));

  // A verified certificate no entry maps: 401 naming it, not a silent anonymous pass.
  auto stranger = mtls_curl(p, "stranger", ingest_args(server, "checkout"));
  INFO(stranger.second);
  CHECK(ends_with(stranger.second, " 401"));
  CHECK(stranger.second.find("unknown_client_certificate") != std::string::npos);
  CHECK(stranger.second.find("CN=stranger") != std::string::npos);
  // auth.clients is reloadable: mapped by a SIGHUP, the stranger ingests.
  std::ofstream(server.dir / "luffy.yaml", std::ios::trunc)
      << mtls_yaml(redis, p, false,
                   "    - {name: newcomer, subject: stranger, services: [\"*\"], scopes: "
                   "[ingest]}\n");
  ::kill(server.pid, SIGHUP);
  CHECK(eventually([&] {
    return ends_with(mtls_curl(p, "stranger", ingest_args(server, "checkout")).second, " 202");
  }));

  // No certificate (require_client_cert: false): bearer tokens work as before, nothing is 401.
  auto no_cert =
      mtls_curl(p, "", "-H 'Authorization: Bearer tls-token' " + ingest_args(server, "billing"));
  CHECK(ends_with(no_cert.second, " 202"));
  auto anon = mtls_curl(p, "", ingest_args(server, "checkout"));
  CHECK(ends_with(anon.second, " 401"));
  CHECK(anon.second.find("missing_token") != std::string::npos);
}

TEST_CASE(
    "a client certificate from another CA, an expired one, or none under "
    "require_client_cert fails the handshake",
    "[tls][client_cert]") {
  redis_process redis;
  const pki& p = shared_pki();
  {
    tls_server server(mtls_yaml(redis, p, false));
    for (const char* cert : {"rogue", "agent-expired"}) {
      auto r = mtls_curl(p, cert, ingest_args(server, "checkout"));
      INFO(cert << ": " << r.second);
      CHECK(r.first != 0);  // the server's alert ends the handshake: no status at all
      CHECK(ends_with(r.second, " 000"));
    }
    // The server still serves the good ones after the refusals.
    CHECK(ends_with(mtls_curl(p, "agent", ingest_args(server, "checkout")).second, " 202"));
    // openssl s_client names the alert the server sent.
    auto alert = sh("openssl s_client -connect 127.0.0.1:" + std::to_string(server.port) +
                    " -CAfile " + p.path("ca.crt") + " -cert " + p.path("rogue.crt") + " -key " +
                    p.path("rogue.key") + " -tls1_2 </dev/null");
    INFO(alert.second);
    CHECK(alert.first != 0);
    CHECK(alert.second.find("alert unknown ca") != std::string::npos);
  }
  tls_server strict(mtls_yaml(redis, p, true));
  auto none =
      mtls_curl(p, "", "-H 'Authorization: Bearer tls-token' " + ingest_args(strict, "checkout"));
  INFO(none.second);
  CHECK(none.first != 0);
  CHECK(ends_with(none.second, " 000"));
  auto agent = mtls_curl(p, "agent", ingest_args(strict, "checkout"));
  INFO(agent.second << strict.log());
  CHECK(ends_with(agent.second, " 202"));
}

TEST_CASE("check-config names client-certificate mistakes", "[tls][client_cert]") {
  const pki& p = shared_pki();
  const fs::path dir = make_temp_dir("tls-check-clients");
  auto check = [&](const std::string& yaml) {
    std::ofstream(dir / "luffy.yaml", std::ios::trunc) << yaml;
    return run_binary({"check-config", "--config", (dir / "luffy.yaml").string()});
  };
  const std::string tls = "server:\n  tls: {cert_file: \"" + p.path("server.crt") +
                          "\", key_file: \"" + p.path("server.key") + "\"";
  auto no_ca = check(tls + "}\nauth:\n  clients:\n    - {subject: a, services: [x]}\n");
  INFO(no_ca.second);
  CHECK(no_ca.first == 1);
  CHECK(no_ca.second.find("auth.clients: client certificates need server.tls.client_ca_file") !=
        std::string::npos);

  auto unreadable = check(tls + ", client_ca_file: \"" + p.path("nope-ca.crt") + "\"}\n" + kAuth);
  INFO(unreadable.second);
  CHECK(unreadable.first == 1);
  CHECK(unreadable.second.find("server.tls.client_ca_file: cannot read " + p.path("nope-ca.crt")) !=
        std::string::npos);

  auto both = check(tls + ", client_ca_file: \"" + p.path("ca.crt") +
                    "\"}\nauth:\n  clients:\n    - {subject: a, san: \"DNS:a\", services: [x]}\n"
                    "    - {san: \"dns-a\", services: [x]}\n"
                    "    - {subject: a, token: nope, services: [x]}\n");
  INFO(both.second);
  CHECK(both.first == 1);
  CHECK(both.second.find("auth.clients[0]: needs exactly one of `subject`") != std::string::npos);
  CHECK(both.second.find("auth.clients[1].san: expected DNS:<glob>") != std::string::npos);
  CHECK(both.second.find("auth.clients[2].token: not a client key") != std::string::npos);

  auto good = check(tls + ", client_ca_file: \"" + p.path("ca.crt") +
                    "\", require_client_cert: true}\nauth:\n  clients:\n"
                    "    - {subject: \"*.agents\", services: [\"*\"], scopes: [ingest]}\n");
  INFO(good.second);
  CHECK(good.first == 0);
  std::error_code ec;
  fs::remove_all(dir, ec);
}
