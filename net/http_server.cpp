#include "net/http_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/http_framing.hpp"
#include "net/handlers.hpp"
#include "net/routes.hpp"

namespace luffy {

namespace {

class route_handler : public Poco::Net::HTTPRequestHandler {
 public:
  route_handler(server_context& ctx, const route* r, bool method_ok, std::string param = "")
      : ctx_(ctx), route_(r), method_ok_(method_ok), param_(std::move(param)) {}

  // Only routes declared with reads_body (net/routes.hpp) read a request body; any other
  // route's body is discarded first.
  bool reads_body() const { return route_ != nullptr && method_ok_ && route_->reads_body; }

  void handleRequest(http_request& req, http_response& res) override {
    try {
      dispatch(req, res);
    } catch (const std::exception& e) {
      // Handlers never throw by design; this keeps a bug from killing the connection silently.
      spdlog::error("handler for {} {} failed: {}", req.getMethod(), req.getURI(), e.what());
      if (!res.sent()) {
        send_json(res, 500,
                  error_body("internal_error", "the server failed to handle the request"));
      }
    }
  }

 private:
  void dispatch(http_request& req, http_response& res) {
    // A query string that is not valid percent-encoding is the client's error, whatever the
    // route (handlers parse it with Poco, which throws): 400 here, before any handler.
    const std::string& uri = req.getURI();
    if (const auto q = uri.find('?'); q != std::string::npos) {
      try {
        std::string decoded;
        Poco::URI::decode(uri.substr(q + 1), decoded);
      } catch (const Poco::Exception&) {
        send_json(res, 400,
                  error_body("bad_parameter", "the query string is not valid percent-encoding"));
        return;
      }
    }
    if (route_ == nullptr) {
      ctx_.metrics.count_status(404);
      send_json(res, 404, error_body("not_found", "no route " + req.getURI()));
      return;
    }
    if (!method_ok_) {
      res.set("Allow", std::string(route_->method));
      send_json(res, 405,
                error_body("method_not_allowed",
                           std::string(route_->path) + " accepts " + std::string(route_->method)));
      return;
    }
    switch (route_->id) {
      case route_id::ingest_logs:
        return handle_ingest(ctx_, req, res, false);
      case route_id::ingest_single:
        return handle_ingest(ctx_, req, res, true);
      case route_id::health:
        return handle_health(ctx_, req, res);
      case route_id::ready:
      case route_id::ingest_health:
        return handle_ready(ctx_, req, res);
      case route_id::ingest_metrics:
        return handle_metrics_json(ctx_, req, res);
      case route_id::prometheus_metrics:
        return handle_metrics_prometheus(ctx_, req, res);
      case route_id::clusters_list:
        return handle_clusters_list(ctx_, req, res);
      case route_id::cluster_get:
        return handle_cluster_get(ctx_, req, res, param_);
      case route_id::cluster_resolve:
        return handle_cluster_resolve(ctx_, req, res, param_);
      case route_id::cluster_merge:
        return handle_cluster_merge(ctx_, req, res, param_);
      case route_id::admin_reload:
        return handle_admin_reload(ctx_, req, res);
      case route_id::admin_actors:
        return handle_admin_actors(ctx_, req, res);
    }
  }

  server_context& ctx_;
  const route* route_;
  bool method_ok_;
  std::string param_;
};

class router : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit router(server_context& ctx) : ctx_(ctx) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(const http_request& req) override {
    std::string_view path = req.getURI();
    const auto q = path.find('?');
    if (q != std::string_view::npos) {
      path = path.substr(0, q);
    }
    const route* by_path = nullptr;
    std::string param;
    for (const auto& r : routes) {
      if (route_matches(r.path, path, param)) {
        if (r.method == req.getMethod()) {
          return new route_handler(ctx_, &r, true, param);
        }
        by_path = &r;
      }
    }
    return new route_handler(ctx_, by_path, false);
  }

 private:
  server_context& ctx_;
};

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Longest request head the gate waits for; Fluent Bit's are well under 1 KiB. Longer: 431.
constexpr size_t kMaxHeadBytes = 32 << 10;
// Body bytes the gate waits for (in the kernel buffer) before a request gets a worker: small
// bodies are complete before a thread touches them, large ones have proven some throughput.
constexpr size_t kBodyPrefetch = 16 << 10;
// How long a body (or a head inside a worker) may stay below server.min_body_rate while requests
// wait for a worker before it is cut.
constexpr auto kSaturatedGrace = milliseconds(500);
constexpr auto kTick = milliseconds(50);
// A closing connection is read and dropped for at most this long, and this much.
constexpr auto kLingerTime = milliseconds(2000);
constexpr int64_t kLingerBytes = 1 << 20;
// A body that its route does not read is read and dropped up to this size before the answer;
// a longer one closes the connection after the answer.
constexpr size_t kDiscardLimit = 64 << 10;

// One client connection. The gate owns it while it waits for a request head; a worker while it
// serves requests. Fields marked (mu) are read by the watchdog under impl::mu.
// Open connections of one client address (evict_one closes from the largest first).
struct client_slot {
  std::atomic<int64_t> open{0};
};

struct connection {
  connection(Poco::Net::StreamSocket s, int f, std::atomic<int64_t>& open_count)
      : socket(std::move(s)), fd(f), open(open_count) {}
  ~connection() {
    try {
      socket.close();
    } catch (...) {
    }
    open.fetch_sub(1);
    if (client) {
      client->open.fetch_sub(1);
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  Poco::Net::StreamSocket socket;
  const int fd;
  std::atomic<int64_t>& open;
  std::shared_ptr<client_slot> client;  // its address's count (when capped)

  // Gate state.
  // fresh: accepted, nothing sent yet; idle: kept alive between requests; head: part of a
  // request head is in; body: the head is in, waiting for the body (or its first 16 KiB);
  // flushing: the last response is not all sent (the client does not read), so its next
  // request is not looked at yet; closing: answered and shut for writing, what the client still
  // sends is read and dropped until it closes (so that our answer is not destroyed by a reset).
  enum class waiting { fresh, idle, head, body, flushing, closing } state = waiting::fresh;
  int64_t lingered = 0;      // bytes dropped while closing
  bool linger_next = false;  // set by a worker: answered, now close (lingering)
  // The head of the request handed to a worker, parsed by the gate (still in the kernel buffer:
  // the worker takes exactly head_size() bytes, then the body as framed).
  std::unique_ptr<request_framer> framer;
  steady::time_point since = steady::now();  // accept, return to the gate, or first head byte
  steady::time_point held_since;             // complete head, worker queue full
  int64_t prefetched = 0;
  uint64_t requests = 0;  // served on this connection (worker writes, gate reads when parked)  //
                          // body bytes already in the kernel buffer when it got a worker

  // Worker state (mu).
  steady::time_point dispatched;
  bool in_head = false;
  bool in_body = false;
  steady::time_point phase_started;
  int64_t body_expected = -1;  // Content-Length; -1 when unknown (chunked, until close)
  std::atomic<int64_t> body_read{0};
  bool cut = false;       // read side shut by the watchdog; close after this request
  bool hard_cut = false;  // both sides shut
};
using connection_ptr = std::shared_ptr<connection>;

// Wraps an accepted descriptor in a Poco socket (the constructor from an impl is protected).
struct adopted_socket : Poco::Net::StreamSocket {
  explicit adopted_socket(int fd) : Poco::Net::StreamSocket(new Poco::Net::StreamSocketImpl(fd)) {}
};

// The session a response is written through (Poco's response classes write to a session). It
// never reads: request heads and bodies are read as core/http_framing decided (framed_request).
class write_session : public Poco::Net::HTTPServerSession {
 public:
  write_session(const Poco::Net::StreamSocket& s, Poco::Net::HTTPServerParams::Ptr p)
      : Poco::Net::HTTPServerSession(s, p) {}
  // Poco's session closes its socket when destroyed; the connection outlives it.
  ~write_session() override {
    try {
      detachSocket();
    } catch (...) {
    }
  }
  write_session(const write_session&) = delete;
  write_session& operator=(const write_session&) = delete;
};

// A request as the routes see it (Poco's interface), built from the head the gate parsed, with
// the body read exactly as framed: Content-Length bytes straight from the socket, chunked bodies
// through the framer, nothing otherwise. No byte past the body is ever taken from the socket, so
// what follows it in the kernel buffer is the next request's head, for the gate to parse.
class framed_request final : public Poco::Net::HTTPServerRequest {
 public:
  framed_request(connection& c, request_framer& framer, Poco::Net::HTTPServerResponseImpl& res,
                 const Poco::Net::HTTPServerParams& params)
      : c_(c), framer_(framer), res_(res), params_(params), stream_(&buf_) {
    const request_head& h = framer.head();
    setMethod(h.method);
    setURI(h.target);
    setVersion(h.version == 10 ? HTTP_1_0 : HTTP_1_1);
    for (const auto& [name, value] : h.fields) {
      add(name, value);
    }
    buf_.owner = this;
    done_ = h.framing == body_framing::none ||
            (h.framing == body_framing::length && h.content_length == 0);
    try {
      client_ = c.socket.peerAddress();
      server_ = c.socket.address();
    } catch (const Poco::Exception&) {
    }
  }

  std::istream& stream() override { return stream_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  Poco::Net::HTTPServerResponse& response() const override { return res_; }
  bool secure() const override { return false; }

  const request_head& head() const { return framer_.head(); }
  bool body_done() const { return done_; }
  const framing_error& body_error() const { return error_; }

  // Up to n body bytes: > 0 read, 0 at the end of the body, -1 when the body cannot be read to
  // its end (the client closed or stalled past the deadlines, or a chunk is malformed:
  // body_error() says which). A 100 Continue the client waits for is sent first.
  std::streamsize read(char* out, size_t n) {
    if (done_) {
      return 0;
    }
    if (failed_) {
      return -1;
    }
    if (n == 0) {
      return 0;
    }
    if (head().expect_continue && !continue_sent_ && !res_.sent()) {
      continue_sent_ = true;
      try {
        res_.sendContinue();
      } catch (const Poco::Exception&) {
        return fail(400, "truncated_body", "the connection failed before the body was sent");
      }
    }
    return head().framing == body_framing::chunked ? read_chunked(out, n) : read_length(out, n);
  }

  // Reads and drops the rest of the body, up to `limit` bytes. True when the body ended (the
  // connection can serve its next request). A body the client sends only after a 100 Continue
  // is not asked for: false (the connection closes after the answer).
  bool discard(size_t limit) {
    if (done_) {
      return true;
    }
    if (head().expect_continue && !continue_sent_) {
      return false;
    }
    static thread_local std::vector<char> scratch(64 << 10);
    size_t total = 0;
    while (total <= limit) {
      const std::streamsize got = read(scratch.data(), scratch.size());
      if (got <= 0) {
        return got == 0;
      }
      total += static_cast<size_t>(got);
    }
    return done_;
  }

 private:
  std::streamsize fail(int status, std::string code, std::string message) {
    failed_ = true;
    error_ = framing_error{status, std::move(code), std::move(message)};
    return -1;
  }

  // One receive of at most n bytes; 0 when the client closed, the read timed out (the socket's
  // receive timeout) or the watchdog cut the read side.
  ssize_t receive(char* out, size_t n, int flags) {
    for (;;) {
      const ssize_t r = ::recv(c_.fd, out, n, flags);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      return r < 0 ? 0 : r;
    }
  }

  std::streamsize read_length(char* out, size_t n) {
    const uint64_t left =
        head().framing == body_framing::length ? head().content_length - taken_ : 0;
    if (left == 0) {
      done_ = true;
      return 0;
    }
    const ssize_t r = receive(out, static_cast<size_t>(std::min<uint64_t>(left, n)), 0);
    if (r <= 0) {
      return fail(400, "truncated_body",
                  "body ended after " + std::to_string(taken_) + " of " +
                      std::to_string(head().content_length) + " declared bytes");
    }
    taken_ += static_cast<uint64_t>(r);
    c_.body_read.fetch_add(r, std::memory_order_relaxed);
    done_ = taken_ == head().content_length;
    return r;
  }

  // Chunked: the framer sees the bytes the kernel holds (peeked) after those kept from earlier
  // calls (carry_: a partial chunk line, which is always part of this body); only the bytes it
  // consumes are taken from the socket.
  std::streamsize read_chunked(char* out, size_t n) {
    for (;;) {
      peek_.resize(16 << 10);
      const ssize_t p = receive(peek_.data(), peek_.size(), MSG_PEEK);
      if (p <= 0) {
        return fail(400, "truncated_body",
                    "the chunked body ended after " + std::to_string(framer_.chunked_body_bytes()) +
                        " bytes, before its last chunk");
      }
      input_.assign(carry_);
      input_.append(peek_.data(), static_cast<size_t>(p));
      size_t consumed = 0, produced = 0;
      const framing_status st = framer_.decode_chunked(input_, out, n, consumed, produced);
      if (st == framing_status::invalid) {
        const framing_error& e = framer_.error();
        return fail(e.status, e.code, e.message);
      }
      if (st == framing_status::need_more) {
        consumed = input_.size();  // all of it belongs to this body: keep it, wait for more
        carry_.assign(input_);
      } else {
        carry_.erase(0, std::min(consumed, carry_.size()));
      }
      // Take from the socket what was used of the peeked bytes (they are there: no wait).
      const size_t from_kernel =
          consumed - std::min(consumed, input_.size() - static_cast<size_t>(p));
      if (from_kernel > 0 &&
          receive(peek_.data(), from_kernel, MSG_WAITALL) != static_cast<ssize_t>(from_kernel)) {
        return fail(400, "truncated_body", "the connection failed inside the chunked body");
      }
      c_.body_read.fetch_add(static_cast<int64_t>(from_kernel), std::memory_order_relaxed);
      if (st == framing_status::done) {
        done_ = true;
      }
      if (produced > 0) {
        return static_cast<std::streamsize>(produced);
      }
      if (done_) {
        return 0;
      }
    }
  }

  // req.stream() over read().
  struct body_buf : std::streambuf {
    framed_request* owner = nullptr;
    char data[8192];
    int_type underflow() override {
      const std::streamsize n = owner->read(data, sizeof data);
      if (n <= 0) {
        return traits_type::eof();
      }
      setg(data, data, data + n);
      return traits_type::to_int_type(data[0]);
    }
  };

  connection& c_;
  request_framer& framer_;
  Poco::Net::HTTPServerResponseImpl& res_;
  const Poco::Net::HTTPServerParams& params_;
  Poco::Net::SocketAddress client_, server_;
  body_buf buf_;
  std::istream stream_;
  uint64_t taken_ = 0;
  bool done_ = false;
  bool failed_ = false;
  bool continue_sent_ = false;
  framing_error error_;
  std::string carry_, input_;
  std::vector<char> peek_;
};

// Best effort, never blocks: the gate answers a few refusals itself, then closes (lingering).
void send_now(int fd, int status, std::string_view code, std::string_view message) {
  const std::string body = error_body(code, message);
  const std::string msg = "HTTP/1.1 " + std::to_string(status) + " " +
                          std::string(reason_phrase(status)) +
                          "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  [[maybe_unused]] auto n = ::send(fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

// Bytes of a response not yet sent to the client (its receive window is full: it does not read).
int unsent_bytes(int fd) {
  int n = 0;
  return ::ioctl(fd, SIOCOUTQNSD, &n) == 0 ? n : 0;
}

}  // namespace

struct http_server::impl {
  explicit impl(server_context& c) : ctx(c) {}

  server_context& ctx;
  Poco::Net::HTTPServerParams::Ptr params;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory;
  Poco::Net::ServerSocket listener;
  int listen_fd = -1;
  int wake_fd = -1;
  int epoll_fd = -1;

  steady::duration header_timeout{}, body_timeout{}, keepalive_timeout{}, request_timeout{};
  int64_t min_body_rate = 0;
  int64_t max_body_bytes = 0;
  int64_t max_per_client = 0;
  steady::duration write_timeout{};
  std::unordered_map<std::string, std::shared_ptr<client_slot>> clients;  // gate thread only
  framing_limits limits;
  int64_t max_open = 0;
  size_t max_queued = 0;
  size_t threads = 0;

  std::atomic<int64_t> open{0};
  std::atomic<bool> stopping{false};
  std::thread gate;
  std::vector<std::thread> workers;

  std::mutex mu;  // guards everything below and the (mu) fields of active connections
  std::condition_variable work;
  std::deque<connection_ptr> ready;      // complete head, waiting for a worker
  std::vector<connection_ptr> active;    // in a worker
  std::vector<connection_ptr> returned;  // kept alive, back to the gate
  bool workers_stop = false;
  size_t busy = 0;
  size_t workers_alive = 0;

  // Counters for the periodic warning (gate thread only, except cut_bodies under mu).
  uint64_t header_timeouts = 0, body_timeouts = 0, idle_evicted = 0, refused = 0, too_large = 0,
           cut_bodies = 0, bad_heads = 0, write_timeouts = 0, per_client_refused = 0;
  steady::time_point next_report = steady::now() + std::chrono::seconds(10);

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  // ---- gate -------------------------------------------------------------------------------

  using parked_map = std::unordered_map<int, connection_ptr>;

  void gate_loop() {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    watch_fd(wake_fd, EPOLLIN);
    watch_fd(listen_fd, EPOLLIN);
    parked_map parked;                 // waiting for a request head (or a small body)
    std::vector<connection_ptr> held;  // ready, but the worker queue is full
    std::vector<epoll_event> events(256);
    std::vector<char> buf(kMaxHeadBytes + kBodyPrefetch);
    bool accepting = true;
    steady::time_point accept_paused_until{};
    auto next_watch = steady::now();
    auto park = [&](connection_ptr c) {
      watch_fd(c->fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
      const int fd = c->fd;
      parked[fd] = std::move(c);
    };
    auto unpark = [&](parked_map::iterator it) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, it->first, nullptr);
      return parked.erase(it);
    };
    // Acts on what inspect() found; returns the next parked connection.
    auto on_verdict = [&](parked_map::iterator it, verdict v) {
      switch (v) {
        case verdict::wait:
          break;
        case verdict::close:
          return unpark(it);
        case verdict::ready: {
          auto c = it->second;
          auto next = unpark(it);
          c->held_since = steady::now();
          if (!dispatch(c)) {
            held.push_back(std::move(c));
          }
          return next;
        }
      }
      return std::next(it);
    };
    while (!stopping.load()) {
      const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                                 static_cast<int>(kTick.count()));
      auto now = steady::now();
      bool listener_ready = false;
      for (int e = 0; e < n; ++e) {
        const int fd = events[e].data.fd;
        if (fd == wake_fd) {
          uint64_t v = 0;
          [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof v);
          std::vector<connection_ptr> back;
          {
            std::lock_guard lk(mu);
            back.swap(returned);
          }
          for (auto& c : back) {
            c->since = now;
            if (c->linger_next) {
              c->linger_next = false;
              start_closing(*c);
            } else if (unsent_bytes(c->fd) > 0) {
              // Its next (pipelined) request waits until this response has left (tick below).
              c->state = connection::waiting::flushing;
            } else {
              c->state = connection::waiting::idle;
            }
            park(std::move(c));  // readable now: epoll reports it at once
          }
        } else if (fd == listen_fd) {
          listener_ready = true;  // accepted below: a new socket may reuse a descriptor closed here
        } else if (auto it = parked.find(fd); it != parked.end()) {
          on_verdict(it, inspect(*it->second, buf, now, events[e].events));
        }
      }
      if (listener_ready && !accept_some(parked, park, now)) {
        // Out of descriptors and nothing to evict: stop polling the listener for a moment.
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
        accepting = false;
        accept_paused_until = now + milliseconds(100);
      }
      now = steady::now();
      if (!accepting && now >= accept_paused_until) {
        watch_fd(listen_fd, EPOLLIN);
        accepting = true;
      }
      // Deadlines of the connections without a worker.
      for (auto it = parked.begin(); it != parked.end();) {
        auto& c = *it->second;
        const auto age = now - c.since;
        if (c.state == connection::waiting::idle) {
          it = age > keepalive_timeout ? unpark(it) : std::next(it);
        } else if (c.state == connection::waiting::flushing) {
          if (unsent_bytes(c.fd) == 0) {
            c.state = connection::waiting::idle;
            c.since = now;
            it = on_verdict(it, inspect(c, buf, now, 0));  // its next request may be waiting
          } else if (age > write_timeout) {
            ++write_timeouts;  // the client has not read its response for that long
            it = unpark(it);
          } else {
            ++it;
          }
        } else if (c.state == connection::waiting::closing) {
          it = age > kLingerTime ? unpark(it) : std::next(it);
        } else if (c.state == connection::waiting::body && age > body_timeout) {
          ++body_timeouts;
          send_now(c.fd, 408, "request_timeout",
                   "the request body did not arrive within server.body_timeout_seconds");
          start_closing(c, false);
          ++it;
        } else if (c.state != connection::waiting::body && age > header_timeout) {
          ++header_timeouts;
          send_now(c.fd, 408, "request_timeout",
                   "the request head did not arrive within server.header_timeout_seconds");
          start_closing(c, false);
          ++it;
        } else {
          ++it;
        }
      }
      for (auto& c : held) {
        if (dispatch(c)) {
          c.reset();
        } else if (now - c->held_since > request_timeout) {
          send_now(c->fd, 503, "overloaded", "no worker became free in time; retry");
          c.reset();
        }
      }
      held.erase(std::remove(held.begin(), held.end(), nullptr), held.end());
      if (now >= next_watch) {
        watch(now, !held.empty());
        next_watch = now + kTick;
      }
      report(now, parked.size());
    }
    // Stopping: refuse new connections, close the idle ones, cut slow requests, wait for the
    // workers to finish what they hold.
    try {
      listener.close();
    } catch (...) {
    }
    parked.clear();
    held.clear();
    {
      std::lock_guard lk(mu);
      workers_stop = true;
      returned.clear();
    }
    work.notify_all();
    for (;;) {
      {
        std::lock_guard lk(mu);
        if (workers_alive == 0) {
          break;
        }
      }
      watch(steady::now(), true);
      std::this_thread::sleep_for(kTick);
    }
    ::close(epoll_fd);
  }

  void watch_fd(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }

  enum class verdict { wait, ready, close };

  // Answered (or to be closed): shut our sending side, then read and drop what the client
  // still sends until it closes, for at most kLingerTime and kLingerBytes.
  void start_closing(connection& c, bool shut = true) {
    if (shut) {
      ::shutdown(c.fd, SHUT_WR);
    }
    c.state = connection::waiting::closing;
    c.lingered = 0;
    c.framer.reset();
  }

  verdict linger(connection& c, std::vector<char>& buf) {
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        c.lingered += n;
        if (c.lingered > kLingerBytes) {
          return verdict::close;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return n < 0 && errno == EAGAIN ? verdict::wait : verdict::close;
    }
  }

  // Looks (without consuming) at what a parked connection has sent so far. The request head
  // is parsed here, once (core/http_framing): a refused head is answered and the connection
  // closed; an accepted one goes to a worker with its framing decided.
  verdict inspect(connection& c, std::vector<char>& buf, steady::time_point now, uint32_t ev) {
    if (c.state == connection::waiting::closing) {
      return linger(c, buf);
    }
    if ((ev & (EPOLLHUP | EPOLLERR)) != 0) {
      return verdict::close;  // reset, or closed both ways
    }
    if (c.state == connection::waiting::flushing) {
      if (unsent_bytes(c.fd) > 0) {
        return verdict::wait;  // its next request is looked at once the last response is out
      }
      c.state = connection::waiting::idle;
      c.since = now;
    }
    // The client has shut its sending side: whatever is missing will never come.
    const bool no_more = (ev & EPOLLRDHUP) != 0;
    const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      return verdict::close;  // the client closed
    }
    if (n < 0) {
      return verdict::wait;
    }
    if (c.state == connection::waiting::idle) {
      c.since = now;  // a kept-alive connection's head clock starts at its first byte
      c.state = connection::waiting::head;
    } else if (c.state == connection::waiting::fresh) {
      c.state = connection::waiting::head;  // from accept
    }
    const auto got = static_cast<size_t>(n);
    auto framer = std::make_unique<request_framer>(limits);
    const framing_status st = framer->parse_head(std::string_view(buf.data(), got));
    if (st == framing_status::need_more) {
      return no_more ? verdict::close : verdict::wait;
    }
    if (st == framing_status::invalid) {
      const framing_error& e = framer->error();
      ++(e.status == 431 ? too_large : bad_heads);
      send_now(c.fd, e.status, e.code, e.message);
      start_closing(c, false);
      return linger(c, buf);
    }
    const request_head& h = framer->head();
    if (h.framing == body_framing::length &&
        h.content_length > static_cast<uint64_t>(max_body_bytes)) {
      // No route takes a body this large: answer now, before any of it is read.
      ++too_large;
      send_now(c.fd, 413, "body_too_large",
               "body of " + std::to_string(h.content_length) + " bytes exceeds " +
                   std::to_string(max_body_bytes) + " (server.max_body_bytes)");
      start_closing(c, false);
      return linger(c, buf);
    }
    if (c.state != connection::waiting::body) {
      c.state = connection::waiting::body;
      c.since = now;  // the body clock
    }
    // Hand over once the body is in (or its first 16 KiB: large bodies stream through a worker
    // under the minimum-rate rule). A chunked body, or one the client sends only after a
    // 100 Continue, goes at once.
    c.prefetched = static_cast<int64_t>(got - framer->head_size());
    const auto want = h.framing == body_framing::length && !h.expect_continue
                          ? std::min<int64_t>(static_cast<int64_t>(h.content_length),
                                              static_cast<int64_t>(kBodyPrefetch))
                          : 0;
    if (c.prefetched >= want) {
      c.framer = std::move(framer);
      return verdict::ready;
    }
    return no_more ? verdict::close : verdict::wait;
  }

  bool dispatch(const connection_ptr& c) {
    {
      std::lock_guard lk(mu);
      if (ready.size() >= max_queued) {
        return false;
      }
      ready.push_back(c);
    }
    work.notify_one();
    return true;
  }

  // Accepts what is pending. Returns false when out of descriptors with nothing to evict.
  template <class Park>
  bool accept_some(parked_map& parked, Park&& park, steady::time_point now) {
    // A small batch, so that events of parked connections (requests, closes) are seen between
    // batches of a connection flood.
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer{};
      socklen_t peer_len = sizeof peer;
      const int fd =
          ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          spdlog::warn("accept: {}", std::strerror(errno));
          return evict_one(parked);  // frees one descriptor; the listener stays readable
        }
        return true;
      }
      std::shared_ptr<client_slot> slot = client_slot_for(peer);
      {
        if (max_per_client > 0 && slot->open.load() >= max_per_client) {
          ++per_client_refused;
          send_now(fd, 503, "too_many_connections",
                   "this address already has its maximum of connections open; reuse them");
          ::close(fd);
          continue;
        }
        slot->open.fetch_add(1);
      }
      open.fetch_add(1);
      auto c = std::make_shared<connection>(adopted_socket(fd), fd, open);
      c->client = std::move(slot);
      if (open.load() > max_open && !evict_one(parked)) {
        ++refused;
        continue;  // c closes: nothing idle to make room for it
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // Per call deadlines of a worker's blocking reads and writes (the gate never blocks);
      // the watchdog adds the total ones.
      const timeval tv{
          static_cast<time_t>(
              std::chrono::duration_cast<std::chrono::seconds>(request_timeout).count()),
          0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const timeval wtv{
          static_cast<time_t>(
              std::chrono::duration_cast<std::chrono::seconds>(write_timeout).count()),
          0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wtv, sizeof wtv);
      c->since = now;
      park(std::move(c));
    }
    return true;
  }

  // The count of open connections of the peer's address (IPv4 or IPv6 bytes as the key).
  std::shared_ptr<client_slot> client_slot_for(const sockaddr_storage& peer) {
    std::string key;
    if (peer.ss_family == AF_INET) {
      const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
      key.assign(reinterpret_cast<const char*>(&a), sizeof a);
    } else if (peer.ss_family == AF_INET6) {
      const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
      key.assign(reinterpret_cast<const char*>(&a), sizeof a);
    }
    auto& slot = clients[key];
    if (!slot) {
      slot = std::make_shared<client_slot>();
    }
    return slot;
  }

  // Makes room at server.max_open_connections: closes an idle kept-alive connection (the one
  // that served the fewest requests, then the longest idle: an agent's busy connection goes
  // last), else the oldest one still sending a request.
  bool evict_one(parked_map& parked) {
    auto victim = parked.end();
    auto before = [](const connection& a, const connection& b) {
      // First from the address holding the most connections: one client cannot crowd out
      // the others.
      const int64_t a_n = a.client ? a.client->open.load() : 0;
      const int64_t b_n = b.client ? b.client->open.load() : 0;
      if (a_n != b_n) {
        return a_n > b_n;
      }
      const bool a_idle = a.state == connection::waiting::idle;
      const bool b_idle = b.state == connection::waiting::idle;
      if (a_idle != b_idle) {
        return a_idle;
      }
      if (a_idle && a.requests != b.requests) {
        return a.requests < b.requests;
      }
      return a.since < b.since;
    };
    for (auto it = parked.begin(); it != parked.end(); ++it) {
      if (victim == parked.end() || before(*it->second, *victim->second)) {
        victim = it;
      }
    }
    if (victim == parked.end()) {
      return false;
    }
    ++idle_evicted;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, victim->first, nullptr);
    parked.erase(victim);
    return true;
  }

  // Cuts requests in workers that overrun their deadlines, and slow ones when requests wait.
  void watch(steady::time_point now, bool held_waiting) {
    std::lock_guard lk(mu);
    const bool saturated = held_waiting || (!ready.empty() && busy >= threads) || stopping.load();
    for (auto& c : active) {
      if (c->hard_cut) {
        continue;
      }
      const auto elapsed = now - c->phase_started;
      bool cut = false;
      if (c->in_head) {
        cut = elapsed > header_timeout || (saturated && elapsed > kSaturatedGrace);
      } else if (c->in_body && !c->cut) {
        const int64_t got = c->body_read.load(std::memory_order_relaxed);
        const bool complete = c->body_expected >= 0 && got >= c->body_expected;
        if (!complete) {
          const double secs = std::chrono::duration<double>(elapsed).count();
          // Bytes that were waiting in the kernel buffer do not count towards the rate.
          const auto streamed = static_cast<double>(std::max<int64_t>(0, got - c->prefetched));
          cut = elapsed > body_timeout ||
                (saturated && min_body_rate > 0 && elapsed > kSaturatedGrace &&
                 streamed < static_cast<double>(min_body_rate) * secs);
        }
      }
      if (cut && !c->cut) {
        // The blocked read returns end-of-file; the handler answers and the connection closes.
        ::shutdown(c->fd, SHUT_RD);
        c->cut = true;
        ++cut_bodies;
      }
      if (now - c->dispatched > body_timeout + request_timeout + std::chrono::seconds(5)) {
        ::shutdown(c->fd, SHUT_RDWR);  // a client that does not read its response
        c->cut = c->hard_cut = true;
      }
    }
  }

  void report(steady::time_point now, size_t waiting) {
    if (now < next_report) {
      return;
    }
    next_report = now + std::chrono::seconds(10);
    uint64_t cut = 0;
    {
      std::lock_guard lk(mu);
      cut = cut_bodies;
      cut_bodies = 0;
    }
    for (auto it = clients.begin(); it != clients.end();) {
      it = it->second->open.load() == 0 ? clients.erase(it) : std::next(it);
    }
    if (header_timeouts + body_timeouts + idle_evicted + refused + too_large + cut + bad_heads +
            write_timeouts + per_client_refused ==
        0) {
      return;
    }
    spdlog::warn(
        "slow, excess or malformed clients in the last 10 s: {} closed at the header deadline, "
        "{} at the body deadline, {} slow requests cut in workers, {} closed and {} refused at "
        "server.max_open_connections ({} open, {} waiting for a request), {} refused at "
        "the per-address cap, {} heads over the limits (431/413), {} malformed heads refused, {} "
        "closed at server.write_timeout_seconds with a response not read",
        header_timeouts, body_timeouts, cut, idle_evicted, refused, open.load(), waiting,
        per_client_refused, too_large, bad_heads, write_timeouts);
    header_timeouts = body_timeouts = idle_evicted = refused = too_large = bad_heads =
        write_timeouts = per_client_refused = 0;
  }

  // ---- workers ----------------------------------------------------------------------------

  void worker_loop() {
    for (;;) {
      connection_ptr c;
      {
        std::unique_lock lk(mu);
        work.wait(lk, [&] { return !ready.empty() || workers_stop; });
        if (ready.empty()) {
          --workers_alive;
          return;
        }
        c = std::move(ready.front());
        ready.pop_front();
        c->dispatched = steady::now();
        c->cut = c->hard_cut = false;
        active.push_back(c);
        ++busy;
      }
      const after next = serve(*c);
      {
        std::lock_guard lk(mu);
        active.erase(std::find(active.begin(), active.end(), c));
        --busy;
        if (next != after::close && !workers_stop) {
          c->linger_next = next == after::linger || stopping.load();
          returned.push_back(std::move(c));
        }
      }
      if (c) {
        c.reset();  // closes it, now that the watchdog no longer sees it
      } else {
        wake();
      }
    }
  }

  enum class after { close, keep, linger };

  // Serves the one request whose head the gate parsed. Returns what becomes of the connection:
  // keep (kept alive, back to the gate, which parses its next request once this response is
  // sent), linger (answered, now closing: back to the gate to be drained and closed) or close.
  // Never closes the socket itself (the watchdog may still shut it down by descriptor until the
  // caller removes it from `active`).
  after serve(connection& c) {
    std::unique_ptr<request_framer> framer = std::move(c.framer);
    if (!framer) {
      return after::close;
    }
    const request_head& head = framer->head();
    {
      // Take the head's bytes (the gate saw them in the kernel buffer).
      std::vector<char> skip(framer->head_size());
      const ssize_t n = ::recv(c.fd, skip.data(), skip.size(), MSG_WAITALL);
      if (n != static_cast<ssize_t>(skip.size())) {
        return after::close;
      }
    }
    ++c.requests;
    {
      std::lock_guard lk(mu);
      c.body_expected = head.framing == body_framing::length
                            ? static_cast<int64_t>(head.content_length)
                        : head.framing == body_framing::none ? 0
                                                             : -1;
      c.body_read.store(0);
      c.in_head = false;
      c.in_body = true;
      c.phase_started = c.since;  // the body clock started when the gate saw the head
    }
    bool cut = false;
    bool keep = false;
    bool complete = false;
    try {
      write_session session(c.socket, params);
      Poco::Net::HTTPServerResponseImpl response(session);
      framed_request request(c, *framer, response, *params);
      response.setDate(Poco::Timestamp());
      response.setVersion(request.getVersion());
      response.setKeepAlive(head.keep_alive && !stopping.load());
      if (head.method == "HEAD") {
        // No route answers HEAD, and its answer must have no body (the client reads none).
        request.discard(kDiscardLimit);
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                                    std::string(reason_phrase(405)));
        response.set("Allow", "GET, POST");
        response.setContentType("application/json");
        response.setContentLength(0);
        response.send();
        keep = response.getKeepAlive() && request.body_done();
        return keep && !stopping.load() ? after::keep : after::linger;
      }
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
          factory->createRequestHandler(request));
      const auto* route = dynamic_cast<route_handler*>(handler.get());
      if ((route == nullptr || !route->reads_body()) && !request.discard(kDiscardLimit)) {
        response.setKeepAlive(false);  // a body the route does not read, too long to drop
      }
      handler->handleRequest(request, response);
      if (!response.sent()) {
        send_json(response, 500,
                  error_body("internal_error", "the server failed to handle the request"));
      }
      keep = response.getKeepAlive();
      complete = request.body_done();
    } catch (const std::exception& e) {
      spdlog::debug("connection closed: {}", e.what());  // a write failed or was cut
      return after::close;
    }
    {
      std::lock_guard lk(mu);
      c.in_head = c.in_body = false;
      cut = c.cut;
    }
    if (cut) {
      return after::close;
    }
    // The next request is parsed only where this body ended: with any of it left unread, the
    // connection closes instead.
    if (!keep || !complete || stopping.load()) {
      return after::linger;
    }
    return after::keep;
  }
};

http_server::http_server(server_context& ctx) : ctx_(ctx) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  std::string host;
  uint16_t port = 0;
  const auto cfg = ctx_.config.load();  // server.* keys are never reloaded: fixed from here on
  split_host_port(cfg->server.listen, host, port);
  const auto& s = cfg->server;
  auto d = std::make_unique<impl>(ctx_);
  d->params = new Poco::Net::HTTPServerParams;
  d->params->setKeepAlive(true);
  d->params->setMaxKeepAliveRequests(0);  // unlimited: Fluent Bit keeps its connection
  d->params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(s.keepalive_timeout_seconds), 0));
  // Per-read socket timeout inside a request; the watchdog enforces the total deadlines.
  d->params->setTimeout(Poco::Timespan(static_cast<long>(s.request_timeout_seconds), 0));
  d->params->setServerName("luffy-ingest");
  d->factory = new router(ctx_);
  d->header_timeout = std::chrono::seconds(s.header_timeout_seconds);
  d->body_timeout = std::chrono::seconds(s.body_timeout_seconds);
  d->keepalive_timeout = std::chrono::seconds(s.keepalive_timeout_seconds);
  d->request_timeout = std::chrono::seconds(s.request_timeout_seconds);
  d->min_body_rate = s.min_body_rate;
  d->max_body_bytes = s.max_body_bytes;
  // One client address holds at most server.max_connections_per_client connections; and at
  // server.max_open_connections the connection closed to make room is taken from the address
  // holding the most (evict_one).
  d->max_per_client = s.max_connections_per_client;
  // A response the client does not read within this closes its connection.
  d->write_timeout = std::chrono::seconds(s.write_timeout_seconds);
  d->limits.max_head_bytes = kMaxHeadBytes;
  d->max_queued = static_cast<size_t>(s.max_queued);
  d->threads = static_cast<size_t>(s.threads);
  d->max_open = s.max_open_connections;

  // Every open connection is a descriptor: raise the soft limit to fit the cap if we may.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    const auto want = static_cast<rlim_t>(d->max_open + 256);
    if (lim.rlim_cur < want) {
      lim.rlim_cur = std::min(want, lim.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &lim);
      ::getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur < want) {
      d->max_open = std::max<int64_t>(16, static_cast<int64_t>(lim.rlim_cur) - 256);
      spdlog::warn("server.max_open_connections lowered to {}: the descriptor limit is {}",
                   d->max_open, lim.rlim_cur);
    }
  }

  d->listener = Poco::Net::ServerSocket(Poco::Net::SocketAddress(host, port),
                                        static_cast<int>(s.max_connections));
  d->listener.setBlocking(false);
  d->listen_fd = d->listener.impl()->sockfd();
  d->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d->wake_fd < 0) {
    throw Poco::IOException("eventfd failed");
  }
  d->workers_alive = d->threads;
  for (size_t i = 0; i < d->threads; ++i) {
    d->workers.emplace_back([p = d.get()] { p->worker_loop(); });
  }
  d->gate = std::thread([p = d.get()] { p->gate_loop(); });
  impl_ = std::move(d);
}

void http_server::stop() {
  if (!impl_) {
    return;
  }
  impl_->stopping = true;
  impl_->wake();
  impl_->gate.join();  // returns once every worker has finished
  for (auto& t : impl_->workers) {
    t.join();
  }
  ::close(impl_->wake_fd);
  impl_.reset();
}

uint16_t http_server::port() const {
  return impl_ ? impl_->listener.address().port() : 0;
}

namespace {
framed_request* framed(Poco::Net::HTTPServerRequest& req) {
  return dynamic_cast<framed_request*>(&req);
}
}  // namespace

std::streamsize read_body(Poco::Net::HTTPServerRequest& req, char* buf, size_t n) {
  if (auto* r = framed(req)) {
    return r->read(buf, n);
  }
  std::istream& in = req.stream();
  in.read(buf, static_cast<std::streamsize>(n));
  return in.gcount();
}

body_framing request_framing(Poco::Net::HTTPServerRequest& req, uint64_t& length) {
  if (auto* r = framed(req)) {
    length = r->head().content_length;
    return r->head().framing;
  }
  length = req.hasContentLength() ? static_cast<uint64_t>(req.getContentLength64()) : 0;
  return req.getChunkedTransferEncoding() ? body_framing::chunked
         : req.hasContentLength()         ? body_framing::length
                                          : body_framing::none;
}

bool discard_body(Poco::Net::HTTPServerRequest& req, size_t limit) {
  if (auto* r = framed(req)) {
    return r->discard(limit);
  }
  return false;
}

framing_error body_error(Poco::Net::HTTPServerRequest& req) {
  if (auto* r = framed(req)) {
    return r->body_error();
  }
  return {};
}

}  // namespace luffy
