// GET /health, /ready, /api/v1/ingest/health, /api/v1/ingest/metrics, /metrics.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <array>
#include <chrono>
#include <ostream>
#include <string>
#include <type_traits>

#include "core/http_framing.hpp"
#include "core/json_writer.hpp"
#include "net/audit_log.hpp"
#include "net/framed_request.hpp"
#include "net/handlers.hpp"

namespace luffy {

namespace {

double uptime_seconds(const server_context& ctx) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
}

uint64_t load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

// Ingest responses by status code, in the order both metrics formats list them.
std::array<std::pair<const char*, const std::atomic<uint64_t>*>, 9> status_counters(
    const ingest_metrics& m) {
  return {{{"202", &m.status_202},
           {"400", &m.status_400},
           {"401", &m.status_401},
           {"403", &m.status_403},
           {"413", &m.status_413},
           {"415", &m.status_415},
           {"429", &m.status_429},
           {"503", &m.status_503},
           {"other", &m.status_other}}};
}

}  // namespace

void send_json(http_response& res, int status, const std::string& body, uint32_t retry_after) {
  // The real reason phrase ("401 Unauthorized"): setStatus alone leaves Poco's "OK".
  res.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status),
                         std::string(reason_phrase(status)));
  res.setContentType("application/json");
  if (retry_after > 0) {
    res.set("Retry-After", std::to_string(retry_after));
  }
  res.setContentLength64(static_cast<Poco::Int64>(body.size()));
  note_sent_body(status, body);  // for the audit trail (net/audit_log.hpp)
  res.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

namespace {
thread_local const auth_result* dispatched = nullptr;
}  // namespace

dispatched_auth::dispatched_auth(const auth_result& auth) {
  dispatched = &auth;
}
dispatched_auth::~dispatched_auth() {
  dispatched = nullptr;
}
const auth_result* dispatched_auth::current() {
  return dispatched;
}

std::optional<auth_result> authenticate_or_401(server_context& ctx, http_request& req,
                                               http_response& res) {
  if (dispatched != nullptr) {
    return *dispatched;
  }
  auto auth = ctx.auth->authenticate(req.get("Authorization", ""), tls_client_of(req));
  if (!auth.ok) {
    if (const uint32_t wait = auth_failure_wait(ctx, req, res); wait > 0) {
      send_json(res, 429, too_many_auth_failures_body(), wait);
      return std::nullopt;
    }
    res.set("WWW-Authenticate", "Bearer realm=\"luffy-ingest\"");
    send_json(res, 401, error_body(auth.error, auth.message));
    return std::nullopt;
  }
  auth_succeeded(ctx, req);
  return auth;
}

uint32_t auth_failure_wait(server_context& ctx, http_request& req, http_response& res) {
  const auto cfg = ctx.config.load();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  const uint32_t wait = ctx.auth_failures.failed(req.clientAddress().host().toString(), now_ms,
                                                 cfg->auth.failure_limit_max_failures,
                                                 cfg->auth.failure_limit_window_seconds * 1000);
  if (wait > 0) {
    ingest_metrics::add(ctx.metrics.auth_throttled, 1);
    // A client that keeps failing pays a new connection per attempt, and holds no worker
    // between them.
    res.setKeepAlive(false);
  }
  return wait;
}

void auth_succeeded(server_context& ctx, http_request& req) {
  if (ctx.auth_failures.tracked() > 0) {
    ctx.auth_failures.succeeded(req.clientAddress().host().toString());
  }
}

std::string too_many_auth_failures_body() {
  return error_body("too_many_auth_failures",
                    "too many failed authentications from this address; retry after the "
                    "Retry-After delay with a valid token");
}

void append_backpressure(json_object_writer& o, server_context& ctx) {
  const auto cfg = ctx.config.load();
  // The shards the ingest path counts (net/ingest_handler.cpp): none without clustering.
  ctx.gates.observe(ctx.metrics, cfg->clustering.enabled
                                     ? static_cast<size_t>(cfg->actors.cluster_shards)
                                     : size_t{0});
  const admission_gates& gates = ctx.gates;
  json_object_writer all(o.key("backpressure"));
  for (const watermark_gate* g : {&gates.journal, &gates.pipeline, &gates.redis_memory}) {
    json_object_writer one(all.key(g->name()));
    one.string("name", g->name())
        .boolean("closed", g->closed())
        .integer("high", g->high())
        .integer("low", g->low())
        .integer("last_depth", g->last_depth())
        .uinteger("trips", g->trips())
        .uinteger("refused", g->refused());
    one.close();
  }
  all.close();
}

void handle_health(server_context& ctx, http_request&, http_response& res) {
  std::string body;
  json_object_writer o(body);
  o.string("status", "ok")
      .string("version", ctx.version)
      .number("uptime_seconds", uptime_seconds(ctx));
  o.close();
  send_json(res, 200, body);
}

void handle_ready(server_context& ctx, http_request&, http_response& res) {
  const bool redis = ctx.metrics.redis_up.load();
  const bool actors = ctx.pipeline_up.load();
  const bool stopping = ctx.stopping.load();
  // Restarts beyond the supervisor's intensity limit: take the pod out of the service.
  const bool stable = !(ctx.gateway && ctx.gateway->stages().degraded());
  const int64_t depth = ctx.metrics.queued_records.load();
  const bool ready = redis && actors && !stopping && stable;
  std::string body;
  json_object_writer o(body);
  o.string("status", ready ? "ready" : "not_ready");
  json_object_writer checks(o.key("checks"));
  checks.boolean("redis", redis)
      .boolean("actor_system", actors)
      .boolean("stopping", stopping)
      .boolean("supervision", stable);
  checks.close();
  o.boolean("ingest_enabled", ctx.config->ingest.enabled)
      .integer("queue_depth", depth)
      .integer("in_flight_requests", ctx.metrics.in_flight_requests.load());
  o.close();
  send_json(res, ready ? 200 : 503, body, ready ? 0 : 5);
}

void handle_metrics_json(server_context& ctx, http_request&, http_response& res) {
  auto& m = ctx.metrics;
  std::string b;
  json_object_writer o(b);
  o.uinteger("received", load(m.received))
      .uinteger("accepted", load(m.accepted))
      .uinteger("duplicates", load(m.duplicates))
      .uinteger("rejected", load(m.rejected))
      .uinteger("rate_limited", load(m.rate_limited))
      .uinteger("rate_limit_redis_calls", load(m.rate_limit_redis_calls))
      .uinteger("rate_limit_fallbacks", load(m.rate_limit_fallbacks))
      .uinteger("merged", load(m.merged))
      .uinteger("processed", load(m.processed))
      .uinteger("requests", load(m.requests))
      .uinteger("bytes_received", load(m.bytes_received))
      .integer("queue_depth", m.queued_records.load())
      .integer("in_flight_requests", m.in_flight_requests.load())
      .integer("in_flight_bytes", ctx.in_flight_bytes.used())
      .integer("in_flight_bytes_limit", ctx.in_flight_bytes.limit())
      .uinteger("memory_budget_refusals", ctx.in_flight_bytes.refusals())
      .boolean("redis_up", m.redis_up.load())
      // From the health probe's INFO memory (0 before the first answer; maxmemory 0 = no limit).
      .integer("redis_used_memory_bytes", m.redis_used_memory.load(std::memory_order_relaxed))
      .integer("redis_maxmemory_bytes", m.redis_maxmemory.load(std::memory_order_relaxed));
  json_object_writer responses(o.key("responses"));
  for (auto& [code, counter] : status_counters(m)) {
    responses.uinteger(code, load(*counter));
  }
  responses.close();
  json_object_writer latency(o.key("request_latency_seconds"));
  latency.uinteger("count", m.ingest_latency.count())
      .number("sum", m.ingest_latency.sum())
      .number("p50", m.ingest_latency.quantile(0.5))
      .number("p99", m.ingest_latency.quantile(0.99));
  latency.close();
  const auto shards = static_cast<size_t>(ctx.config->actors.cluster_shards);
  o.uinteger("clusters_created", load(m.clusters))
      .number("processing_lag_seconds", static_cast<double>(m.processing_lag_ms(shards)) / 1000.0)
      .number("processing_lag_p50_seconds", m.processing_lag.quantile(0.5))
      .number("processing_lag_p99_seconds", m.processing_lag.quantile(0.99));
  o.integer("shards_held", m.shards_held.load())
      .uinteger("shard_leases_taken", load(m.shard_leases_taken))
      .uinteger("shard_leases_released", load(m.shard_leases_released))
      .uinteger("shard_leases_lost", load(m.shard_leases_lost))
      .uinteger("fenced_writes", load(m.fenced_writes))
      .uinteger("remote_entries_sent", load(m.remote_entries_sent))
      .uinteger("remote_entries_received", load(m.remote_entries_received))
      .uinteger("remote_entries_dropped", load(m.remote_entries_dropped))
      .integer("agents_known", m.agents_known.load(std::memory_order_relaxed))
      .integer("agents_silent", m.agents_silent.load(std::memory_order_relaxed))
      .uinteger("agents_overflow", load(m.agents_overflow))
      .integer("dead_letters", m.dead_letters.load(std::memory_order_relaxed))
      .uinteger("retention_clusters_expired", load(m.retention_clusters_expired))
      .uinteger("retention_resolved_expired", load(m.retention_resolved_expired))
      .uinteger("retention_events_trimmed", load(m.retention_events_trimmed))
      .uinteger("retention_dead_letters_trimmed", load(m.retention_dead_letters_trimmed))
      .uinteger("retention_sweeps", load(m.retention_sweeps));
  {
    // Per webhook (notifications.webhooks): {"<name>": {"format":..., "sent":..., ...}}.
    json_object_writer hooks(o.key("notifications"));
    for (const auto& [id, c] : m.notifications.snapshot()) {
      json_object_writer h(hooks.key(id.first));
      h.string("format", id.second)
          .uinteger("sent", c.sent)
          .uinteger("failed", c.failed)
          .uinteger("retries", c.retries)
          .uinteger("suppressed", c.suppressed)
          .uinteger("digests", c.digests);
      h.close();
    }
    hooks.close();
  }
  append_backpressure(o, ctx);
  json_array_writer backlog(o.key("shard_queue_depth"));
  for (size_t i = 0; i < shards && i < ingest_metrics::max_shards; ++i) {
    backlog.integer(m.shard_backlog[i].load(std::memory_order_relaxed));
  }
  backlog.close();
  o.number("uptime_seconds", uptime_seconds(ctx));
  o.close();
  send_json(res, 200, b);
}

void handle_metrics_prometheus(server_context& ctx, http_request&, http_response& res) {
  auto& m = ctx.metrics;
  std::string b;
  b.reserve(4096);
  // "# HELP" and "# TYPE" lines of one metric family.
  auto describe = [&](const char* name, const char* help, const char* type) {
    b += "# HELP ";
    b += name;
    b += " ";
    b += help;
    b += "\n# TYPE ";
    b += name;
    b += " ";
    b += type;
    b += "\n";
  };
  // One sample line: "<series> <value>".
  auto sample = [&](std::string_view series, auto v) {
    b += series;
    b += " ";
    if constexpr (std::is_floating_point_v<decltype(v)>) {
      append_json_double(b, v);
    } else if constexpr (std::is_signed_v<decltype(v)>) {
      append_json_int(b, v);
    } else {
      append_json_uint(b, v);
    }
    b += "\n";
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    describe(name, help, "counter");
    sample(name, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    describe(name, help, "gauge");
    sample(name, v);
  };
  counter("luffy_ingest_received_records_total", "Records received in ingest requests.",
          load(m.received));
  counter("luffy_ingest_accepted_records_total", "Records durably queued in the journal.",
          load(m.accepted));
  counter("luffy_ingest_duplicate_records_total", "Records dropped as duplicates.",
          load(m.duplicates));
  counter("luffy_ingest_rejected_records_total", "Invalid records skipped.", load(m.rejected));
  counter("luffy_ingest_rate_limited_records_total", "Records over their service's rate limit.",
          load(m.rate_limited));
  counter("luffy_ingest_rate_limit_redis_calls_total",
          "Round trips to the shared rate-limit buckets in Redis (token leases).",
          load(m.rate_limit_redis_calls));
  counter("luffy_ingest_rate_limit_fallbacks_total",
          "Rate-limit decisions made by this node alone because Redis did not answer.",
          load(m.rate_limit_fallbacks));
  counter("luffy_ingest_merged_records_total",
          "Continuation records merged into the record they continue.", load(m.merged));
  counter("luffy_ingest_processed_records_total", "Records clustered.", load(m.processed));
  counter("luffy_ingest_received_bytes_total", "Request body bytes received (on the wire).",
          load(m.bytes_received));
  describe("luffy_ingest_requests_total", "Ingest responses by status code.", "counter");
  const auto codes = status_counters(m);
  for (auto& [code, c] : codes) {
    sample("luffy_ingest_requests_total{code=\"" + std::string(code) + "\"}", load(*c));
  }
  gauge("luffy_ingest_queue_depth", "Records inside the pipeline now.",
        static_cast<double>(m.queued_records.load()));
  gauge("luffy_ingest_in_flight_requests", "Ingest requests being served now.",
        static_cast<double>(m.in_flight_requests.load()));
  gauge("luffy_ingest_in_flight_bytes",
        "Bytes held by ingest requests in flight (bodies and their decoder share).",
        static_cast<double>(ctx.in_flight_bytes.used()));
  gauge("luffy_ingest_in_flight_bytes_limit", "The memory budget (server.max_in_flight_bytes).",
        static_cast<double>(ctx.in_flight_bytes.limit()));
  gauge("luffy_ingest_in_flight_bytes_high_water", "The most bytes requests held at once.",
        static_cast<double>(ctx.in_flight_bytes.high_water()));
  counter("luffy_ingest_memory_budget_refusals_total",
          "Requests answered 503 because the memory budget was spent.",
          ctx.in_flight_bytes.refusals());
  gauge("luffy_ingest_redis_up", "1 when Redis answered the last health probe.",
        m.redis_up.load() ? 1 : 0);
  const auto shards = static_cast<size_t>(ctx.config->actors.cluster_shards);
  gauge("luffy_ingest_processing_lag_seconds", "Age of the oldest journal entry not yet clustered.",
        static_cast<double>(m.processing_lag_ms(shards)) / 1000.0);
  counter("luffy_ingest_clusters_created_total", "Clusters created by this process.",
          load(m.clusters));
  // One group per family (the exposition format wants a family's samples together).
  ctx.gates.observe(m, ctx.config->clustering.enabled ? shards : size_t{0});
  const std::array<const watermark_gate*, 3> gates = {&ctx.gates.journal, &ctx.gates.pipeline,
                                                      &ctx.gates.redis_memory};
  auto gate_label = [](const watermark_gate& g) {
    return "{gate=\"" + std::string(g.name()) + "\"}";
  };
  describe("luffy_ingest_backpressure_gate_closed",
           "1 while the gate refuses ingest (503 backpressure): journal, pipeline, redis_memory.",
           "gauge");
  for (const auto* g : gates) {
    sample("luffy_ingest_backpressure_gate_closed" + gate_label(*g), g->closed() ? 1 : 0);
  }
  describe("luffy_ingest_backpressure_refusals_total",
           "Ingest requests a backpressure gate refused (503 backpressure).", "counter");
  for (const auto* g : gates) {
    sample("luffy_ingest_backpressure_refusals_total" + gate_label(*g), g->refused());
  }
  describe("luffy_ingest_backpressure_trips_total", "Times a backpressure gate closed.", "counter");
  for (const auto* g : gates) {
    sample("luffy_ingest_backpressure_trips_total" + gate_label(*g), g->trips());
  }
  gauge("luffy_ingest_dead_letters",
        "Entries in the dead-letter stream (records or journal entries that could not be "
        "clustered; GET /api/v1/admin/dead_letters).",
        static_cast<double>(m.dead_letters.load(std::memory_order_relaxed)));
  gauge("luffy_ingest_shards_held", "Virtual shards whose lease this node holds now.",
        static_cast<double>(m.shards_held.load()));
  counter("luffy_ingest_shard_leases_taken_total", "Shard leases this node took.",
          load(m.shard_leases_taken));
  counter("luffy_ingest_shard_leases_released_total", "Shard leases this node handed over.",
          load(m.shard_leases_released));
  counter("luffy_ingest_shard_leases_lost_total",
          "Shard leases this node lost (expired or taken while it could not renew).",
          load(m.shard_leases_lost));
  gauge("luffy_ingest_agents_known", "Sending agents known (seen within agents.retention_hours).",
        static_cast<double>(m.agents_known.load(std::memory_order_relaxed)));
  gauge("luffy_ingest_agents_silent",
        "Known agents flagged silent (no request for agents.silent_after_seconds).",
        static_cast<double>(m.agents_silent.load(std::memory_order_relaxed)));
  counter("luffy_ingest_agents_overflow_total",
          "Ingest requests whose agent was not tracked (over agents.max_tracked).",
          load(m.agents_overflow));
  counter("luffy_ingest_audit_entries_total",
          "Entries appended to the audit trail (<prefix>:audit).", load(m.audit_entries));
  counter("luffy_ingest_audit_write_failures_total",
          "Audit entries Redis did not take (the audited action went ahead; logged at warn).",
          load(m.audit_write_failures));
  counter("luffy_ingest_auth_throttled_total",
          "Requests answered 429 too_many_auth_failures (auth.failure_limit.*).",
          load(m.auth_throttled));
  counter("luffy_ingest_retention_sweeps_total",
          "Retention sweeps this node ran to the end (retention.sweep_interval).",
          load(m.retention_sweeps));
  counter("luffy_ingest_retention_sweep_failures_total",
          "Retention sweeps Redis did not finish (tried again at the next interval).",
          load(m.retention_sweep_failures));
  counter("luffy_ingest_retention_clusters_expired_total",
          "Clusters deleted with all their keys after retention.clusters without a record.",
          load(m.retention_clusters_expired));
  counter("luffy_ingest_retention_resolved_expired_total",
          "Resolved clusters deleted retention.resolved_clusters after they were resolved.",
          load(m.retention_resolved_expired));
  counter("luffy_ingest_retention_events_trimmed_total",
          "Entries trimmed off <prefix>:events by retention.events_max_entries / _max_age.",
          load(m.retention_events_trimmed));
  counter("luffy_ingest_retention_dead_letters_trimmed_total",
          "Entries trimmed off <prefix>:dlq by retention.dead_letters_max_entries / _max_age.",
          load(m.retention_dead_letters_trimmed));
  counter("luffy_ingest_services_erased_total",
          "DELETE /api/v1/services/{id} calls that completed.", load(m.services_erased));
  counter("luffy_ingest_erased_clusters_total", "Clusters deleted by DELETE /api/v1/services/{id}.",
          load(m.erased_clusters));
  counter("luffy_ingest_agents_flush_failures_total",
          "Agent flushes Redis did not take (their counts are retried the next second).",
          load(m.agents_flush_failures));
  counter("luffy_ingest_fenced_writes_total",
          "Counting writes Redis refused because this node's shard lease was gone.",
          load(m.fenced_writes));
  counter("luffy_ingest_remote_entries_sent_total",
          "Journal entries handed to another node's shard over the fast path.",
          load(m.remote_entries_sent));
  counter("luffy_ingest_remote_entries_received_total",
          "Journal entries other nodes handed to this node's shards over the fast path.",
          load(m.remote_entries_received));
  counter("luffy_ingest_remote_entries_dropped_total",
          "Fast-path entries dropped here (shard moved, or a refused sender); the sweep applies "
          "them.",
          load(m.remote_entries_dropped));
  describe("luffy_ingest_shard_queue_depth", "Journal entries waiting per cluster shard.", "gauge");
  for (size_t i = 0; i < shards && i < ingest_metrics::max_shards; ++i) {
    sample("luffy_ingest_shard_queue_depth{shard=\"" + std::to_string(i) + "\"}",
           m.shard_backlog[i].load(std::memory_order_relaxed));
  }
  {
    // One series per configured webhook that has counted something; names are escaped as
    // Prometheus label values.
    const auto hooks = m.notifications.snapshot();
    auto label = [](const std::string& v) {
      std::string out;
      for (char c : v) {
        if (c == '\\' || c == '"') {
          out += '\\';
          out += c;
        } else if (c == '\n') {
          out += "\\n";
        } else {
          out += c;
        }
      }
      return out;
    };
    const std::pair<const char*, const char*> families[] = {
        {"sent", "Webhook messages delivered (2xx)."},
        {"failed", "Webhook messages given up (attempts exhausted, a 4xx, a full queue)."},
        {"retries", "Webhook attempts repeated after a network error, 5xx or 429."},
        {"suppressed", "Events not notified: the same cluster and type within dedup_seconds."},
        {"digests", "Digest messages built for bursts over digest_threshold."}};
    for (const auto& [what, help] : families) {
      const std::string name = std::string("luffy_ingest_notifications_") + what + "_total";
      describe(name.c_str(), help, "counter");
      for (const auto& [id, c] : hooks) {
        const std::string_view w = what;
        const uint64_t v = w == "sent"         ? c.sent
                           : w == "failed"     ? c.failed
                           : w == "retries"    ? c.retries
                           : w == "suppressed" ? c.suppressed
                                               : c.digests;
        sample(name + "{webhook=\"" + label(id.first) + "\",format=\"" + id.second + "\"}", v);
      }
    }
  }
  describe("luffy_ingest_request_duration_seconds", "Ingest request latency.", "histogram");
  uint64_t cumulative = 0;
  const auto& bounds = latency_histogram::bounds;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += m.ingest_latency.bucket(i);
    std::string series = "luffy_ingest_request_duration_seconds_bucket{le=\"";
    if (i < bounds.size()) {
      append_json_double(series, bounds[i]);
    } else {
      series += "+Inf";
    }
    sample(series + "\"}", cumulative);
  }
  sample("luffy_ingest_request_duration_seconds_sum", m.ingest_latency.sum());
  sample("luffy_ingest_request_duration_seconds_count", m.ingest_latency.count());
  res.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  res.setContentType("text/plain; version=0.0.4");
  res.setContentLength64(static_cast<Poco::Int64>(b.size()));
  res.send().write(b.data(), static_cast<std::streamsize>(b.size()));
}

}  // namespace luffy
