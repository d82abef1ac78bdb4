#pragma once
// The connection gate: one thread that owns every connection not in a request.
//
// It accepts, waits (epoll) until a complete request head is in the kernel buffer, parses it
// once (core/http_framing), and only then hands the connection to the worker pool
// (net/worker_pool.hpp); after the response a kept-alive connection comes back here, and its
// next request is looked at only once that response has left (bounded pipelining). So workers
// only ever hold requests whose head has arrived, and idle or trickling clients hold no thread.
//
// What it enforces (server.* keys, docs/RELIABILITY.md), answering itself with JSON and then
// closing lingering (reading and dropping what the client still sends, so that the answer is
// not destroyed by a reset):
//   - heads core/http_framing refuses (400/411/413/414/417/431/501/505), a declared body over
//     server.max_body_bytes (413), before a byte of the body is read;
//   - total deadlines: head (408), body before a worker (408), idle keep-alive (close), a
//     response the client does not read (close at server.write_timeout_seconds);
//   - server.max_open_connections (makes room by closing a parked connection: gate_rules.hpp
//     evicted_before) and server.max_connections_per_client (503 too_many_connections);
//   - a full worker queue: the request is held, then 503 overloaded after
//     server.request_timeout_seconds.
// Every 10 s it logs one warning with what it refused or cut, when it did.
//
// Thread safety: run() on one thread; wake() from any thread; the rest is that thread's.
#include <Poco/Net/ServerSocket.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/connection.hpp"
#include "net/edge_settings.hpp"
#include "net/worker_pool.hpp"

namespace luffy {

class connection_gate {
 public:
  // `listener` is bound and listening, or default-constructed when every connection comes
  // through adopt() (TLS); the gate closes it when it stops. Throws
  // Poco::IOException when its wake-up descriptor cannot be made.
  connection_gate(const edge_settings& settings, Poco::Net::ServerSocket listener,
                  worker_pool& pool, const std::atomic<bool>& stopping);
  connection_gate(const connection_gate&) = delete;
  connection_gate& operator=(const connection_gate&) = delete;
  ~connection_gate();

  // Serves until `stopping` is set and wake() called; then refuses new connections, closes the
  // waiting ones, cuts slow requests and returns once every worker has finished.
  void run();
  // Wakes run(): a worker gave a connection back, or the server is stopping. Any thread.
  void wake();
  // Takes a connection accepted elsewhere (net/tls_terminator: the plain end of a TLS session)
  // as if the gate had accepted it from `peer`: same caps, deadlines and framing. Any thread.
  void adopt(int fd, const sockaddr_storage& peer,
             std::shared_ptr<const client_identity> client = nullptr);
  uint16_t port() const;

 private:
  using parked_map = std::unordered_map<int, connection_ptr>;
  enum class verdict { wait, ready, close };

  // One round of the loop, in order.
  void handle_events(int n, steady::time_point now);
  void take_back_returned(steady::time_point now);
  void accept_pending(steady::time_point now);
  void resume_accepting(steady::time_point now);
  void enforce_deadlines(steady::time_point now);
  void retry_held(steady::time_point now);
  void report(steady::time_point now);
  void shut_down();

  // Parked connections (waiting for a request head, a small body, a flush, or to close).
  void watch_fd(int fd, uint32_t events);
  void park(connection_ptr c);
  parked_map::iterator unpark(parked_map::iterator it);
  // Acts on what inspect() found; returns the next parked connection.
  parked_map::iterator on_verdict(parked_map::iterator it, verdict v);
  // Hands a connection with a complete head to the pool, or holds it when the queue is full.
  void hand_over(connection_ptr c);

  // Looks (without consuming) at what a parked connection has sent so far.
  verdict inspect(connection& c, steady::time_point now, uint32_t ev);
  // The head in the first `got` peeked bytes: refused, incomplete, or ready for a worker.
  verdict judge_head(connection& c, size_t got, steady::time_point now, bool no_more);
  // Answers (best effort, never blocks) and starts closing, lingering.
  verdict refuse(connection& c, int status, std::string_view code, std::string_view message);
  void start_closing(connection& c, bool shut = true);
  verdict linger(connection& c);

  // Accepting.
  bool accept_some(steady::time_point now);
  bool admit(int fd, const sockaddr_storage& peer, steady::time_point now, bool adopted = false,
             std::shared_ptr<const client_identity> tls_client = nullptr);
  void set_socket_options(int fd) const;
  std::shared_ptr<client_slot> client_slot_for(const sockaddr_storage& peer);
  bool evict_one();

  const edge_settings& settings_;
  Poco::Net::ServerSocket listener_;
  const int listen_fd_;
  worker_pool& pool_;
  const std::atomic<bool>& stopping_;
  int wake_fd_ = -1;
  int epoll_fd_ = -1;

  // Declared before the connections: each decrements it when it closes.
  std::atomic<int64_t> open_{0};
  std::unordered_map<std::string, std::shared_ptr<client_slot>> clients_;
  parked_map parked_;
  std::vector<connection_ptr> held_;  // ready, but the worker queue is full
  std::mutex adopt_mu_;
  struct adoptee {
    int fd;
    sockaddr_storage peer;
    std::shared_ptr<const client_identity> client;
  };
  std::vector<adoptee> adopted_;  // (adopt_mu_) not yet admitted
  std::vector<epoll_event> events_ = std::vector<epoll_event>(256);
  std::vector<char> buf_ = std::vector<char>(kMaxHeadBytes + kBodyPrefetch);
  bool accepting_ = true;
  steady::time_point accept_paused_until_{};
  steady::time_point next_watch_ = steady::now();

  // Counters for the periodic warning.
  uint64_t header_timeouts_ = 0, body_timeouts_ = 0, idle_evicted_ = 0, refused_ = 0,
           too_large_ = 0, bad_heads_ = 0, write_timeouts_ = 0, per_client_refused_ = 0;
  steady::time_point next_report_ = steady::now() + std::chrono::seconds(10);
};

}  // namespace luffy
