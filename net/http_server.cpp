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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

#include "net/handlers.hpp"
#include "net/routes.hpp"

namespace luffy {

namespace {

class route_handler : public Poco::Net::HTTPRequestHandler {
 public:
  route_handler(server_context& ctx, const route* r, bool method_ok, std::string param = "")
      : ctx_(ctx), route_(r), method_ok_(method_ok), param_(std::move(param)) {}

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
    if (route_ == nullptr) {
      ctx_.metrics.count_status(404);
      res.setKeepAlive(false);
      send_json(res, 404, error_body("not_found", "no route " + req.getURI()));
      return;
    }
    if (!method_ok_) {
      res.set("Allow", std::string(route_->method));
      res.setKeepAlive(false);
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

// One client connection. The gate owns it while it waits for a request head; a worker while it
// serves requests. Fields marked (mu) are read by the watchdog under impl::mu.
struct connection {
  connection(Poco::Net::StreamSocket s, int f, std::atomic<int64_t>& open_count)
      : socket(std::move(s)), fd(f), open(open_count) {}
  ~connection() {
    try {
      socket.close();
    } catch (...) {
    }
    open.fetch_sub(1);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  Poco::Net::StreamSocket socket;
  const int fd;
  std::atomic<int64_t>& open;

  // Gate state.
  // fresh: accepted, nothing sent yet; idle: kept alive between requests; head: part of a
  // request head is in; body: the head is in, waiting for the body (or its first 16 KiB).
  enum class waiting { fresh, idle, head, body } state = waiting::fresh;
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

// Counts body bytes as the handler reads them (Poco's body streams read through
// HTTPSession::read; the head is parsed through get()), and exposes the read-ahead buffer.
class counted_session : public Poco::Net::HTTPServerSession {
 public:
  counted_session(const Poco::Net::StreamSocket& s, Poco::Net::HTTPServerParams::Ptr p,
                  connection& c)
      : Poco::Net::HTTPServerSession(s, p), c_(c) {}
  int pending() const { return buffered(); }
  // Public door to read(): the session's buffered bytes first, then one receive of up to length.
  int read_direct(char* buffer, std::streamsize length) { return read(buffer, length); }

 protected:
  int read(char* buffer, std::streamsize length) override {
    const int n = Poco::Net::HTTPServerSession::read(buffer, length);
    if (n > 0) {
      c_.body_read.fetch_add(n, std::memory_order_relaxed);
    }
    return n;
  }

 private:
  connection& c_;
};

// What the gate needs to know about a request head still in the kernel buffer.
struct head_info {
  bool complete = false;
  size_t end = 0;       // offset of the first body byte
  int64_t length = -1;  // Content-Length, -1 when absent or unreadable
  bool chunked = false;
  bool expect = false;  // Expect: 100-continue: the body comes only after our answer
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Leading blank lines are skipped, as Poco does; lines may end in CRLF or LF.
head_info parse_head(std::string_view data) {
  head_info h;
  size_t pos = 0;
  while (pos < data.size() &&
         (data[pos] == '\r' || data[pos] == '\n' || data[pos] == ' ' || data[pos] == '\t')) {
    ++pos;
  }
  bool first = true;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      return h;  // incomplete
    }
    std::string_view line = data.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    pos = nl + 1;
    if (line.empty()) {
      h.complete = true;
      h.end = pos;
      return h;
    }
    if (first) {
      first = false;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (iequals(name, "content-length")) {
      int64_t v = 0;
      const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
      h.length = (r.ec == std::errc() && r.ptr == value.data() + value.size()) ? v : -1;
    } else if (iequals(name, "transfer-encoding")) {
      h.chunked = true;
    } else if (iequals(name, "expect")) {
      h.expect = true;
    }
  }
  return h;
}

// Best effort, never blocks: the gate answers a few refusals itself.
void send_now(int fd, std::string_view status, std::string_view code, std::string_view message) {
  const std::string body = "{\"status\":\"error\",\"error\":\"" + std::string(code) +
                           "\",\"message\":\"" + std::string(message) + "\"}";
  const std::string msg = "HTTP/1.1 " + std::string(status) +
                          "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  [[maybe_unused]] auto n = ::send(fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

void send_error(Poco::Net::HTTPServerSession& session, Poco::Net::HTTPResponse::HTTPStatus status) {
  Poco::Net::HTTPServerResponseImpl response(session);
  response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
  response.setStatusAndReason(status);
  response.setKeepAlive(false);
  response.send();
  session.setKeepAlive(false);
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
           cut_bodies = 0;
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
            c->state = connection::waiting::idle;
            c->since = now;
            park(std::move(c));
          }
        } else if (fd == listen_fd) {
          listener_ready = true;  // accepted below: a new socket may reuse a descriptor closed here
        } else if (auto it = parked.find(fd); it != parked.end()) {
          switch (inspect(*it->second, buf, now, events[e].events)) {
            case verdict::wait:
              break;
            case verdict::close:
              unpark(it);
              break;
            case verdict::ready: {
              auto c = it->second;
              unpark(it);
              c->held_since = now;
              if (!dispatch(c)) {
                held.push_back(std::move(c));
              }
              break;
            }
          }
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
        } else if (c.state == connection::waiting::body && age > body_timeout) {
          ++body_timeouts;
          send_now(c.fd, "408 Request Timeout", "request_timeout",
                   "the request body did not arrive within server.body_timeout_seconds");
          it = unpark(it);
        } else if (c.state != connection::waiting::body && age > header_timeout) {
          ++header_timeouts;
          send_now(c.fd, "408 Request Timeout", "request_timeout",
                   "the request head did not arrive within server.header_timeout_seconds");
          it = unpark(it);
        } else {
          ++it;
        }
      }
      for (auto& c : held) {
        if (dispatch(c)) {
          c.reset();
        } else if (now - c->held_since > request_timeout) {
          send_now(c->fd, "503 Service Unavailable", "overloaded",
                   "no worker became free in time; retry");
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

  // Looks (without consuming) at what a parked connection has sent so far.
  verdict inspect(connection& c, std::vector<char>& buf, steady::time_point now, uint32_t ev) {
    if ((ev & (EPOLLHUP | EPOLLERR)) != 0) {
      return verdict::close;  // reset, or closed both ways
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
    const head_info h = parse_head(std::string_view(buf.data(), got));
    if (!h.complete) {
      if (got >= kMaxHeadBytes) {
        ++too_large;
        send_now(c.fd, "431 Request Header Fields Too Large", "headers_too_large",
                 "the request head exceeds 32 KiB");
        return verdict::close;
      }
      return no_more ? verdict::close : verdict::wait;
    }
    if (c.state != connection::waiting::body) {
      c.state = connection::waiting::body;
      c.since = now;  // the body clock
    }
    // Hand over once the body is in (or its first 16 KiB: large bodies stream through a worker
    // under the minimum-rate rule). A body of unknown length, or one the client sends only
    // after a 100 Continue, goes at once.
    if (h.chunked || h.expect || h.length < 0) {
      c.prefetched = static_cast<int64_t>(got - h.end);
      return verdict::ready;
    }
    const auto want = std::min<int64_t>(h.length, static_cast<int64_t>(kBodyPrefetch));
    c.prefetched = static_cast<int64_t>(got - h.end);
    if (c.prefetched >= want) {
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
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          spdlog::warn("accept: {}", std::strerror(errno));
          return evict_one(parked);  // frees one descriptor; the listener stays readable
        }
        return true;
      }
      open.fetch_add(1);
      auto c = std::make_shared<connection>(adopted_socket(fd), fd, open);
      if (open.load() > max_open && !evict_one(parked)) {
        ++refused;
        continue;  // c closes: nothing idle to make room for it
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c->since = now;
      park(std::move(c));
    }
    return true;
  }

  // Makes room at server.max_open_connections: closes an idle kept-alive connection (the one
  // that served the fewest requests, then the longest idle: an agent's busy connection goes
  // last), else the oldest one still sending a request.
  bool evict_one(parked_map& parked) {
    auto victim = parked.end();
    auto before = [](const connection& a, const connection& b) {
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
    if (header_timeouts + body_timeouts + idle_evicted + refused + too_large + cut == 0) {
      return;
    }
    spdlog::warn(
        "slow or excess clients in the last 10 s: {} closed at the header deadline, {} at the "
        "body deadline, {} slow requests cut in workers, {} closed and {} refused at "
        "server.max_open_connections ({} open, {} waiting for a request), {} heads over 32 KiB",
        header_timeouts, body_timeouts, cut, idle_evicted, refused, open.load(), waiting,
        too_large);
    header_timeouts = body_timeouts = idle_evicted = refused = too_large = 0;
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
      const bool keep = serve(*c);
      {
        std::lock_guard lk(mu);
        active.erase(std::find(active.begin(), active.end(), c));
        --busy;
        if (keep && !workers_stop && !stopping.load()) {
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

  void set_phase(connection& c, bool head, bool body, steady::time_point started) {
    std::lock_guard lk(mu);
    c.in_head = head;
    c.in_body = body;
    c.phase_started = started;
  }

  // Serves the requests of one connection while their heads are buffered. Returns true when the
  // connection stays open and goes back to the gate. Never closes the socket itself (the
  // watchdog may still shut it down by descriptor until the caller removes it from `active`).
  bool serve(connection& c) {
    counted_session session(c.socket, params, c);
    bool keep = false;
    bool first = true;  // its head and body clocks started in the gate
    while (session.hasMoreRequests()) {
      set_phase(c, true, false, steady::now());
      ++c.requests;
      try {
        Poco::Net::HTTPServerResponseImpl response(session);
        Poco::Net::HTTPServerRequestImpl request(response, session, params.get());
        {
          std::lock_guard lk(mu);
          c.body_expected = request.getChunkedTransferEncoding() ? -1
                            : request.hasContentLength()         ? request.getContentLength64()
                            : (request.getMethod() == "GET" || request.getMethod() == "HEAD" ||
                               request.getMethod() == "DELETE")
                                ? 0
                                : -1;
          c.body_read.store(0);
          if (!first) {
            c.prefetched = 0;  // a pipelined request: nothing of it was counted by the gate
          }
        }
        // The body clock of the first request started when the gate saw its head.
        set_phase(c, false, true, first ? c.since : steady::now());
        first = false;
        response.setDate(Poco::Timestamp());
        response.setVersion(request.getVersion());
        response.setKeepAlive(params->getKeepAlive() && request.getKeepAlive() &&
                              session.canKeepAlive());
        try {
          std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
              factory->createRequestHandler(request));
          if (request.getExpectContinue() &&
              response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
            response.sendContinue();
          }
          handler->handleRequest(request, response);
          session.setKeepAlive(params->getKeepAlive() && response.getKeepAlive() &&
                               session.canKeepAlive());
        } catch (const Poco::Exception&) {
          if (!response.sent()) {
            try {
              send_error(session, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
            } catch (...) {
            }
          }
          throw;
        }
      } catch (const Poco::Net::NoMessageException&) {
        break;
      } catch (const Poco::Net::MessageException&) {
        try {
          send_error(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        } catch (...) {
        }
        break;
      } catch (const Poco::Exception& e) {
        spdlog::debug("connection closed: {}", e.displayText());
        break;
      }
      bool cut = false;
      {
        std::lock_guard lk(mu);
        c.in_head = c.in_body = false;
        cut = c.cut;
      }
      const int64_t got = c.body_read.load();
      const bool body_left = c.body_expected > 0 && got < c.body_expected;
      if (!session.getKeepAlive() || cut || body_left || stopping.load()) {
        break;
      }
      if (session.pending() == 0) {
        keep = true;  // nothing buffered: wait for the next request in the gate
        break;
      }
      // A pipelined request is already buffered: serve it here.
    }
    session.detachSocket();
    return keep;
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

std::streamsize read_body_direct(Poco::Net::HTTPServerRequest& req, char* buf, std::streamsize n) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&req);
  auto* session = impl != nullptr ? dynamic_cast<counted_session*>(&impl->session()) : nullptr;
  if (session == nullptr) {
    return -1;
  }
  try {
    const int got = session->read_direct(buf, n);
    return got > 0 ? got : 0;
  } catch (const Poco::Exception&) {
    return 0;  // timeout or reset: the body ends short, as with the stream
  }
}

}  // namespace luffy
