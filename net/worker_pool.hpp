#pragma once
// The worker pool: server.threads threads, each serving one request at a time on a connection
// the gate handed over, and the watchdog that cuts requests overrunning their deadlines.
//
// Bounded (Seastar-style): at most server.max_queued connections wait for a worker; offer()
// refuses the next one and the gate holds it (and answers 503 when none frees in time). A worker
// takes the head's bytes from the socket, answers through the request exchange
// (net/request_exchange.hpp) and gives the connection back to the gate (take_returned(), after
// calling `on_returned`) when it is kept alive or must be closed lingering; otherwise it closes
// it. The watchdog (watch(), called by the gate every tick) shuts the read side of a request
// past its body deadline, or below server.min_body_rate while requests wait for a worker; the
// blocked read then ends and the handler answers.
//
// Thread safety: every member function may be called from any thread; one mutex guards the
// queues and the (mu) fields of the connections in workers (net/connection.hpp).
#include <Poco/Net/HTTPServerParams.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "net/connection.hpp"
#include "net/edge_settings.hpp"
#include "net/server_context.hpp"

namespace luffy {

class worker_pool {
 public:
  // `stopping` is the server's flag: once set, answers close their connections. `on_returned`
  // is called by a worker, without the lock, after it gave a connection back.
  worker_pool(server_context& ctx, const edge_settings& settings,
              Poco::Net::HTTPServerParams::Ptr params, const std::atomic<bool>& stopping,
              std::function<void()> on_returned);
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  // Stops taking connections back (stop_taking_back()) and joins the threads once they have
  // served what is queued.
  ~worker_pool();

  void start();
  // Queues a connection whose request head is in; false (not taken) when the queue is full.
  bool offer(const connection_ptr& c);
  // The connections workers gave back since the last call.
  std::vector<connection_ptr> take_returned();
  // The watchdog: cuts requests in workers that overrun their deadlines, and slow ones when
  // requests wait (`held_waiting`: the gate holds requests the queue refused).
  void watch(steady::time_point now, bool held_waiting);
  // Requests cut by the watchdog since the last call (for the gate's periodic warning).
  uint64_t take_cut_count();
  // Stopping: workers finish the queued requests, close their connections and exit; nothing
  // comes back to the gate any more.
  void stop_taking_back();
  // True once every worker has exited (after stop_taking_back()).
  bool finished();

 private:
  enum class after { close, keep, linger };

  void worker_loop();
  after serve(connection& c);
  // The watchdog's body clock for the request on `c` starts (it started when the gate saw the
  // head), and ends; end_body_phase returns whether the watchdog cut it.
  void start_body_phase(connection& c, const request_head& head);
  bool end_body_phase(connection& c);

  server_context& ctx_;
  const edge_settings& settings_;
  Poco::Net::HTTPServerParams::Ptr params_;
  const std::atomic<bool>& stopping_;
  std::function<void()> on_returned_;
  std::vector<std::thread> threads_;

  std::mutex mu_;  // guards everything below and the (mu) fields of active connections
  std::condition_variable work_;
  std::deque<connection_ptr> ready_;      // complete head, waiting for a worker
  std::vector<connection_ptr> active_;    // in a worker
  std::vector<connection_ptr> returned_;  // kept alive, back to the gate
  bool workers_stop_ = false;
  size_t busy_ = 0;
  size_t workers_alive_ = 0;
  uint64_t cut_bodies_ = 0;
};

}  // namespace luffy
