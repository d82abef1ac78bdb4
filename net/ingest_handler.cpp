// POST /api/v1/ingest/logs and /api/v1/ingest/logs/single.
//
// Order of checks, cheapest first, each with its status (Fluent Bit drops a chunk on any 4xx but
// 408/429, and retries 429/5xx): feature flag (503), credentials (401), in-flight bound (503),
// Content-Encoding (415), Content-Type (415), declared length (413), read with a hard cap (413),
// gzip with an inflated cap (400 corrupt/truncated, 413 too large), then the pipeline.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <istream>
#include <thread>
#include <vector>

#include "core/body_decoder.hpp"
#include "core/gzip.hpp"
#include "net/handlers.hpp"
#include "net/http_server.hpp"

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

// The request body as the server framed it (net/http_server.hpp read_body): 0 at its end; a
// body that cannot be read to its end (client gone, deadline, malformed chunk) ends early and
// failed() is set.
class body_source {
 public:
  explicit body_source(http_request& req) : req_(req) {}
  // Up to n bytes; 0 at the end of the body.
  size_t read(char* buf, size_t n) {
    if (failed_) {
      return 0;
    }
    const std::streamsize got = read_body(req_, buf, n);
    if (got < 0) {
      failed_ = true;
      return 0;
    }
    return static_cast<size_t>(got);
  }
  bool failed() const { return failed_; }

 private:
  http_request& req_;
  bool failed_ = false;
};

enum class read_outcome { ok, too_large, over_budget };

// Reads at most `limit` bytes into `body` (no intermediate copy). A declared length was drawn from
// `lease` by the caller; a chunked body draws each growth of its buffer here.
read_outcome read_whole_body(body_source& in, int64_t declared, size_t limit, std::string& body,
                             budget_lease& lease) {
  body.clear();
  if (declared >= 0) {
    body.reserve(static_cast<size_t>(declared) + kPadding);
  }
  constexpr size_t step = 256 * 1024;
  for (;;) {
    const size_t have = body.size();
    // With a declared length: up to one byte past it (sees an overrun; the reserved padding
    // holds it, so the string never reallocates and copies the body).
    const size_t want = declared < 0 ? step
                        : static_cast<size_t>(declared) > have
                            ? std::min(static_cast<size_t>(declared) - have + 1, step)
                            : 1;
    const size_t next = std::min(have + want, limit + 1);
    if (next > body.capacity()) {
      // A chunked body (or one overrunning its length): grow geometrically, as the string would.
      const size_t cap = std::min(std::max(next, body.capacity() * 2), limit + 1) + kPadding;
      if (static_cast<int64_t>(cap) > lease.held() && !lease.hold(static_cast<int64_t>(cap))) {
        return read_outcome::over_budget;
      }
      body.reserve(cap);
    }
    body.resize(next);
    const size_t got = in.read(body.data() + have, body.size() - have);
    body.resize(have + got);
    if (got == 0) {
      return read_outcome::ok;
    }
    if (body.size() > limit) {
      return read_outcome::too_large;
    }
  }
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
  body_source source(req);
  uint64_t declared_length = 0;
  const body_framing framing = request_framing(req, declared_length);
  // A refusal before the body was read: drain it (bounded) to keep the connection usable. A
  // body the client sends only after a 100 Continue is not asked for: the connection closes.
  auto drain_unread = [&] {
    if (!body_read && !discard_body(req, static_cast<size_t>(cfg.server.max_body_bytes))) {
      res.setKeepAlive(false);
    }
    body_read = true;
  };
  auto refuse = [&](int st, const std::string& body, uint32_t retry_after = 0) {
    drain_unread();
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
  // A paced refusal: read the body first (a complete body is never cut by the slow-body
  // watchdog, and the client is not reset), then wait backpressure.refusal_delay_ms before the
  // 503, so clients that retry at once cost one refused body per pause, not a flood of them.
  auto paced_refuse = [&](const std::string& body) {
    drain_unread();
    const int64_t pause_ms = cfg.backpressure.refusal_delay_ms;
    for (int64_t waited = 0; waited < pause_ms && !ctx.stopping.load(); waited += 50) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<int64_t>(50, pause_ms - waited)));
    }
    done(503, body, 2);
  };
  in_flight_guard guard(ctx.metrics.in_flight_requests);
  if (!ctx.stopping.load() &&
      ctx.metrics.in_flight_requests.load() > cfg.server.max_in_flight_requests) {
    return paced_refuse(
        error_body("overloaded", "too many requests in flight; retry after a pause"));
  }
  if (ctx.stopping.load()) {
    return refuse(503, error_body("overloaded", "the server is shutting down; retry"), 5);
  }
  const size_t shards =
      cfg.clustering.enabled ? static_cast<size_t>(cfg.actors.cluster_shards) : size_t{0};
  if (auto why = ctx.gates.refusal(ctx.metrics, shards)) {
    return paced_refuse(error_body("backpressure", *why + "; nothing was stored, retry later"));
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
  if (framing == body_framing::none) {
    // Neither Content-Length nor Transfer-Encoding: the body is empty (RFC 9112 §6.3).
    return done(411, error_body("length_required",
                                "a body is required: send Content-Length (or a chunked body)"));
  }
  const int64_t declared =
      framing == body_framing::length ? static_cast<int64_t>(declared_length) : -1;
  const auto max_body = static_cast<size_t>(cfg.server.max_body_bytes);
  if (declared > static_cast<int64_t>(max_body)) {
    // The gate answers these before a worker sees them; kept for requests from elsewhere.
    res.setKeepAlive(false);
    return done(413, error_body("body_too_large", "body of " + std::to_string(declared) +
                                                      " bytes exceeds " + std::to_string(max_body) +
                                                      " (server.max_body_bytes)"));
  }
  // Every byte this request holds from here on is drawn from the in-flight budget
  // (server.max_in_flight_bytes) and given back when it is answered.
  budget_lease lease(ctx.in_flight_bytes);
  auto over_budget = [&] {
    paced_refuse(error_body(
        "memory_budget",
        "requests in flight hold the server's memory budget (server.max_in_flight_bytes); "
        "nothing was stored, retry after a pause"));
  };
  // A declared body is drawn before a byte of it is read (the decoder's share is drawn once the
  // body is known, below).
  if (declared >= 0 && !lease.hold(declared + static_cast<int64_t>(kPadding))) {
    return over_budget();
  }
  std::string body;
  body_read = true;
  const read_outcome read = read_whole_body(source, declared, max_body, body, lease);
  if (read == read_outcome::over_budget) {
    // Only a chunked body gets here, part read: give its bytes back and drop the rest unread.
    body.clear();
    body.shrink_to_fit();
    lease.hold(0);
    body_read = false;
    return over_budget();
  }
  if (read == read_outcome::too_large) {
    res.setKeepAlive(false);
    return done(413, error_body("body_too_large", "body exceeds " + std::to_string(max_body) +
                                                      " bytes (server.max_body_bytes)"));
  }
  if (source.failed()) {
    res.setKeepAlive(false);
    const framing_error e = body_error(req);
    return done(400, error_body(e.code.empty() ? "truncated_body" : e.code,
                                e.message.empty() ? "the body ended early" : e.message));
  }
  ctx.metrics.add(ctx.metrics.bytes_received, body.size());
  if (gzip) {
    std::string inflated;
    const auto raw_held = static_cast<int64_t>(body.capacity());
    const auto r = inflate_gzip(
        body, static_cast<size_t>(cfg.server.max_inflated_bytes), inflated, kPadding,
        [&](size_t bytes) { return lease.hold(raw_held + static_cast<int64_t>(bytes)); });
    switch (r.status) {
      case inflate_status::ok:
        break;
      case inflate_status::over_budget:
        body_read = true;  // the wire body is read; only the inflated copy did not fit
        return over_budget();
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
  // The raw body is gone (inflated) or is the body: hold the body and its decoder's share
  // (core/body_decoder.hpp decode_memory_bound). A body that could never fit is the client's
  // problem (413: retrying cannot help); one that does not fit now waits for others (503).
  const auto bound = static_cast<int64_t>(decode_memory_bound(body, *media));
  if (bound > ctx.in_flight_bytes.limit()) {
    return done(413,
                error_body("body_too_dense",
                           "decoding this body needs about " + std::to_string(bound) +
                               " bytes, more than the server's whole memory budget (" +
                               std::to_string(ctx.in_flight_bytes.limit()) +
                               ", server.max_in_flight_bytes); send fewer values per request"));
  }
  if (!lease.hold(bound)) {
    return over_budget();
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
