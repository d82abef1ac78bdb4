// POST /api/v1/ingest/logs and /api/v1/ingest/logs/single.
//
// Order of checks, cheapest first, each with its status (Fluent Bit drops a chunk on any 4xx but
// 408/429, and retries 429/5xx): feature flag (503), credentials (401), in-flight bound (503),
// Content-Encoding (415), Content-Type (415), declared length (413), read with a hard cap (413),
// gzip with an inflated cap (400 corrupt/truncated, 413 too large), then the pipeline.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <istream>

#include "core/body_decoder.hpp"
#include "core/gzip.hpp"
#include "net/handlers.hpp"

namespace luffy {

namespace {

constexpr size_t kPadding = 64;  // simdjson reads up to 64 bytes past the end of the body

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct in_flight_guard {
  std::atomic<int64_t>& n;
  explicit in_flight_guard(std::atomic<int64_t>& c) : n(c) { n.fetch_add(1); }
  ~in_flight_guard() { n.fetch_sub(1); }
};

// Reads at most `limit` bytes; returns false when the body is longer.
bool read_body(std::istream& in, int64_t declared, size_t limit, std::string& body) {
  body.clear();
  if (declared >= 0) {
    body.reserve(static_cast<size_t>(declared) + kPadding);
  }
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) {
      break;
    }
    if (body.size() + got > limit) {
      return false;
    }
    body.append(buf, got);
  }
  return true;
}

// Reads and discards up to `limit` bytes of an unread body, so a refusal can be answered on a
// healthy keep-alive connection (closing with unread data makes the kernel send RST, which can
// destroy the response before the client reads it). Returns false if the body was longer.
bool drain(std::istream& in, size_t limit) {
  char buf[65536];
  size_t total = 0;
  while (in) {
    in.read(buf, sizeof buf);
    total += static_cast<size_t>(in.gcount());
    if (in.gcount() == 0 || total > limit) {
      break;
    }
  }
  return total <= limit;
}

void reply(server_context& ctx, http_response& res, int status, const std::string& body,
           uint32_t retry_after = 0) {
  ctx.metrics.count_status(status);
  send_json(res, status, body, retry_after);
}

}  // namespace

void handle_ingest(server_context& ctx, http_request& req, http_response& res, bool single) {
  const auto started = std::chrono::steady_clock::now();
  const auto config = ctx.config.load();  // one snapshot per request: a reload may swap it
  const luffy_config& cfg = *config;
  ctx.metrics.add(ctx.metrics.requests, 1);
  int status = 0;
  auto done = [&](int st, const std::string& body, uint32_t retry_after = 0) {
    status = st;
    reply(ctx, res, st, body, retry_after);
  };
  bool body_read = false;
  // A refusal before the body was read: drain it (bounded) to keep the connection usable.
  auto refuse = [&](int st, const std::string& body, uint32_t retry_after = 0) {
    if (!body_read && !drain(req.stream(), static_cast<size_t>(cfg.server.max_body_bytes))) {
      res.setKeepAlive(false);
    }
    done(st, body, retry_after);
  };
  struct log_line {
    http_request& req;
    int& status;
    std::chrono::steady_clock::time_point started;
    server_context& ctx;
    ~log_line() {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      ctx.metrics.ingest_latency.observe(secs);
      spdlog::debug("{} {} {} {} bytes {:.1f} ms from {}", req.getMethod(), req.getURI(), status,
                    req.getContentLength64(), secs * 1e3, req.clientAddress().host().toString());
    }
  } log{req, status, started, ctx};

  if (!cfg.ingest.enabled) {
    return refuse(503,
                  error_body("ingest_disabled",
                             "ingestion is switched off on this server (ingest.enabled: false); "
                             "keep the logs buffered and retry later"),
                  60);
  }
  const auto auth = ctx.auth->authenticate(req.get("Authorization", ""));
  if (!auth.ok) {
    res.set("WWW-Authenticate", "Bearer realm=\"luffy-ingest\"");
    return refuse(401, error_body(auth.error, auth.message));
  }
  in_flight_guard guard(ctx.metrics.in_flight_requests);
  if (ctx.stopping.load() ||
      ctx.metrics.in_flight_requests.load() > cfg.server.max_in_flight_requests) {
    return refuse(
        503,
        error_body("overloaded", ctx.stopping.load()
                                     ? "the server is shutting down; retry"
                                     : "too many requests in flight; retry after a pause"),
        ctx.stopping.load() ? 5 : 2);
  }
  const size_t shards =
      cfg.clustering.enabled ? static_cast<size_t>(cfg.actors.cluster_shards) : size_t{0};
  if (auto why = ctx.gates.refusal(ctx.metrics, shards)) {
    return refuse(503, error_body("backpressure", *why + "; nothing was stored, retry later"), 2);
  }
  std::string encoding = req.get("Content-Encoding", "");
  for (auto& c : encoding)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool gzip = encoding == "gzip" || encoding == "x-gzip";
  if (!gzip && !encoding.empty() && encoding != "identity") {
    return refuse(415,
                  error_body("unsupported_encoding", "Content-Encoding \"" + encoding +
                                                         "\" is not supported; use gzip or none"));
  }
  const auto media = media_type_from_content_type(req.getContentType());
  if (!media) {
    return refuse(415, error_body("unsupported_media_type",
                                  "Content-Type \"" + req.getContentType() +
                                      "\" is not supported; use application/json, "
                                      "application/x-ndjson or application/msgpack"));
  }
  const int64_t declared = req.hasContentLength() ? req.getContentLength64() : -1;
  const auto max_body = static_cast<size_t>(cfg.server.max_body_bytes);
  if (declared > static_cast<int64_t>(max_body)) {
    // Drain up to 4x the limit so the client reads the 413; beyond that, close.
    if (declared > 4 * static_cast<int64_t>(max_body) || !drain(req.stream(), 4 * max_body)) {
      res.setKeepAlive(false);
    }
    return done(413, error_body("body_too_large", "body of " + std::to_string(declared) +
                                                      " bytes exceeds " + std::to_string(max_body) +
                                                      " (server.max_body_bytes)"));
  }
  std::string body;
  body_read = true;
  if (!read_body(req.stream(), declared, max_body, body)) {
    res.setKeepAlive(false);
    return done(413, error_body("body_too_large", "body exceeds " + std::to_string(max_body) +
                                                      " bytes (server.max_body_bytes)"));
  }
  if (declared >= 0 && body.size() != static_cast<size_t>(declared)) {
    res.setKeepAlive(false);
    return done(400, error_body("truncated_body",
                                "body ended after " + std::to_string(body.size()) + " of " +
                                    std::to_string(declared) + " declared bytes"));
  }
  ctx.metrics.add(ctx.metrics.bytes_received, body.size());
  if (gzip) {
    std::string inflated;
    const auto r =
        inflate_gzip(body, static_cast<size_t>(cfg.server.max_inflated_bytes), inflated, kPadding);
    switch (r.status) {
      case inflate_status::ok:
        break;
      case inflate_status::too_large:
        return done(413, error_body("inflated_body_too_large",
                                    "gzip body inflates past " +
                                        std::to_string(cfg.server.max_inflated_bytes) +
                                        " bytes (server.max_inflated_bytes)"));
      case inflate_status::truncated:
        return done(400, error_body("truncated_gzip", "gzip body is truncated: " + r.message));
      case inflate_status::corrupt:
        return done(400, error_body("corrupt_gzip", "gzip body is corrupt: " + r.message));
    }
    body = std::move(inflated);
  }
  parse_request preq;
  preq.body = std::move(body);
  preq.media = static_cast<uint8_t>(*media);
  preq.single = single;
  preq.scope = auth.scope;
  preq.received_us = now_us();
  auto outcome = ctx.gateway->ingest(std::move(preq));
  return done(outcome.status, outcome.body, outcome.retry_after_seconds);
}

}  // namespace luffy
