#include "net/connection_gate.hpp"

#include <Poco/Exception.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "net/gate_rules.hpp"

namespace luffy {

namespace {

using std::chrono::milliseconds;

// Best effort, never blocks: the gate answers a few refusals itself, then closes (lingering).
void send_now(int fd, int status, std::string_view code, std::string_view message) {
  const std::string msg = refusal_response(status, code, message);
  [[maybe_unused]] auto n = ::send(fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

// Bytes of a response not yet sent to the client (its receive window is full: it does not read).
int unsent_bytes(int fd) {
  int n = 0;
  return ::ioctl(fd, SIOCOUTQNSD, &n) == 0 ? n : 0;
}

}  // namespace

connection_gate::connection_gate(const edge_settings& settings, Poco::Net::ServerSocket listener,
                                 worker_pool& pool, const std::atomic<bool>& stopping)
    : settings_(settings),
      listener_(std::move(listener)),
      listen_fd_(listener_.impl()->sockfd()),
      pool_(pool),
      stopping_(stopping) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw Poco::IOException("eventfd failed");
  }
}

connection_gate::~connection_gate() {
  for (const auto& a : adopted_) {
    ::close(a.fd);  // adopted while stopping, never admitted
  }
  ::close(wake_fd_);
}

void connection_gate::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void connection_gate::adopt(int fd, const sockaddr_storage& peer,
                            std::shared_ptr<const client_identity> client) {
  {
    std::lock_guard lock(adopt_mu_);
    adopted_.push_back(adoptee{fd, peer, std::move(client)});
  }
  wake();
}

uint16_t connection_gate::port() const {
  return listen_fd_ < 0 ? 0 : listener_.address().port();
}

// ---- the loop ------------------------------------------------------------------------------

void connection_gate::run() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  watch_fd(wake_fd_, EPOLLIN);
  if (listen_fd_ >= 0) {
    watch_fd(listen_fd_, EPOLLIN);
  }
  next_watch_ = steady::now();
  while (!stopping_.load()) {
    const int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                               static_cast<int>(kTick.count()));
    handle_events(n, steady::now());
    const auto now = steady::now();
    resume_accepting(now);
    enforce_deadlines(now);
    retry_held(now);
    if (now >= next_watch_) {
      pool_.watch(now, !held_.empty());
      next_watch_ = now + kTick;
    }
    report(now);
  }
  shut_down();
}

// Connections given back by workers, requests and closes of parked ones, then new connections
// (accepted last: a new socket may reuse a descriptor closed in this round).
void connection_gate::handle_events(int n, steady::time_point now) {
  bool listener_ready = false;
  for (int e = 0; e < n; ++e) {
    const int fd = events_[e].data.fd;
    if (fd == wake_fd_) {
      take_back_returned(now);
    } else if (fd == listen_fd_) {
      listener_ready = true;
    } else if (auto it = parked_.find(fd); it != parked_.end()) {
      on_verdict(it, inspect(*it->second, now, events_[e].events));
    }
  }
  if (listener_ready) {
    accept_pending(now);
  }
}

void connection_gate::take_back_returned(steady::time_point now) {
  uint64_t v = 0;
  [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
  for (auto& c : pool_.take_returned()) {
    c->since = now;
    if (c->linger_next) {
      c->linger_next = false;
      start_closing(*c);
    } else if (unsent_bytes(c->fd) > 0) {
      // Its next (pipelined) request waits until this response has left (enforce_deadlines).
      c->state = connection::waiting::flushing;
    } else {
      c->state = connection::waiting::idle;
    }
    park(std::move(c));  // readable now: epoll reports it at once
  }
  std::vector<adoptee> adopted;
  {
    std::lock_guard lock(adopt_mu_);
    adopted.swap(adopted_);
  }
  for (auto& a : adopted) {
    admit(a.fd, a.peer, now, true, std::move(a.client));
  }
}

void connection_gate::accept_pending(steady::time_point now) {
  if (!accept_some(now)) {
    // Out of descriptors and nothing to evict: stop polling the listener for a moment.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    accepting_ = false;
    accept_paused_until_ = now + milliseconds(100);
  }
}

void connection_gate::resume_accepting(steady::time_point now) {
  if (!accepting_ && now >= accept_paused_until_ && listen_fd_ >= 0) {
    watch_fd(listen_fd_, EPOLLIN);
    accepting_ = true;
  }
}

// Deadlines of the connections without a worker.
void connection_gate::enforce_deadlines(steady::time_point now) {
  using waiting = connection::waiting;
  for (auto it = parked_.begin(); it != parked_.end();) {
    auto& c = *it->second;
    const auto age = now - c.since;
    if (c.state == waiting::idle) {
      it = age > settings_.keepalive_timeout ? unpark(it) : std::next(it);
    } else if (c.state == waiting::flushing) {
      if (unsent_bytes(c.fd) == 0) {
        c.state = waiting::idle;
        c.since = now;
        it = on_verdict(it, inspect(c, now, 0));  // its next request may be waiting
      } else if (age > settings_.write_timeout) {
        ++write_timeouts_;  // the client has not read its response for that long
        it = unpark(it);
      } else {
        ++it;
      }
    } else if (c.state == waiting::closing) {
      it = age > kLingerTime ? unpark(it) : std::next(it);
    } else if (c.state == waiting::body && age > settings_.body_timeout) {
      ++body_timeouts_;
      send_now(c.fd, 408, "request_timeout",
               "the request body did not arrive within server.body_timeout_seconds");
      start_closing(c, false);
      ++it;
    } else if (c.state != waiting::body && age > settings_.header_timeout) {
      ++header_timeouts_;
      send_now(c.fd, 408, "request_timeout",
               "the request head did not arrive within server.header_timeout_seconds");
      start_closing(c, false);
      ++it;
    } else {
      ++it;
    }
  }
}

// Requests the worker queue refused: offered again, or refused once they waited
// server.request_timeout_seconds.
void connection_gate::retry_held(steady::time_point now) {
  for (auto& c : held_) {
    if (pool_.offer(c)) {
      c.reset();
    } else if (now - c->held_since > settings_.request_timeout) {
      send_now(c->fd, 503, "overloaded", "no worker became free in time; retry");
      c.reset();
    }
  }
  held_.erase(std::remove(held_.begin(), held_.end(), nullptr), held_.end());
}

void connection_gate::report(steady::time_point now) {
  if (now < next_report_) {
    return;
  }
  next_report_ = now + std::chrono::seconds(10);
  const uint64_t cut = pool_.take_cut_count();
  for (auto it = clients_.begin(); it != clients_.end();) {
    it = it->second->open.load() == 0 ? clients_.erase(it) : std::next(it);
  }
  if (header_timeouts_ + body_timeouts_ + idle_evicted_ + refused_ + too_large_ + cut + bad_heads_ +
          write_timeouts_ + per_client_refused_ ==
      0) {
    return;
  }
  spdlog::warn(
      "slow, excess or malformed clients in the last 10 s: {} closed at the header deadline, "
      "{} at the body deadline, {} slow requests cut in workers, {} closed and {} refused at "
      "server.max_open_connections ({} open, {} waiting for a request), {} refused at "
      "the per-address cap, {} heads over the limits (431/413), {} malformed heads refused, {} "
      "closed at server.write_timeout_seconds with a response not read",
      header_timeouts_, body_timeouts_, cut, idle_evicted_, refused_, open_.load(), parked_.size(),
      per_client_refused_, too_large_, bad_heads_, write_timeouts_);
  header_timeouts_ = body_timeouts_ = idle_evicted_ = refused_ = too_large_ = bad_heads_ =
      write_timeouts_ = per_client_refused_ = 0;
}

// Stopping: refuse new connections, close the idle ones, cut slow requests, wait for the
// workers to finish what they hold.
void connection_gate::shut_down() {
  try {
    listener_.close();
  } catch (...) {
  }
  parked_.clear();
  held_.clear();
  pool_.stop_taking_back();
  while (!pool_.finished()) {
    pool_.watch(steady::now(), true);
    std::this_thread::sleep_for(kTick);
  }
  ::close(epoll_fd_);
}

// ---- parked connections --------------------------------------------------------------------

void connection_gate::watch_fd(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void connection_gate::park(connection_ptr c) {
  watch_fd(c->fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
  const int fd = c->fd;
  parked_[fd] = std::move(c);
}

connection_gate::parked_map::iterator connection_gate::unpark(parked_map::iterator it) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
  return parked_.erase(it);
}

connection_gate::parked_map::iterator connection_gate::on_verdict(parked_map::iterator it,
                                                                  verdict v) {
  switch (v) {
    case verdict::wait:
      break;
    case verdict::close:
      return unpark(it);
    case verdict::ready: {
      auto c = it->second;
      auto next = unpark(it);
      hand_over(std::move(c));
      return next;
    }
  }
  return std::next(it);
}

void connection_gate::hand_over(connection_ptr c) {
  c->held_since = steady::now();
  if (!pool_.offer(c)) {
    held_.push_back(std::move(c));
  }
}

// The request head is parsed here, once (core/http_framing): a refused head is answered and the
// connection closed; an accepted one goes to a worker with its framing decided.
connection_gate::verdict connection_gate::inspect(connection& c, steady::time_point now,
                                                  uint32_t ev) {
  using waiting = connection::waiting;
  if (c.state == waiting::closing) {
    return linger(c);
  }
  if ((ev & (EPOLLHUP | EPOLLERR)) != 0) {
    return verdict::close;  // reset, or closed both ways
  }
  if (c.state == waiting::flushing) {
    if (unsent_bytes(c.fd) > 0) {
      return verdict::wait;  // its next request is looked at once the last response is out
    }
    c.state = waiting::idle;
    c.since = now;
  }
  // The client has shut its sending side: whatever is missing will never come.
  const bool no_more = (ev & EPOLLRDHUP) != 0;
  const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    return verdict::close;  // the client closed
  }
  if (n < 0) {
    return verdict::wait;
  }
  if (c.state == waiting::idle) {
    c.since = now;  // a kept-alive connection's head clock starts at its first byte
    c.state = waiting::head;
  } else if (c.state == waiting::fresh) {
    c.state = waiting::head;  // from accept
  }
  return judge_head(c, static_cast<size_t>(n), now, no_more);
}

connection_gate::verdict connection_gate::judge_head(connection& c, size_t got,
                                                     steady::time_point now, bool no_more) {
  auto framer = std::make_unique<request_framer>(settings_.limits);
  const framing_status st = framer->parse_head(std::string_view(buf_.data(), got));
  if (st == framing_status::need_more) {
    return no_more ? verdict::close : verdict::wait;
  }
  if (st == framing_status::invalid) {
    const framing_error& e = framer->error();
    ++(e.status == 431 ? too_large_ : bad_heads_);
    return refuse(c, e.status, e.code, e.message);
  }
  const request_head& h = framer->head();
  if (h.framing == body_framing::length &&
      h.content_length > static_cast<uint64_t>(settings_.max_body_bytes)) {
    // No route takes a body this large: answer now, before any of it is read.
    ++too_large_;
    return refuse(c, 413, "body_too_large",
                  "body of " + std::to_string(h.content_length) + " bytes exceeds " +
                      std::to_string(settings_.max_body_bytes) + " (server.max_body_bytes)");
  }
  if (c.state != connection::waiting::body) {
    c.state = connection::waiting::body;
    c.since = now;  // the body clock
  }
  // Hand over once the body is in (or its first bytes: gate_rules.hpp prefetch_wanted).
  c.prefetched = static_cast<int64_t>(got - framer->head_size());
  if (c.prefetched >= prefetch_wanted(h)) {
    c.framer = std::move(framer);
    return verdict::ready;
  }
  return no_more ? verdict::close : verdict::wait;
}

connection_gate::verdict connection_gate::refuse(connection& c, int status, std::string_view code,
                                                 std::string_view message) {
  send_now(c.fd, status, code, message);
  start_closing(c, false);
  return linger(c);
}

// Answered (or to be closed): shut our sending side, then read and drop what the client
// still sends until it closes, for at most kLingerTime and kLingerBytes.
void connection_gate::start_closing(connection& c, bool shut) {
  if (shut) {
    ::shutdown(c.fd, SHUT_WR);
  }
  c.state = connection::waiting::closing;
  c.lingered = 0;
  c.framer.reset();
}

connection_gate::verdict connection_gate::linger(connection& c) {
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
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

// ---- accepting -----------------------------------------------------------------------------

// Accepts what is pending. Returns false when out of descriptors with nothing to evict.
bool connection_gate::accept_some(steady::time_point now) {
  // A small batch, so that events of parked connections (requests, closes) are seen between
  // batches of a connection flood.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    const int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        spdlog::warn("accept: {}", std::strerror(errno));
        return evict_one();  // frees one descriptor; the listener stays readable
      }
      return true;
    }
    admit(fd, peer, now);
  }
  return true;
}

// Counts a new connection against the caps, then parks it; false when a cap refused it (it is
// closed).
bool connection_gate::admit(int fd, const sockaddr_storage& peer, steady::time_point now,
                            bool adopted, std::shared_ptr<const client_identity> tls_client) {
  std::shared_ptr<client_slot> slot = client_slot_for(peer);
  if (settings_.max_per_client > 0 && slot->open.load() >= settings_.max_per_client) {
    ++per_client_refused_;
    send_now(fd, 503, "too_many_connections",
             "this address already has its maximum of connections open; reuse them");
    ::close(fd);
    return false;
  }
  slot->open.fetch_add(1);
  open_.fetch_add(1);
  auto c = std::make_shared<connection>(adopted_socket(fd), fd, open_);
  c->client = std::move(slot);
  c->tls_client = std::move(tls_client);
  if (adopted) {
    // Its socket is a socketpair end: the client's address is the one the relay accepted.
    try {
      c->peer = Poco::Net::SocketAddress(
          reinterpret_cast<const sockaddr*>(&peer),
          peer.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    } catch (const Poco::Exception&) {
    }
  }
  if (open_.load() > settings_.max_open && !evict_one()) {
    ++refused_;
    return false;  // c closes: nothing idle to make room for it
  }
  set_socket_options(fd);
  c->since = now;
  park(std::move(c));
  return true;
}

// Per call deadlines of a worker's blocking reads and writes (the gate never blocks); the
// watchdog adds the total ones.
void connection_gate::set_socket_options(int fd) const {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const timeval tv{
      static_cast<time_t>(
          std::chrono::duration_cast<std::chrono::seconds>(settings_.request_timeout).count()),
      0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const timeval wtv{
      static_cast<time_t>(
          std::chrono::duration_cast<std::chrono::seconds>(settings_.write_timeout).count()),
      0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wtv, sizeof wtv);
}

// The count of open connections of the peer's address (IPv4 or IPv6 bytes as the key).
std::shared_ptr<client_slot> connection_gate::client_slot_for(const sockaddr_storage& peer) {
  std::string key;
  if (peer.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
    key.assign(reinterpret_cast<const char*>(&a), sizeof a);
  } else if (peer.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
    key.assign(reinterpret_cast<const char*>(&a), sizeof a);
  }
  auto& slot = clients_[key];
  if (!slot) {
    slot = std::make_shared<client_slot>();
  }
  return slot;
}

// Makes room at server.max_open_connections: closes the parked connection that
// gate_rules.hpp evicted_before puts first. False when none is parked.
bool connection_gate::evict_one() {
  auto rank = [](const connection& c) {
    return eviction_rank{c.client ? c.client->open.load() : 0, c.state == connection::waiting::idle,
                         c.requests, c.since};
  };
  auto victim = parked_.end();
  for (auto it = parked_.begin(); it != parked_.end(); ++it) {
    if (victim == parked_.end() || evicted_before(rank(*it->second), rank(*victim->second))) {
      victim = it;
    }
  }
  if (victim == parked_.end()) {
    return false;
  }
  ++idle_evicted_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, victim->first, nullptr);
  parked_.erase(victim);
  return true;
}

}  // namespace luffy
