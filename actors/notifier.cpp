#include "actors/notifier.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/notification.hpp"
#include "storage/notifier_store.hpp"

namespace luffy {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using counter = notification_metrics::counter;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct outgoing {
  std::string body;
  std::string what;  // for logs: "new_cluster 3f2a..." or "digest of 14 events"
};

// One webhook's delivery thread and its bounded queue. The poller only queues (never waits on
// the network); the thread posts one message at a time, retrying per core/notification.hpp.
class webhook_worker {
 public:
  webhook_worker(webhook_config hook, const notifier_settings& s, ingest_metrics* metrics)
      : hook_(std::move(hook)),
        format_(parse_webhook_format(hook_.format).value_or(webhook_format::json)),
        redacted_(redact_url(hook_.url)),
        max_attempts_(std::max<int64_t>(1, s.max_attempts)),
        timeout_ms_(s.timeout_ms),
        retry_base_ms_(s.retry_base_ms),
        retry_cap_ms_(s.retry_cap_ms),
        queue_limit_(s.queue_limit),
        metrics_(metrics) {
    count(counter::sent, 0);  // the webhook's series exist (at 0) before its first message
    thread_ = std::thread([this] { run(); });
  }
  ~webhook_worker() { stop(std::chrono::milliseconds(0)); }
  webhook_worker(const webhook_worker&) = delete;
  webhook_worker& operator=(const webhook_worker&) = delete;

  const webhook_config& hook() const { return hook_; }
  webhook_format format() const { return format_; }

  void count(counter c, uint64_t n = 1) {
    if (metrics_ != nullptr) {
      metrics_->notifications.add(hook_.name, webhook_format_name(format_), c, n);
    }
  }

  void push(outgoing msg) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() < queue_limit_) {
        queue_.push_back(std::move(msg));
        cv_.notify_all();
        return;
      }
    }
    // The receiver is far behind (or down for long): drop rather than grow without bound.
    count(counter::failed);
    spdlog::warn("notifier: webhook {} ({}) queue full ({}), dropped {}", hook_.name, redacted_,
                 queue_limit_, msg.what);
  }

  // Lets the thread post what is queued for at most `drain` (no retries then); join() waits for
  // it. Separate, so that stopping N webhooks takes one drain period, not N.
  void begin_stop(std::chrono::milliseconds drain) {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      drain_until_ = std::chrono::steady_clock::now() + drain;
    }
    cv_.notify_all();
  }
  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  void stop(std::chrono::milliseconds drain) {
    begin_stop(drain);
    join();
  }

 private:
  void run() {
    for (;;) {
      outgoing msg;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() || (stopping_ && std::chrono::steady_clock::now() >= drain_until_)) {
          if (!queue_.empty()) {
            spdlog::warn("notifier: webhook {} ({}): {} message(s) not sent at stop", hook_.name,
                         redacted_, queue_.size());
            count(counter::failed, queue_.size());
          }
          return;
        }
        msg = std::move(queue_.front());
        queue_.pop_front();
      }
      deliver(msg);
    }
  }

  // One POST: the HTTP status (0 = network error or timeout) and the Retry-After seconds.
  int post(const std::string& body, std::optional<int64_t>& retry_after, std::string& error) {
    try {
      Poco::URI uri(hook_.url);
      std::unique_ptr<Poco::Net::HTTPClientSession> session;
      if (uri.getScheme() == "https") {
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                  tls_context());
      } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
      }
      const Poco::Timespan timeout(timeout_ms_ * 1000);
      session->setTimeout(timeout, timeout, timeout);
      Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                 Poco::Net::HTTPMessage::HTTP_1_1);
      req.setContentType("application/json; charset=utf-8");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
      req.set("User-Agent", "luffy-ingest-notifier");
      session->sendRequest(req) << body;
      Poco::Net::HTTPResponse res;
      auto& in = session->receiveResponse(res);
      in.ignore(std::numeric_limits<std::streamsize>::max());  // drain, bounded by the timeout
      if (res.has("Retry-After")) {
        retry_after = parse_retry_after(res.get("Retry-After"));
      }
      return static_cast<int>(res.getStatus());
    } catch (const Poco::Exception& e) {
      // Poco's messages name host and port at most, never the path: no secret here.
      error = e.className();
    } catch (const std::exception&) {
      error = "error";
    }
    return 0;
  }

  void deliver(const outgoing& msg) {
    for (int attempt = 1;; ++attempt) {
      std::optional<int64_t> retry_after;
      std::string error;
      const int status = post(msg.body, retry_after, error);
      if (status >= 200 && status < 300) {
        count(counter::sent);
        spdlog::debug("notifier: webhook {} ({}) took {} (attempt {})", hook_.name, redacted_,
                      msg.what, attempt);
        return;
      }
      const std::string why = status == 0 ? error : "HTTP " + std::to_string(status);
      bool stopping = false;
      {
        std::lock_guard lock(mutex_);
        stopping = stopping_;
      }
      if (!retryable_status(status) || attempt >= max_attempts_ || stopping) {
        count(counter::failed);
        spdlog::warn("notifier: webhook {} ({}) failed {} after {} attempt(s): {}", hook_.name,
                     redacted_, msg.what, attempt, why);
        return;
      }
      const int64_t pause = retry_delay_ms(attempt, retry_after, retry_base_ms_, retry_cap_ms_);
      count(counter::retries);
      spdlog::info("notifier: webhook {} ({}): {}; retrying in {} ms", hook_.name, redacted_, why,
                   pause);
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(pause), [&] { return stopping_; })) {
        lock.unlock();
        count(counter::failed);
        spdlog::warn("notifier: webhook {} ({}): stopping, {} not sent", hook_.name, redacted_,
                     msg.what);
        return;
      }
    }
  }

  static Poco::Net::Context::Ptr tls_context() {
    // The system's CAs, full verification of chain and host name.
    static Poco::Net::Context::Ptr ctx = [] {
      Poco::Net::initializeSSL();
      return Poco::Net::Context::Ptr(
          new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                 Poco::Net::Context::VERIFY_RELAXED, 9, true));
    }();
    return ctx;
  }

  webhook_config hook_;
  webhook_format format_;
  std::string redacted_;
  int64_t max_attempts_;
  int64_t timeout_ms_;
  int64_t retry_base_ms_;
  int64_t retry_cap_ms_;
  size_t queue_limit_;
  ingest_metrics* metrics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<outgoing> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_{};
  std::thread thread_;
};

struct hook_state {
  std::unique_ptr<webhook_worker> worker;
  notification_dedup dedup;
};

struct notifier_state {
  notifier_settings settings;
  std::unique_ptr<notifier_store> store;
  std::vector<hook_state> hooks;
  bool held = false;
  std::string cursor;  // "" until read after taking the lease
  bool warned = false;
};

using notifier_actor = caf::stateful_actor<notifier_state>;

void failed(notifier_state& st, const char* what, const redis_error& e) {
  if (!st.warned) {
    spdlog::warn("notifier: {} failed: {}", what, e.message);
    st.warned = true;
  }
}

// The events of one poll, for one webhook: filtered, de-duplicated, then one message each or one
// digest.
void dispatch(notifier_state& st, hook_state& h, const std::vector<notification_event>& events) {
  const int64_t now = wall_ms();
  std::vector<notification_event> wanted;
  uint64_t suppressed = 0;
  for (const auto& ev : events) {
    if (!webhook_wants(h.worker->hook(), ev)) {
      continue;
    }
    if (!h.dedup.admit(ev.type, ev.cluster_id, now)) {
      ++suppressed;
      continue;
    }
    wanted.push_back(ev);
  }
  if (suppressed > 0) {
    h.worker->count(counter::suppressed, suppressed);
  }
  if (wanted.empty()) {
    return;
  }
  if (static_cast<int64_t>(wanted.size()) > st.settings.digest_threshold) {
    h.worker->count(counter::digests);
    h.worker->push({digest_body(h.worker->format(), wanted),
                    "digest of " + std::to_string(wanted.size()) + " events"});
    return;
  }
  for (const auto& ev : wanted) {
    h.worker->push({event_body(h.worker->format(), ev), ev.type + " " + ev.cluster_id});
  }
}

// One poll; true when a full batch was read (more may be waiting: poll again at once).
bool cycle(notifier_state& st) {
  auto& s = st.settings;
  auto lease = st.store->hold_lease(s.key_prefix, s.node, s.lease_ttl_ms);
  if (!lease.ok()) {
    failed(st, "lease", lease.error);
    st.held = false;
    return false;
  }
  if (*lease.value != st.held) {
    spdlog::info("notifier: node {} {} the notifier lease", s.node,
                 *lease.value ? "holds" : "does not hold");
    st.held = *lease.value;
    st.cursor.clear();  // read again from Redis: the previous holder moved it
  }
  if (!st.held) {
    return false;
  }
  if (st.cursor.empty()) {
    auto c = st.store->cursor(s.key_prefix);
    if (!c.ok()) {
      failed(st, "cursor read", c.error);
      return false;
    }
    if (c.value->empty()) {
      // First start: begin at the end; what happened before is history, not news.
      auto end = st.store->stream_end(s.key_prefix);
      if (!end.ok()) {
        failed(st, "events stream read", end.error);
        return false;
      }
      auto stored = st.store->store_cursor(s.key_prefix, s.node, *end.value);
      if (!stored.ok()) {
        failed(st, "cursor write", stored.error);
        return false;
      }
      spdlog::info("notifier: first start, from events entry {}", *end.value);
      *c.value = *end.value;
    }
    st.cursor = *c.value;
  }
  auto events = st.store->read_after(s.key_prefix, st.cursor, s.batch);
  if (!events.ok()) {
    failed(st, "events read", events.error);
    return false;
  }
  st.warned = false;
  if (events.value->empty()) {
    return false;
  }
  for (auto& h : st.hooks) {
    dispatch(st, h, *events.value);
  }
  const std::string last = events.value->back().stream_id;
  auto stored = st.store->store_cursor(s.key_prefix, s.node, last);
  if (!stored.ok()) {
    failed(st, "cursor write", stored.error);
  } else if (!*stored.value) {
    spdlog::warn("notifier: lost the lease while moving the cursor");
    st.held = false;
    st.cursor.clear();
    return false;
  }
  st.cursor = last;
  return static_cast<int64_t>(events.value->size()) >= s.batch;
}

caf::behavior notifier(notifier_actor* self, notifier_settings settings, ingest_metrics* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.store = std::make_unique<notifier_store>(st.settings.redis);
  for (const auto& h : st.settings.webhooks) {
    st.hooks.push_back({std::make_unique<webhook_worker>(h, st.settings, metrics),
                        notification_dedup(st.settings.dedup_ms)});
    spdlog::info(
        "notifier: webhook {} ({}, {}) for {}", h.name,
        webhook_format_name(st.hooks.back().worker->format()), redact_url(h.url),
        h.services.empty() ? std::string("every service") : "services " + [&] {
          std::string out;
          for (const auto& g : h.services) {
            out += (out.empty() ? "" : ",") + g;
          }
          return out;
        }());
  }
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& s = self->state;
    for (auto& h : s.hooks) {
      h.worker->begin_stop(std::chrono::milliseconds(2000));
    }
    for (auto& h : s.hooks) {
      h.worker->join();
    }
    if (s.held) {
      try {
        s.store->release_lease(s.settings.key_prefix, s.settings.node);
      } catch (const std::exception& e) {
        spdlog::warn("notifier: lease release failed: {}", e.what());
      }
    }
    self->quit(msg.reason);
  });
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        bool more = false;
        try {
          more = cycle(s);
        } catch (const std::exception& e) {
          spdlog::error("notifier: cycle failed: {}", e.what());
        }
        self->delayed_send(self, std::chrono::milliseconds(more ? 1 : s.settings.poll_ms),
                           tick_atom::value);
      },
  };
}

}  // namespace

notifier_settings notifier_settings_from(const luffy_config& cfg, const redis_endpoint& redis) {
  notifier_settings s;
  s.redis = redis;
  s.key_prefix = cfg.storage.key_prefix;
  s.node = cfg.node.name;
  s.webhooks = cfg.notifications.webhooks;
  s.dedup_ms = cfg.notifications.dedup_seconds * 1000;
  s.digest_threshold = cfg.notifications.digest_threshold;
  s.max_attempts = cfg.notifications.max_attempts;
  s.timeout_ms = cfg.notifications.timeout_ms;
  return s;
}

caf::actor spawn_notifier(caf::actor_system& sys, notifier_settings settings,
                          ingest_metrics* metrics) {
  return sys.spawn<caf::detached>(notifier, std::move(settings), metrics);
}

}  // namespace luffy
