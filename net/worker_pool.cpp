#include "net/worker_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "net/body_watchdog.hpp"
#include "net/request_exchange.hpp"

namespace luffy {

worker_pool::worker_pool(server_context& ctx, const edge_settings& settings,
                         Poco::Net::HTTPServerParams::Ptr params, const std::atomic<bool>& stopping,
                         std::function<void()> on_returned)
    : ctx_(ctx),
      settings_(settings),
      params_(std::move(params)),
      stopping_(stopping),
      on_returned_(std::move(on_returned)) {}

worker_pool::~worker_pool() {
  stop_taking_back();
  for (auto& t : threads_) {
    t.join();
  }
}

void worker_pool::start() {
  workers_alive_ = settings_.threads;
  for (size_t i = 0; i < settings_.threads; ++i) {
    threads_.emplace_back([this] { worker_loop(); });
  }
}

bool worker_pool::offer(const connection_ptr& c) {
  {
    std::lock_guard lk(mu_);
    if (ready_.size() >= settings_.max_queued) {
      return false;
    }
    ready_.push_back(c);
  }
  work_.notify_one();
  return true;
}

std::vector<connection_ptr> worker_pool::take_returned() {
  std::vector<connection_ptr> back;
  std::lock_guard lk(mu_);
  back.swap(returned_);
  return back;
}

uint64_t worker_pool::take_cut_count() {
  std::lock_guard lk(mu_);
  return std::exchange(cut_bodies_, 0);
}

void worker_pool::stop_taking_back() {
  {
    std::lock_guard lk(mu_);
    workers_stop_ = true;
    returned_.clear();
  }
  work_.notify_all();
}

bool worker_pool::finished() {
  std::lock_guard lk(mu_);
  return workers_alive_ == 0;
}

void worker_pool::watch(steady::time_point now, bool held_waiting) {
  const edge_settings& s = settings_;
  std::lock_guard lk(mu_);
  const bool saturated =
      held_waiting || (!ready_.empty() && busy_ >= s.threads) || stopping_.load();
  for (auto& c : active_) {
    if (c->hard_cut) {
      continue;
    }
    const auto elapsed = now - c->phase_started;
    // Heads never reach a worker incomplete (the gate parsed them): only bodies are watched.
    const bool cut = c->in_body && !c->cut &&
                     body_overdue({elapsed, c->body_read.load(std::memory_order_relaxed),
                                   c->body_expected, c->prefetched},
                                  s, saturated);
    if (cut) {
      // The blocked read returns end-of-file; the handler answers and the connection closes.
      ::shutdown(c->fd, SHUT_RD);
      c->cut = true;
      ++cut_bodies_;
    }
    if (now - c->dispatched > s.body_timeout + s.request_timeout + std::chrono::seconds(5)) {
      ::shutdown(c->fd, SHUT_RDWR);  // a client that does not read its response
      c->cut = c->hard_cut = true;
    }
  }
}

void worker_pool::worker_loop() {
  for (;;) {
    connection_ptr c;
    {
      std::unique_lock lk(mu_);
      work_.wait(lk, [&] { return !ready_.empty() || workers_stop_; });
      if (ready_.empty()) {
        --workers_alive_;
        return;
      }
      c = std::move(ready_.front());
      ready_.pop_front();
      c->dispatched = steady::now();
      c->cut = c->hard_cut = false;
      active_.push_back(c);
      ++busy_;
    }
    const after next = serve(*c);
    {
      std::lock_guard lk(mu_);
      active_.erase(std::find(active_.begin(), active_.end(), c));
      --busy_;
      if (next != after::close && !workers_stop_) {
        c->linger_next = next == after::linger || stopping_.load();
        returned_.push_back(std::move(c));
      }
    }
    if (c) {
      c.reset();  // closes it, now that the watchdog no longer sees it
    } else {
      on_returned_();
    }
  }
}

void worker_pool::start_body_phase(connection& c, const request_head& head) {
  std::lock_guard lk(mu_);
  c.body_expected = head.framing == body_framing::length ? static_cast<int64_t>(head.content_length)
                    : head.framing == body_framing::none ? 0
                                                         : -1;
  c.body_read.store(0);
  c.in_body = true;
  c.phase_started = c.since;  // the body clock started when the gate saw the head
}

bool worker_pool::end_body_phase(connection& c) {
  std::lock_guard lk(mu_);
  c.in_body = false;
  return c.cut;
}

// Serves the one request whose head the gate parsed. Returns what becomes of the connection:
// keep (kept alive, back to the gate, which parses its next request once this response is
// sent), linger (answered, now closing: back to the gate to be drained and closed) or close.
// Never closes the socket itself (the watchdog may still shut it down by descriptor until the
// caller removes it from `active_`).
worker_pool::after worker_pool::serve(connection& c) {
  std::unique_ptr<request_framer> framer = std::move(c.framer);
  if (!framer) {
    return after::close;
  }
  {
    // Take the head's bytes (the gate saw them in the kernel buffer).
    std::vector<char> skip(framer->head_size());
    const ssize_t n = ::recv(c.fd, skip.data(), skip.size(), MSG_WAITALL);
    if (n != static_cast<ssize_t>(skip.size())) {
      return after::close;
    }
  }
  ++c.requests;
  start_body_phase(c, framer->head());
  const exchange_result r = exchange_request(ctx_, c, *framer, params_, stopping_);
  switch (r.how) {
    case exchange_result::ending::failed:
      return after::close;
    case exchange_result::ending::head_refused:
      return r.keep_alive && r.body_complete && !stopping_.load() ? after::keep : after::linger;
    case exchange_result::ending::answered:
      break;
  }
  if (end_body_phase(c)) {
    return after::close;  // cut by the watchdog
  }
  // The next request is parsed only where this body ended: with any of it left unread, the
  // connection closes instead.
  if (!r.keep_alive || !r.body_complete || stopping_.load()) {
    return after::linger;
  }
  return after::keep;
}

}  // namespace luffy
