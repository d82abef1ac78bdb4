#include "storage/redis_probe.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>

namespace luffy {

namespace {

// used_memory and maxmemory for the redis_memory backpressure gate.
void read_memory(redis_client& client, ingest_metrics& m) {
  auto r = client.command({"INFO", "memory"});
  if (!r.ok() || r.value->type == redis_value::kind::error) {
    return;
  }
  auto field = [&](std::string_view name) -> int64_t {
    const std::string& text = r.value->str;
    const std::string key = "\r\n" + std::string(name) + ":";
    const size_t at = text.find(key);
    return at == std::string::npos ? 0 : std::strtoll(text.c_str() + at + key.size(), nullptr, 10);
  };
  m.redis_used_memory.store(field("used_memory"));
  m.redis_maxmemory.store(field("maxmemory"));
}

// The entries waiting in every journal stream (one pipeline of XLEN).
void read_journal_length(redis_client& client, ingest_metrics& m,
                         const std::vector<std::string>& streams) {
  if (streams.empty()) {
    return;
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& s : streams) {
    cmds.push_back({"XLEN", s});
  }
  auto r = client.pipeline(cmds);
  if (!r.ok()) {
    return;
  }
  int64_t total = 0;
  for (const auto& v : *r.value) {
    total += v.type == redis_value::kind::integer ? v.integer : 0;
  }
  m.journal_entries_waiting.store(total, std::memory_order_relaxed);
}

}  // namespace

redis_probe::redis_probe(redis_endpoint ep, ingest_metrics& m,
                         std::vector<std::string> journal_streams, std::string dead_letter_stream)
    : thread_([this, ep = std::move(ep), &m, streams = std::move(journal_streams),
               dlq = std::move(dead_letter_stream)] { run(ep, m, streams, dlq); }) {}

redis_probe::~redis_probe() {
  stop_ = true;
  thread_.join();
}

void redis_probe::run(redis_endpoint ep, ingest_metrics& m, const std::vector<std::string>& streams,
                      const std::string& dead_letter_stream) {
  ep.timeout = std::chrono::milliseconds(500);
  redis_client client(ep);
  bool was_up = true;
  int failures = 0;
  while (!stop_) {
    auto r = client.command({"PING"});
    const bool answered = r.ok() && r.value->str == "PONG";
    // Down after 3 missed pings in a row: one slow answer (Redis busy in a long script) must not
    // flip /ready and make Kubernetes pull the pod; a refused connection fails fast anyway.
    failures = answered ? 0 : failures + 1;
    const bool up = answered || (was_up && failures < 3);
    m.redis_up.store(up);
    if (answered) {
      read_memory(client, m);
      read_journal_length(client, m, streams);
      if (!dead_letter_stream.empty()) {
        // Its growth is the alert LuffyIngestDeadLetters (deploy/prometheus/alerts.yaml).
        auto n = client.command({"XLEN", dead_letter_stream});
        if (n.ok() && n.value->type == redis_value::kind::integer) {
          m.dead_letters.store(n.value->integer, std::memory_order_relaxed);
        }
      }
    }
    if (up != was_up) {
      if (up) {
        spdlog::info("redis is reachable again");
      } else {
        spdlog::warn("redis is unreachable: {}", r.ok() ? r.value->str : r.error.message);
      }
      was_up = up;
    }
    for (int i = 0; i < 10 && !stop_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

std::string credentials_problem(const redis_endpoint& ep) {
  redis_client client(ep);
  auto r = client.command({"PING"});
  if (!r.ok()) {
    return r.error.message.rfind("redis AUTH failed", 0) == 0 ? r.error.message : "";
  }
  if (r.value->type == redis_value::kind::error && r.value->str.rfind("NOAUTH", 0) == 0) {
    return "Redis requires a password: " + r.value->str;
  }
  return "";
}

}  // namespace luffy
