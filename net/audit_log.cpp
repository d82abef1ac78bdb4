#include "net/audit_log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "net/thread_store.hpp"

namespace luffy {

namespace {
thread_local std::string sent_error;
}  // namespace

void record_audit(server_context& ctx, audit_entry e) {
  e.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  const auto cfg = ctx.config.load();
  try {
    auto r =
        thread_store<audit_store>(ctx).append(cfg->storage.key_prefix, e, cfg->audit.max_entries);
    if (r.ok()) {
      ingest_metrics::add(ctx.metrics.audit_entries, 1);
      return;
    }
    ingest_metrics::add(ctx.metrics.audit_write_failures, 1);
    spdlog::warn("audit: entry not written ({} {} by {}: {}): {}", e.action, e.target, e.actor,
                 e.result, r.error.message);
  } catch (const std::exception& ex) {
    ingest_metrics::add(ctx.metrics.audit_write_failures, 1);
    spdlog::warn("audit: entry not written ({} {} by {}: {}): {}", e.action, e.target, e.actor,
                 e.result, ex.what());
  }
}

std::string_view audited_action(route_id id) {
  switch (id) {
    case route_id::cluster_resolve:
      return "cluster.resolve";
    case route_id::cluster_reopen:
      return "cluster.reopen";
    case route_id::cluster_merge:
      return "cluster.merge";
    case route_id::admin_reload:
      return "config.reload";
    case route_id::admin_rebalance:
      return "shards.rebalance";
    case route_id::admin_dead_letter_retry:
      return "dead_letter.retry";
    case route_id::service_delete:
      return "service.delete";
    default:
      return "";
  }
}

void note_sent_body(int status, std::string_view body) {
  sent_error.clear();
  if (status < 400) {
    return;
  }
  // error_body() writes {"status":"error","error":"<code>",...}; codes are [a-z_] words.
  static constexpr std::string_view key = "\"error\":\"";
  const auto at = body.find(key);
  if (at == std::string_view::npos) {
    sent_error = std::to_string(status);
    return;
  }
  const auto start = at + key.size();
  const auto end = body.find('"', start);
  sent_error = std::string(body.substr(start, std::min<size_t>(end - start, 64)));
}

std::string last_sent_error() {
  return sent_error;
}

}  // namespace luffy
