// A client with loopback access and no good intentions (the edge-hardening issue), over raw
// sockets against the real binary: request smuggling and desync attempts, a matrix of framing
// variants each followed by a pipelined request, status lines and error bodies, 100 Continue.
// Invariants checked for every case: one answer per request at most (a refused request gets
// exactly one and the connection closes), never a served hidden request ("smuggled" never
// appears in an answer), never a 5xx for client input (but 501/505, which name the client's
// error), every error a JSON body, and every answer within the documented deadlines.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace luffy::test;

namespace {

using clk = std::chrono::steady_clock;

constexpr const char* kToken = "hostile-token";
constexpr double kAnswerWithin = 2.0;  // seconds: every answer below comes this fast

struct fixture {
  redis_process redis;
  server_process server{R"(server: {threads: 8, header_timeout_seconds: 4, body_timeout_seconds: 4,
  keepalive_timeout_seconds: 10, request_timeout_seconds: 4, write_timeout_seconds: 4}
rate_limit: {per_minute: 100000000}
auth:
  tokens:
    - {name: t, token: hostile-token, services: ["*"]}
    - {name: admin, token: hostile-admin, services: ["*"], admin: true}
)" + journal_only_yaml(redis)};
};

// One server for every case here (started on first use; the harness stops it at exit).
fixture& shared() {
  static fixture f;
  return f;
}

struct response {
  int status = 0;
  std::string reason;
  std::string head;
  std::string body;
};

// A raw TCP connection from `source` (any 127.x address is loopback) to the server.
class conn {
 public:
  explicit conn(int port, const char* source = "127.0.0.1") {
    fd_ = connect_loopback(port, source);
    REQUIRE(fd_ >= 0);
  }
  ~conn() { ::close(fd_); }
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;

  void send(const std::string& d) {
    size_t off = 0;
    while (off < d.size()) {
      const ssize_t n = ::send(fd_, d.data() + off, d.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return;  // the server closed: what it answered is still readable
      }
      off += static_cast<size_t>(n);
    }
  }

  // Reads answers until the server closes, or `want` final answers are in and nothing more
  // arrives for `quiet` seconds, or `limit` seconds pass. 1xx answers are kept apart.
  std::vector<response> read(size_t want, double quiet = 0.3, double limit = 6.0) {
    const auto start = clk::now();
    auto last = clk::now();
    std::vector<response> out;
    for (;;) {
      parse(out);
      if (closed_ || seconds_since(start) > limit ||
          (out.size() >= want && seconds_since(last) > quiet)) {
        break;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char buf[65536];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          in_.append(buf, static_cast<size_t>(n));
          last = clk::now();
        } else {
          closed_ = true;  // end of stream or reset
        }
      }
    }
    parse(out);
    return out;
  }
  bool closed() const { return closed_; }
  const std::vector<response>& interim() const { return interim_; }
  int fd() const { return fd_; }

 private:
  void parse(std::vector<response>& out) {
    for (;;) {
      const auto end = in_.find("\r\n\r\n");
      if (end == std::string::npos) {
        return;
      }
      response r;
      r.head = in_.substr(0, end + 4);
      const auto sp = r.head.find(' ');
      r.status = std::atoi(r.head.c_str() + sp + 1);
      r.reason = r.head.substr(sp + 5, r.head.find("\r\n") - sp - 5);
      size_t len = 0;
      const auto cl = r.head.find("Content-Length: ");
      if (cl != std::string::npos) {
        len = std::stoul(r.head.substr(cl + 16));
      }
      if (in_.size() < end + 4 + len) {
        return;
      }
      r.body = in_.substr(end + 4, len);
      in_.erase(0, end + 4 + len);
      (r.status < 200 ? interim_ : out).push_back(std::move(r));
    }
  }
  int fd_ = -1;
  bool closed_ = false;
  std::string in_;
  std::vector<response> interim_;
};

std::string records(int n = 1) {
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    b +=
        std::string(i ? "," : "") +
        R"({"timestamp":"2026-12-02T10:00:00Z","level":"ERROR","service_id":"hostile","message":"boom )" +
        std::to_string(i) + " " + std::to_string(clk::now().time_since_epoch().count()) + "\"}";
  }
  return b + "]";
}

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kHealth = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

std::string ingest_head(const std::string& framing) {
  return std::string("POST /api/v1/ingest/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
         kToken + "\r\nContent-Type: application/json\r\n" + framing + "\r\n";
}

std::string chunked(const std::string& body) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

bool has_close(const response& r) {
  return r.head.find("Connection: close") != std::string::npos ||
         r.head.find("Connection: Close") != std::string::npos;
}

// The invariants of every answer.
void check_answers(const std::vector<response>& rs) {
  for (const auto& r : rs) {
    INFO(r.head << r.body);
    CHECK(r.body.find("smuggled") == std::string::npos);
    CHECK((r.status < 500 || r.status == 501 || r.status == 505));
    if (r.status >= 400 && !(r.status == 405 && r.body.empty())) {  // (HEAD: no body)
      CHECK(r.head.find("Content-Type: application/json") != std::string::npos);
      CHECK(r.body.rfind("{\"status\":\"error\",\"error\":\"", 0) == 0);
    }
    CHECK(r.reason != (r.status == 200 ? "" : "OK"));
  }
}

// Sends `bytes` then a pipelined GET /health. A refused request (status `refused`, not 0) gets
// exactly that one answer and the connection closes; an accepted one gets `accepted`, then the
// health check's 200 on the same connection.
void expect_framing(const std::string& name, const std::string& bytes, int refused,
                    int accepted = 202) {
  INFO("case: " << name);
  conn c(shared().server.port());
  const auto start = clk::now();
  c.send(bytes + kHealth);
  const auto rs = c.read(refused ? 1 : 2);
  check_answers(rs);
  if (refused) {
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == refused);
    CHECK(c.closed());
    CHECK(has_close(rs[0]));
  } else {
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].status == accepted);
    CHECK(rs[1].status == 200);
    CHECK(rs[1].body.find("\"status\":\"ok\"") != std::string::npos);
    CHECK(!c.closed());
  }
  CHECK(seconds_since(start) < kAnswerWithin + 0.5);
}

}  // namespace

TEST_CASE("hostile: two different Content-Length values are refused, nothing behind them runs",
          "[hostile]") {
  const std::string body = records();
  const std::string hidden = body + kSmuggled;
  for (const auto& [a, b] :
       {std::pair{body.size(), hidden.size()}, std::pair{hidden.size(), body.size()}}) {
    expect_framing("CL " + std::to_string(a) + " then " + std::to_string(b),
                   ingest_head("Content-Length: " + std::to_string(a) +
                               "\r\nContent-Length: " + std::to_string(b) + "\r\n") +
                       hidden,
                   400);
    expect_framing(
        "CL list",
        ingest_head("Content-Length: " + std::to_string(a) + ", " + std::to_string(b) + "\r\n") +
            hidden,
        400);
  }
  // Equal repeats are one value (RFC 9110 §8.6): served once, then the next request.
  expect_framing("CL repeated",
                 ingest_head("Content-Length: " + std::to_string(body.size()) +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") +
                     body,
                 0);
}

TEST_CASE("hostile: a body sent to a route that reads none is dropped, never run as a request",
          "[hostile]") {
  const std::string hidden_chunked = chunked(kSmuggled);
  struct route {
    std::string line;
    int status;
  };
  const route routes[] = {{"GET /health HTTP/1.1", 200},
                          {"GET /api/v1/clusters HTTP/1.1", 401},
                          {"POST /api/v1/admin/reload HTTP/1.1", 401},
                          {"GET /metrics HTTP/1.1", 200},
                          {"GET /nowhere HTTP/1.1", 404},
                          {"PUT /health HTTP/1.1", 405}};
  for (const auto& r : routes) {
    expect_framing(r.line + " chunked",
                   r.line + "\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + hidden_chunked, 0,
                   r.status);
    expect_framing(r.line + " with a length",
                   r.line + "\r\nHost: x\r\nContent-Length: " + std::to_string(kSmuggled.size()) +
                       "\r\n\r\n" + kSmuggled,
                   0, r.status);
  }
  // Longer than the server drops (64 KiB): answered, then the connection closes.
  conn c(shared().server.port());
  const std::string big(200 << 10, 'x');
  c.send("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
         "\r\n\r\n" + big + kSmuggled);
  const auto rs = c.read(1);
  check_answers(rs);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].status == 200);
  CHECK(has_close(rs[0]));
  CHECK(c.closed());
}

TEST_CASE("hostile: invalid Content-Length values get a JSON 400, never a guess", "[hostile]") {
  for (const std::string v : {"-1", "+5", "0x10", "", "5 5", "1e3", "5;", "١٢",
                              "99999999999999999999999999", "18446744073709551616"}) {
    expect_framing("Content-Length: [" + v + "]",
                   ingest_head("Content-Length: " + v + "\r\n") + records() + kSmuggled, 400);
  }
}

TEST_CASE("hostile: malformed chunked bodies are refused and the connection closed", "[hostile]") {
  const std::string body = records();
  char n[16];
  std::snprintf(n, sizeof n, "%zx", body.size());
  char longer[16];
  std::snprintf(longer, sizeof longer, "%zx", body.size() + 5);
  const std::string te = "Transfer-Encoding: chunked\r\n";
  const std::pair<std::string, std::string> bad[] = {
      {"invalid size zz", "zz\r\n" + body + "\r\n0\r\n\r\n" + kSmuggled},
      {"data longer than its size", "5\r\n" + body + "\r\n0\r\n\r\n" + kSmuggled},
      // Its size covers the body, the last chunk and 1 byte more: what follows is no chunk.
      {"data shorter than its size",
       std::string(longer) + "\r\n" + body + "\r\n0\r\n\r\n" + kSmuggled},
      {"negative size", "-5\r\nhello\r\n0\r\n\r\n" + kSmuggled},
      {"size with a space", std::string(n) + " \r\n" + body + "\r\n0\r\n\r\n"},
      {"bare LF after the size", std::string(n) + "\n" + body + "\r\n0\r\n\r\n"},
      {"bad extension", std::string(n) + ";=\r\n" + body + "\r\n0\r\n\r\n"},
      {"framing field in the trailers",
       std::string(n) + "\r\n" + body + "\r\n0\r\nContent-Length: 5\r\n\r\n" + kSmuggled},
      {"size overflow", "1ffffffffffffffff\r\n" + body},
  };
  for (const auto& [name, rest] : bad) {
    expect_framing(name, ingest_head(te) + rest, 400);
  }
}

TEST_CASE(
    "hostile: unknown codings, a space before the colon and a missing length are answered "
    "at once",
    "[hostile]") {
  const std::string body = chunked(records());
  expect_framing("gzip, chunked", ingest_head("Transfer-Encoding: gzip, chunked\r\n") + body, 501);
  expect_framing("xchunked", ingest_head("Transfer-Encoding: xchunked\r\n") + body, 400);
  expect_framing("identity", ingest_head("Transfer-Encoding: identity\r\n") + body, 400);
  expect_framing("gzip", ingest_head("Transfer-Encoding: gzip\r\n") + body, 400);
  expect_framing("chunked, gzip", ingest_head("Transfer-Encoding: chunked, gzip\r\n") + body, 400);
  expect_framing(
      "Content-Length space colon",
      ingest_head("Content-Length : " + std::to_string(records().size()) + "\r\n") + records(),
      400);
  // Neither length nor chunking: the body is empty; the ingest route needs one (411), and what
  // the client sends next is its next request.
  expect_framing("no length", ingest_head(""), 0, 411);
}

TEST_CASE("hostile: a matrix of framing variants, each followed by a pipelined request",
          "[hostile]") {
  const std::string body = records();
  const std::string len = std::to_string(body.size());
  const std::string cbody = chunked(body);
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", body.size());
  char HEX[16];
  std::snprintf(HEX, sizeof HEX, "%zX", body.size());
  const std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
  auto post = [&](const std::string& fields, const std::string& b) {
    return "POST /api/v1/ingest/logs HTTP/1.1\r\n" + fields + "\r\n" + b;
  };
  const std::string std_fields = "Host: x\r\n" + auth + "Content-Type: application/json\r\n";
  struct variant {
    std::string name;
    std::string bytes;
    int refused;  // 0: accepted (202, then the pipelined 200)
  };
  std::vector<variant> m = {
      {"plain length", post(std_fields + "Content-Length: " + len + "\r\n", body), 0},
      {"plain chunked", post(std_fields + "Transfer-Encoding: chunked\r\n", cbody), 0},
      {"leading empty line", "\r\n" + post(std_fields + "Content-Length: " + len + "\r\n", body),
       0},
      {"lower-case names",
       post("host: x\r\nauthorization: Bearer hostile-token\r\ncontent-type: application/json\r\n"
            "content-length: " +
                len + "\r\n",
            body),
       0},
      {"upper-case names",
       post("HOST: x\r\nAUTHORIZATION: Bearer hostile-token\r\nCONTENT-TYPE: application/json\r\n"
            "CONTENT-LENGTH: " +
                len + "\r\n",
            body),
       0},
      {"upper-case chunked", post(std_fields + "Transfer-Encoding: CHUNKED\r\n", cbody), 0},
      {"no space after colon", post(std_fields + "Content-Length:" + len + "\r\n", body), 0},
      {"tab after colon", post(std_fields + "Content-Length:\t" + len + "\r\n", body), 0},
      {"trailing whitespace", post(std_fields + "Content-Length: " + len + " \t\r\n", body), 0},
      {"leading zeros", post(std_fields + "Content-Length: 000" + len + "\r\n", body), 0},
      {"chunk extensions",
       post(std_fields + "Transfer-Encoding: chunked\r\n",
            std::string(hex) + ";a=b;c=\"d e\"\r\n" + body + "\r\n0;last\r\n\r\n"),
       0},
      {"upper-case chunk size",
       post(std_fields + "Transfer-Encoding: chunked\r\n",
            std::string(HEX) + "\r\n" + body + "\r\n0\r\n\r\n"),
       0},
      {"chunk size with leading zeros",
       post(std_fields + "Transfer-Encoding: chunked\r\n",
            "000" + std::string(hex) + "\r\n" + body + "\r\n0000\r\n\r\n"),
       0},
      {"trailers",
       post(std_fields + "Transfer-Encoding: chunked\r\n",
            std::string(hex) + "\r\n" + body + "\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n"),
       0},
      {"one-byte chunks",
       post(std_fields + "Transfer-Encoding: chunked\r\n",
            [&] {
              std::string s;
              for (char ch : body) {
                s += "1\r\n" + std::string(1, ch) + "\r\n";
              }
              return s + "0\r\n\r\n";
            }()),
       0},
      {"space before colon", post(std_fields + "Content-Length : " + len + "\r\n", body), 400},
      {"tab before colon", post(std_fields + "Content-Length\t: " + len + "\r\n", body), 400},
      {"space before colon, TE", post(std_fields + "Transfer-Encoding : chunked\r\n", cbody), 400},
      {"obs-fold value", post(std_fields + "Content-Length:\r\n " + len + "\r\n", body), 400},
      {"obs-fold TE", post(std_fields + "Transfer-Encoding:\r\n\tchunked\r\n", cbody), 400},
      {"obs-fold other field",
       post(std_fields + "X-Note: a\r\n b\r\nContent-Length: " + len + "\r\n", body), 400},
      {"whitespace before the first field",
       "POST /api/v1/ingest/logs HTTP/1.1\r\n Content-Length: " + len + "\r\n" + std_fields +
           "\r\n" + body,
       400},
      {"bare LF line", post(std_fields + "Content-Length: " + len + "\n", body), 400},
      {"bare LF everywhere",
       "POST /api/v1/ingest/logs HTTP/1.1\nHost: x\nContent-Length: " + len + "\n\n" + body, 400},
      {"CR without LF", post(std_fields + "Content-Length: " + len + "\rX: y\r\n", body), 400},
      {"duplicate TE",
       post(std_fields + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", cbody),
       400},
      {"TE list chunked twice", post(std_fields + "Transfer-Encoding: chunked, chunked\r\n", cbody),
       400},
      {"TE with parameters", post(std_fields + "Transfer-Encoding: chunked;q=1\r\n", cbody), 400},
      {"TE then CL",
       post(std_fields + "Transfer-Encoding: chunked\r\nContent-Length: " + len + "\r\n", cbody),
       400},
      {"CL then TE",
       post(std_fields + "Content-Length: " + len + "\r\nTransfer-Encoding: chunked\r\n", cbody),
       400},
      {"CL then TE gzip",
       post(std_fields + "Content-Length: " + len + "\r\nTransfer-Encoding: gzip\r\n", body), 400},
      {"duplicate Host", post("Host: y\r\n" + std_fields + "Content-Length: " + len + "\r\n", body),
       400},
      {"no Host",
       "POST /api/v1/ingest/logs HTTP/1.1\r\n" + auth +
           "Content-Type: application/json\r\nContent-Length: " + len + "\r\n\r\n" + body,
       400},
      {"unknown expectation",
       post(std_fields + "Expect: 200-ok\r\nContent-Length: " + len + "\r\n", body), 417},
      {"HTTP/9.9",
       "POST /api/v1/ingest/logs HTTP/9.9\r\n" + std_fields + "Content-Length: " + len +
           "\r\n\r\n" + body,
       505},
      {"HTTP/2.0", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"lower-case version", "GET /health http/1.1\r\nHost: x\r\n\r\n", 400},
      {"double space in request line", "GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"tab in request line", "GET\t/health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"control character in a value",
       post(std_fields + "X-A: a\x01z\r\nContent-Length: " + len + "\r\n", body), 400},
      {"NUL in a name",
       post(std_fields + std::string("X-\0A: 1\r\n", 9) + "Content-Length: " + len + "\r\n", body),
       400},
      {"too many fields",
       post(
           std_fields +
               [] {
                 std::string s;
                 for (int i = 0; i < 120; ++i) {
                   s += "X-" + std::to_string(i) + ": v\r\n";
                 }
                 return s;
               }(),
           ""),
       431},
      {"long target", "GET /health?" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       414},
  };
  // Every field of the standard request duplicated, one at a time: the same value twice is
  // harmless for Authorization and Content-Type (a list), ambiguous for Host.
  for (const char* f : {"Authorization: Bearer hostile-token", "Content-Type: application/json",
                        "Connection: keep-alive", "User-Agent: Fluent-Bit"}) {
    m.push_back({std::string("duplicate ") + f,
                 post(std_fields + f + "\r\n" + f + "\r\nContent-Length: " + len + "\r\n", body),
                 0});
  }
  for (const auto& v : m) {
    expect_framing(v.name, v.bytes, v.refused);
  }
  // HEAD: no route answers it, and its 405 has no body (a body would be read as the next
  // answer by the client).
  expect_framing("HEAD", "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", 0, 405);
}

TEST_CASE("hostile: pipelined requests get one answer each, in order", "[hostile]") {
  conn c(shared().server.port());
  std::string burst;
  std::vector<int> want;
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 0) {
      const std::string b = records();
      burst += ingest_head("Content-Length: " + std::to_string(b.size()) + "\r\n") + b;
      want.push_back(202);
    } else if (i % 3 == 1) {
      burst += ingest_head("Transfer-Encoding: chunked\r\n") + chunked(records());
      want.push_back(202);
    } else {
      burst += "GET /nowhere-" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
      want.push_back(404);
    }
  }
  c.send(burst);
  const auto rs = c.read(want.size());
  check_answers(rs);
  REQUIRE(rs.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(rs[i].status == want[i]);
  }
  // The 404s come in order: each names its own path.
  CHECK(rs[2].body.find("/nowhere-2") != std::string::npos);
  CHECK(rs[29].body.find("/nowhere-29") != std::string::npos);
}

TEST_CASE("hostile: status lines carry their reason phrases, every error a JSON body",
          "[hostile]") {
  struct probe {
    std::string request;
    int status;
    std::string reason;
  };
  const probe probes[] = {
      {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 200, "OK"},
      {"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "Not Found"},
      {"DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method Not Allowed"},
      {"POST /api/v1/ingest/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
       "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
       401, "Unauthorized"},
      {"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP Version Not Supported"},
      {"GET /health HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n", 400, "Bad Request"},
      {ingest_head("Content-Length: 99999999999\r\n"), 413, "Content Too Large"},
      {ingest_head(""), 411, "Length Required"},
      {"GET /api/v1/clusters?%zz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
       "hostile-token\r\n\r\n",
       400, "Bad Request"},
      {"GET /api/v1/clusters?limit=5&cursor=%4 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request"},
  };
  for (const auto& p : probes) {
    INFO(p.request.substr(0, 80));
    conn c(shared().server.port());
    c.send(p.request);
    const auto rs = c.read(1);
    check_answers(rs);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == p.status);
    CHECK(rs[0].reason == p.reason);
  }
}

TEST_CASE("hostile: 100 Continue comes only after authentication", "[hostile]") {
  const std::string body = records();
  const std::string head_ok = ingest_head(
      "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n");
  {
    // A wrong token: 401 without a 100 Continue, and the body is never asked for.
    std::string h = head_ok;
    h.replace(h.find(kToken), 13, "wrong-token!!");
    conn c(shared().server.port());
    c.send(h);
    const auto rs = c.read(1);
    check_answers(rs);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 401);
    CHECK(c.interim().empty());
  }
  {
    conn c(shared().server.port());
    c.send(head_ok);
    c.read(0, 0.5, 1.0);
    REQUIRE(c.interim().size() == 1);
    CHECK(c.interim()[0].status == 100);
    c.send(body + kHealth);
    const auto rs = c.read(2);
    check_answers(rs);
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].status == 202);
    CHECK(rs[1].status == 200);
  }
}

TEST_CASE("hostile: an oversized Content-Length is refused before any body arrives", "[hostile]") {
  conn c(shared().server.port());
  const auto start = clk::now();
  c.send(ingest_head("Content-Length: 1000000000000\r\n") + "[");
  const auto rs = c.read(1);
  check_answers(rs);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].status == 413);
  CHECK(c.closed());
  CHECK(seconds_since(start) < 1.0);
}

namespace {

struct tight_fixture {
  redis_process redis;
  server_process server{
      R"(server: {threads: 8, request_timeout_seconds: 2, write_timeout_seconds: 2}
rate_limit: {per_minute: 100000000}
auth:
  tokens:
    - {name: t, token: hostile-token, services: ["*"]}
)" + journal_only_yaml(redis)};
};

// A client that pipelines requests and never reads: a 4 KiB receive buffer, its requests sent
// as fast as the server takes them.
class non_reader {
 public:
  non_reader(int port, const std::string& burst) : burst_(burst) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int small = 4096;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a = loopback_address(port);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);  // completes in the background
  }
  ~non_reader() { ::close(fd_); }
  non_reader(const non_reader&) = delete;
  non_reader& operator=(const non_reader&) = delete;
  // Sends what the connection takes now; false once the server has closed it.
  bool push() {
    while (off_ < burst_.size()) {
      const ssize_t n = ::send(fd_, burst_.data() + off_, burst_.size() - off_, MSG_NOSIGNAL);
      if (n > 0) {
        off_ += static_cast<size_t>(n);
        continue;
      }
      if (!(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS ||
                      errno == ENOTCONN))) {
        return false;
      }
      break;
    }
    // Closed or reset by the server (seen without reading anything).
    pollfd p{fd_, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 0 || (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) == 0;
  }

 private:
  const std::string& burst_;
  int fd_ = -1;
  size_t off_ = 0;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

TEST_CASE("hostile: clients that pipeline without reading stall only themselves",
          "[hostile][slow]") {
  tight_fixture f;
  std::string burst;
  for (int i = 0; i < 5000; ++i) {
    burst += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  std::vector<std::unique_ptr<non_reader>> attackers;
  for (int i = 0; i < 70; ++i) {
    attackers.push_back(std::make_unique<non_reader>(f.server.port(), burst));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> replaced{0};
  std::thread attack([&] {
    while (!stop) {
      for (auto& a : attackers) {
        if (!a->push()) {
          a = std::make_unique<non_reader>(f.server.port(), burst);  // sustained: reconnect
          ++replaced;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let them fill up
  // A normal agent (another address) on one keep-alive connection, and health checks.
  std::vector<double> health, ingest;
  int bad = 0;
  {
    conn agent(f.server.port(), "127.0.0.2");
    const auto start = clk::now();
    while (seconds_since(start) < 6.0) {
      const auto t = clk::now();
      conn h(f.server.port(), "127.0.0.3");
      h.send(kHealth);
      auto rs = h.read(1, 0.0, 5.0);
      health.push_back(seconds_since(t));
      bad += rs.size() != 1 || rs[0].status != 200;
      const std::string b = records(10);
      const auto t2 = clk::now();
      agent.send(ingest_head("Content-Length: " + std::to_string(b.size()) + "\r\n") + b);
      rs = agent.read(1, 0.0, 5.0);
      ingest.push_back(seconds_since(t2));
      bad += rs.size() != 1 || rs[0].status != 202;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  stop = true;
  attack.join();
  std::printf(
      "[hostile] 70 non-reading pipeliners (4 KiB receive buffers, sustained, %d reconnects): "
      "/health p50 %.1f ms p99 %.1f ms max %.1f ms (%zu); ingest p50 %.1f ms p99 %.1f ms max "
      "%.1f ms (%zu); %d failed\n",
      replaced.load(), percentile(health, 0.5) * 1e3, percentile(health, 0.99) * 1e3,
      percentile(health, 1.0) * 1e3, health.size(), percentile(ingest, 0.5) * 1e3,
      percentile(ingest, 0.99) * 1e3, percentile(ingest, 1.0) * 1e3, ingest.size(), bad);
  CHECK(bad == 0);
  CHECK(percentile(health, 0.99) < 1.0);
  CHECK(percentile(ingest, 0.99) < 1.0);
  // The server closed the stalled ones (server.write_timeout_seconds 2) and they reconnected.
  CHECK(replaced.load() >= 70);
}

TEST_CASE("hostile: at the connection cap, room is made from the address holding the most",
          "[hostile]") {
  redis_process redis;
  server_process server{R"(server: {max_open_connections: 16}
auth: {disabled: true}
)" + journal_only_yaml(redis)};
  // One address takes every connection (each served once, then idle)...
  std::vector<std::unique_ptr<conn>> flood;
  for (int i = 0; i < 16; ++i) {
    flood.push_back(std::make_unique<conn>(server.port(), "127.0.0.5"));
    flood.back()->send(kHealth);
    const auto rs = flood.back()->read(1, 0.0);
    REQUIRE(rs.size() == 1);
  }
  // ... an agent from another address is served, and keeps its connection while the flood
  // goes on.
  conn agent(server.port(), "127.0.0.6");
  for (int round = 0; round < 5; ++round) {
    agent.send(kHealth);
    const auto rs = agent.read(1, 0.0);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
    CHECK(!agent.closed());
    for (int i = 0; i < 4; ++i) {
      auto c = std::make_unique<conn>(server.port(), "127.0.0.5");
      c->send(kHealth);
      c->read(1, 0.0);
      flood.push_back(std::move(c));
    }
  }
  int closed = 0;
  for (auto& c : flood) {
    c->read(0, 0.02, 0.1);
    closed += c->closed();
  }
  CHECK(closed >= static_cast<int>(flood.size()) - 15);
}

TEST_CASE("hostile: one address holds at most server.max_connections_per_client connections",
          "[hostile]") {
  redis_process redis;
  server_process server{R"(server: {max_connections_per_client: 4}
auth: {disabled: true}
)" + journal_only_yaml(redis)};
  std::vector<std::unique_ptr<conn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<conn>(server.port(), "127.0.0.7"));
    held.back()->send(kHealth);
    const auto rs = held.back()->read(1, 0.0);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
  }
  // The fifth from that address is told why and closed; the four it holds keep working.
  conn fifth(server.port(), "127.0.0.7");
  const auto refused = fifth.read(1, 0.0);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].status == 503);
  CHECK(refused[0].body.find("too_many_connections") != std::string::npos);
  fifth.read(0, 0.02, 2.0);  // until the server closes it
  CHECK(fifth.closed());
  held[0]->send(kHealth);
  const auto again = held[0]->read(1, 0.0);
  REQUIRE(again.size() == 1);
  CHECK(again[0].status == 200);
  // Another address is not affected.
  conn other(server.port(), "127.0.0.8");
  other.send(kHealth);
  const auto rs = other.read(1, 0.0);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].status == 200);
}
