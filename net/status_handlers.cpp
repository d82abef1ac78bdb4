// GET /health, /ready, /api/v1/ingest/health, /api/v1/ingest/metrics, /metrics.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <array>
#include <chrono>
#include <ostream>

#include "core/http_framing.hpp"
#include "core/json_writer.hpp"
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
  res.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

std::optional<auth_result> authenticate_or_401(server_context& ctx, http_request& req,
                                               http_response& res) {
  auto auth = ctx.auth->authenticate(req.get("Authorization", ""));
  if (!auth.ok) {
    res.set("WWW-Authenticate", "Bearer realm=\"luffy-ingest\"");
    send_json(res, 401, error_body(auth.error, auth.message));
    return std::nullopt;
  }
  return auth;
}

void handle_health(server_context& ctx, http_request&, http_response& res) {
  std::string body = "{\"status\":\"ok\",\"version\":";
  append_json_string(body, ctx.version);
  body += ",\"uptime_seconds\":";
  append_json_double(body, uptime_seconds(ctx));
  body += "}";
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
  std::string body = "{\"status\":";
  append_json_string(body, ready ? "ready" : "not_ready");
  body += ",\"checks\":{\"redis\":";
  body += redis ? "true" : "false";
  body += ",\"actor_system\":";
  body += actors ? "true" : "false";
  body += ",\"stopping\":";
  body += stopping ? "true" : "false";
  body += ",\"supervision\":";
  body += stable ? "true" : "false";
  body += "},\"ingest_enabled\":";
  body += ctx.config->ingest.enabled ? "true" : "false";
  body += ",\"queue_depth\":";
  append_json_int(body, depth);
  body += ",\"in_flight_requests\":";
  append_json_int(body, ctx.metrics.in_flight_requests.load());
  body += "}";
  send_json(res, ready ? 200 : 503, body, ready ? 0 : 5);
}

void handle_metrics_json(server_context& ctx, http_request&, http_response& res) {
  auto& m = ctx.metrics;
  std::string b = "{";
  auto num = [&](std::string_view key, uint64_t v, bool first = false) {
    if (!first)
      b.push_back(',');
    append_json_key(b, key);
    append_json_uint(b, v);
  };
  num("received", load(m.received), true);
  num("accepted", load(m.accepted));
  num("duplicates", load(m.duplicates));
  num("rejected", load(m.rejected));
  num("rate_limited", load(m.rate_limited));
  num("merged", load(m.merged));
  num("processed", load(m.processed));
  num("requests", load(m.requests));
  num("bytes_received", load(m.bytes_received));
  b += ",\"queue_depth\":";
  append_json_int(b, m.queued_records.load());
  b += ",\"in_flight_requests\":";
  append_json_int(b, m.in_flight_requests.load());
  b += ",\"in_flight_bytes\":";
  append_json_int(b, ctx.in_flight_bytes.used());
  b += ",\"in_flight_bytes_limit\":";
  append_json_int(b, ctx.in_flight_bytes.limit());
  b += ",\"memory_budget_refusals\":";
  append_json_uint(b, ctx.in_flight_bytes.refusals());
  b += ",\"redis_up\":";
  b += m.redis_up.load() ? "true" : "false";
  b += ",\"responses\":{";
  const auto codes = status_counters(m);
  bool first = true;
  for (auto& [code, counter] : codes) {
    num(code, load(*counter), first);
    first = false;
  }
  b += "},\"request_latency_seconds\":{\"count\":";
  append_json_uint(b, m.ingest_latency.count());
  b += ",\"sum\":";
  append_json_double(b, m.ingest_latency.sum());
  b += ",\"p50\":";
  append_json_double(b, m.ingest_latency.quantile(0.5));
  b += ",\"p99\":";
  append_json_double(b, m.ingest_latency.quantile(0.99));
  b += "},\"clusters_created\":";
  append_json_uint(b, load(m.clusters));
  const auto shards = static_cast<size_t>(ctx.config->actors.cluster_shards);
  b += ",\"processing_lag_seconds\":";
  append_json_double(b, static_cast<double>(m.processing_lag_ms(shards)) / 1000.0);
  b += ",\"processing_lag_p50_seconds\":";
  append_json_double(b, m.processing_lag.quantile(0.5));
  b += ",\"processing_lag_p99_seconds\":";
  append_json_double(b, m.processing_lag.quantile(0.99));
  b += ",\"shard_queue_depth\":[";
  for (size_t i = 0; i < shards && i < ingest_metrics::max_shards; ++i) {
    if (i)
      b.push_back(',');
    append_json_int(b, m.shard_backlog[i].load(std::memory_order_relaxed));
  }
  b += "],\"uptime_seconds\":";
  append_json_double(b, uptime_seconds(ctx));
  b += "}";
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
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    describe(name, help, "counter");
    b += name;
    b += " ";
    append_json_uint(b, v);
    b += "\n";
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    describe(name, help, "gauge");
    b += name;
    b += " ";
    append_json_double(b, v);
    b += "\n";
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
  counter("luffy_ingest_merged_records_total",
          "Continuation records merged into the record they continue.", load(m.merged));
  counter("luffy_ingest_processed_records_total", "Records clustered.", load(m.processed));
  counter("luffy_ingest_received_bytes_total", "Request body bytes received (on the wire).",
          load(m.bytes_received));
  describe("luffy_ingest_requests_total", "Ingest responses by status code.", "counter");
  const auto codes = status_counters(m);
  for (auto& [code, c] : codes) {
    b += "luffy_ingest_requests_total{code=\"";
    b += code;
    b += "\"} ";
    append_json_uint(b, load(*c));
    b += "\n";
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
  describe("luffy_ingest_shard_queue_depth", "Journal entries waiting per cluster shard.", "gauge");
  for (size_t i = 0; i < shards && i < ingest_metrics::max_shards; ++i) {
    b += "luffy_ingest_shard_queue_depth{shard=\"" + std::to_string(i) + "\"} ";
    append_json_int(b, m.shard_backlog[i].load(std::memory_order_relaxed));
    b += "\n";
  }
  describe("luffy_ingest_request_duration_seconds", "Ingest request latency.", "histogram");
  uint64_t cumulative = 0;
  const auto& bounds = latency_histogram::bounds;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += m.ingest_latency.bucket(i);
    b += "luffy_ingest_request_duration_seconds_bucket{le=\"";
    if (i < bounds.size()) {
      append_json_double(b, bounds[i]);
    } else {
      b += "+Inf";
    }
    b += "\"} ";
    append_json_uint(b, cumulative);
    b += "\n";
  }
  b += "luffy_ingest_request_duration_seconds_sum ";
  append_json_double(b, m.ingest_latency.sum());
  b += "\nluffy_ingest_request_duration_seconds_count ";
  append_json_uint(b, m.ingest_latency.count());
  b += "\n";
  res.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  res.setContentType("text/plain; version=0.0.4");
  res.setContentLength64(static_cast<Poco::Int64>(b.size()));
  res.send().write(b.data(), static_cast<std::streamsize>(b.size()));
}

}  // namespace luffy
