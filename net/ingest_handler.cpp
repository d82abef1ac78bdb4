// POST /api/v1/ingest/logs and /api/v1/ingest/logs/single.
//
// The steps, in order, each with the checks it makes, cheapest first, and their statuses
// (Fluent Bit drops a chunk on any 4xx but 408/429, and retries 429/5xx):
//   1. admit the caller: feature flag (503 ingest_disabled), role (503 not_an_ingest_node),
//      credentials (401)
//   2. admit the load: requests in flight (503 overloaded, paced), shutting down (503
//      overloaded), backpressure gates (503 backpressure, paced)
//   3. check the body's form: Content-Encoding (415), Content-Type (415), a body at all (411),
//      declared length (413)
//   4. read the body under the memory budget (server.max_in_flight_bytes): a declared length is
//      drawn before a byte is read, a chunked body as it grows (503 memory_budget, paced); read
//      with a hard cap (413), to its end (400)
//   5. inflate gzip with an inflated cap and under the budget (503 memory_budget, 413 too large,
//      400 corrupt/truncated)
//   6. charge the decoder's share to the budget (413 body_too_dense when it could never fit, 503
//      memory_budget when it does not fit now)
//   7. hand the body to the pipeline (net/ingest_gateway.hpp)
// A refusal before the body was read drains it (bounded) to keep the connection usable; a paced
// refusal reads it first, then waits backpressure.refusal_delay_ms before answering.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <istream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/agent_tally.hpp"
#include "core/body_decoder.hpp"
#include "core/gzip.hpp"
#include "net/body_reader.hpp"
#include "net/framed_request.hpp"
#include "net/handlers.hpp"
#include "net/request_body.hpp"

namespace luffy {

namespace {

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

// The request body as the server framed it (net/request_body.hpp read_body): 0 at its end; a
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

// One ingest request on its way through the steps: how it is answered, and whether its body
// was read (a refusal drains an unread one first).
class ingest_call {
 public:
  ingest_call(server_context& c, http_request& rq, http_response& rs, const luffy_config& cf)
      : ctx(c), req(rq), res(rs), cfg(cf) {}

  // Answers (and counts the status).
  void done(int st, const std::string& body, uint32_t retry_after = 0) {
    status = st;
    ctx.metrics.count_status(st);
    send_json(res, st, body, retry_after);
  }
  // A refusal before the body was read: drain it (bounded) to keep the connection usable. A
  // body the client sends only after a 100 Continue is not asked for: the connection closes.
  void drain_unread() {
    if (!body_read && !discard_body(req, static_cast<size_t>(cfg.server.max_body_bytes))) {
      res.setKeepAlive(false);
    }
    body_read = true;
  }
  void refuse(int st, const std::string& body, uint32_t retry_after = 0) {
    drain_unread();
    done(st, body, retry_after);
  }
  // A paced refusal: read the body first (a complete body is never cut by the slow-body
  // watchdog, and the client is not reset), then wait backpressure.refusal_delay_ms before the
  // 503, so clients that retry at once cost one refused body per pause, not a flood of them.
  void paced_refuse(const std::string& body) {
    drain_unread();
    const int64_t pause_ms = cfg.backpressure.refusal_delay_ms;
    for (int64_t waited = 0; waited < pause_ms && !ctx.stopping.load(); waited += 50) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<int64_t>(50, pause_ms - waited)));
    }
    done(503, body, 2);
  }
  void over_budget() {
    paced_refuse(error_body(
        "memory_budget",
        "requests in flight hold the server's memory budget (server.max_in_flight_bytes); "
        "nothing was stored, retry after a pause"));
  }

  server_context& ctx;
  http_request& req;
  http_response& res;
  const luffy_config& cfg;  // one snapshot per request: a reload may swap it
  int status = 0;           // the answer's, for the log line
  bool body_read = false;   // read, drained or never to be asked for
  agent_report agent;       // what the agent tally learns from this request (core/agent_tally)
};

// One debug line per request, and its latency, when it is done.
struct request_log {
  ingest_call& call;
  std::chrono::steady_clock::time_point started;
  ~request_log() {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    call.ctx.metrics.ingest_latency.observe(secs);
    spdlog::debug("{} {} {} {} bytes {:.1f} ms from {}", call.req.getMethod(), call.req.getURI(),
                  call.status, call.req.getContentLength64(), secs * 1e3,
                  call.req.clientAddress().host().toString());
  }
};

// Counts the request for its agent (client address + User-Agent) in the pipeline's agent tally
// when it is answered, whatever the answer; actors/agent_tracker moves the tally to Redis.
struct agent_log {
  ingest_call& call;
  ~agent_log() {
    const auto& p = call.ctx.gateway;
    if (!p || !p->stages().agents || call.status == 0) {
      return;
    }
    try {
      agent_report& r = call.agent;
      r.address = call.req.clientAddress().host().toString();
      r.user_agent = call.req.get("User-Agent", "");
      r.status = call.status;
      r.arrival_ms = now_us() / 1000;
      p->stages().agents->record(r);
    } catch (const std::exception& e) {
      // A destructor must not throw; the request is answered already, only its count is lost.
      spdlog::warn("agent tally: request not counted: {}", e.what());
    }
  }
};

// 1. Ingestion switched on (503), then credentials (401). The caller's scope, or nothing
//    (answered).
std::optional<auth_scope> admit_caller(ingest_call& call) {
  if (!call.cfg.ingest.enabled) {
    call.refuse(503,
                error_body("ingest_disabled",
                           "ingestion is switched off on this server (ingest.enabled: false); "
                           "keep the logs buffered and retry later"),
                60);
    return std::nullopt;
  }
  if (call.cfg.node.role == "shard") {
    // A misrouted agent: 503 keeps its logs in its buffer (a 4xx would make Fluent Bit drop
    // them) while the operator points it at an ingest node.
    call.refuse(503,
                error_body("not_an_ingest_node",
                           "node \"" + call.cfg.node.name +
                               "\" runs cluster shards only (node.role: shard); send logs to "
                               "an ingest node (node.role: ingest or all)"),
                60);
    return std::nullopt;
  }
  auto auth =
      call.ctx.auth->authenticate(call.req.get("Authorization", ""), tls_client_of(call.req));
  if (!auth.ok) {
    if (const uint32_t wait = auth_failure_wait(call.ctx, call.req, call.res); wait > 0) {
      call.refuse(429, too_many_auth_failures_body(), wait);
      return std::nullopt;
    }
    call.res.set("WWW-Authenticate", "Bearer realm=\"luffy-ingest\"");
    call.refuse(401, error_body(auth.error, auth.message));
    return std::nullopt;
  }
  auth_succeeded(call.ctx, call.req);
  call.agent.authenticated = true;
  return std::move(auth.scope);
}

// 2. Requests in flight (this one counted), shutting down, backpressure gates: 503 each. True
//    when the request may go on.
bool admit_load(ingest_call& call) {
  server_context& ctx = call.ctx;
  if (!ctx.stopping.load() &&
      ctx.metrics.in_flight_requests.load() > call.cfg.server.max_in_flight_requests) {
    call.paced_refuse(error_body("overloaded", "too many requests in flight; retry after a pause"));
    return false;
  }
  if (ctx.stopping.load()) {
    call.refuse(503, error_body("overloaded", "the server is shutting down; retry"), 5);
    return false;
  }
  const size_t shards =
      call.cfg.clustering.enabled ? static_cast<size_t>(call.cfg.actors.cluster_shards) : size_t{0};
  if (auto why = ctx.gates.refusal(ctx.metrics, shards)) {
    call.paced_refuse(error_body("backpressure", *why + "; nothing was stored, retry later"));
    return false;
  }
  return true;
}

struct body_form {
  bool gzip = false;
  media_type media = media_type::json;
  int64_t declared = -1;  // Content-Length; -1 for a chunked body
};

// 3. Content-Encoding (415), Content-Type (415), a body at all (411), its declared length (413).
std::optional<body_form> check_body_form(ingest_call& call) {
  body_form form;
  std::string encoding = call.req.get("Content-Encoding", "");
  for (auto& c : encoding) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  form.gzip = encoding == "gzip" || encoding == "x-gzip";
  if (!form.gzip && !encoding.empty() && encoding != "identity") {
    call.refuse(415,
                error_body("unsupported_encoding", "Content-Encoding \"" + encoding +
                                                       "\" is not supported; use gzip or none"));
    return std::nullopt;
  }
  const auto media = media_type_from_content_type(call.req.getContentType());
  if (!media) {
    call.refuse(415, error_body("unsupported_media_type",
                                "Content-Type \"" + call.req.getContentType() +
                                    "\" is not supported; use application/json, "
                                    "application/x-ndjson or application/msgpack"));
    return std::nullopt;
  }
  form.media = *media;
  call.agent.format = static_cast<int>(*media);  // media_type and agent_format share 0..2
  call.agent.gzip = form.gzip;
  uint64_t declared_length = 0;
  const body_framing framing = request_framing(call.req, declared_length);
  if (framing == body_framing::none) {
    // Neither Content-Length nor Transfer-Encoding: the body is empty (RFC 9112 §6.3).
    call.done(411, error_body("length_required",
                              "a body is required: send Content-Length (or a chunked body)"));
    return std::nullopt;
  }
  form.declared = framing == body_framing::length ? static_cast<int64_t>(declared_length) : -1;
  const auto max_body = static_cast<size_t>(call.cfg.server.max_body_bytes);
  if (form.declared > static_cast<int64_t>(max_body)) {
    // The gate answers these before a worker sees them; kept for requests from elsewhere.
    call.res.setKeepAlive(false);
    call.done(413, error_body("body_too_large", "body of " + std::to_string(form.declared) +
                                                    " bytes exceeds " + std::to_string(max_body) +
                                                    " (server.max_body_bytes)"));
    return std::nullopt;
  }
  return form;
}

// What a body of n bytes is expected to cost once decoded: decode_memory_bound() of log-shaped
// JSON is ~2.6x the body. This much is drawn as soon as the body's size is known, so that the
// exact charge of step 6 gives bytes back rather than asks for more. (Drawing the body alone
// first and its decoder share later livelocked: 64 concurrent 60 MB bodies each held 60 MB, none
// could add its share, all were refused, and the next wave did the same.) Never more than the
// whole budget, and never less than `minimum`.
bool draw_expected(budget_lease& lease, const memory_budget& budget, int64_t minimum,
                   int64_t body_bytes) {
  const int64_t expected = std::max(minimum, std::min(minimum + 2 * body_bytes, budget.limit()));
  return lease.hold(expected);
}

// 4. The body, read with its bytes drawn from `lease`: a declared body before a byte of it is read,
//    a chunked one as it grows (503 when the budget cannot give them); over server.max_body_bytes
//    413, ended early 400. The body, or nothing (answered).
std::optional<std::string> read_body_within_budget(ingest_call& call, const body_form& form,
                                                   budget_lease& lease) {
  // A gzip body's decoded size is known only from its trailer (step 5): the raw bytes only here.
  const int64_t wire = form.declared + static_cast<int64_t>(kBodyPadding);
  if (form.declared >= 0 &&
      !(form.gzip ? lease.hold(wire)
                  : draw_expected(lease, call.ctx.in_flight_bytes, wire, form.declared))) {
    call.over_budget();
    return std::nullopt;
  }
  std::string body;
  call.body_read = true;
  body_source source(call.req);
  const auto max_body = static_cast<size_t>(call.cfg.server.max_body_bytes);
  const read_outcome read =
      read_whole_body([&](char* buf, size_t n) { return source.read(buf, n); }, form.declared,
                      max_body, body, lease);
  if (read == read_outcome::over_budget) {
    // Only a chunked body gets here, part read: give its bytes back and drop the rest unread.
    body.clear();
    body.shrink_to_fit();
    lease.hold(0);
    call.body_read = false;
    call.over_budget();
    return std::nullopt;
  }
  if (read == read_outcome::too_large) {
    call.res.setKeepAlive(false);
    call.done(413, error_body("body_too_large", "body exceeds " + std::to_string(max_body) +
                                                    " bytes (server.max_body_bytes)"));
    return std::nullopt;
  }
  if (source.failed()) {
    call.res.setKeepAlive(false);
    const framing_error e = body_error(call.req);
    call.done(400, error_body(e.code.empty() ? "truncated_body" : e.code,
                              e.message.empty() ? "the body ended early" : e.message));
    return std::nullopt;
  }
  call.ctx.metrics.add(call.ctx.metrics.bytes_received, body.size());
  return body;
}

// 5. The gzip body `raw` inflated, the inflated bytes drawn from `lease` as they come (the raw
//    body stays held): 503 over the budget, 413 past server.max_inflated_bytes, 400 truncated or
//    corrupt. The inflated body, or nothing (answered).
std::optional<std::string> inflate_within_budget(ingest_call& call, const std::string& raw,
                                                 budget_lease& lease) {
  std::string inflated;
  const auto raw_held = static_cast<int64_t>(raw.capacity());
  const auto r =
      inflate_gzip(raw, static_cast<size_t>(call.cfg.server.max_inflated_bytes), inflated,
                   kBodyPadding, [&](size_t bytes) {
                     const auto n = static_cast<int64_t>(bytes);
                     return draw_expected(lease, call.ctx.in_flight_bytes, raw_held + n, n);
                   });
  switch (r.status) {
    case inflate_status::ok:
      return inflated;
    case inflate_status::over_budget:
      call.body_read = true;  // the wire body is read; only the inflated copy did not fit
      call.over_budget();
      break;
    case inflate_status::too_large:
      call.done(413, error_body("inflated_body_too_large",
                                "gzip body inflates past " +
                                    std::to_string(call.cfg.server.max_inflated_bytes) +
                                    " bytes (server.max_inflated_bytes)"));
      break;
    case inflate_status::truncated:
      call.done(400, error_body("truncated_gzip", "gzip body is truncated: " + r.message));
      break;
    case inflate_status::corrupt:
      call.done(400, error_body("corrupt_gzip", "gzip body is corrupt: " + r.message));
      break;
  }
  return std::nullopt;
}

// 6. The raw body is gone (inflated) or is the body: the lease holds the body and its decoder's
//    share (core/body_decoder.hpp decode_memory_bound). A body that could never fit is the
//    client's problem (413: retrying cannot help); one that does not fit now waits for others
//    (503). True when the lease holds it.
bool charge_decoder_share(ingest_call& call, const std::string& body, media_type media,
                          budget_lease& lease) {
  memory_budget& budget = call.ctx.in_flight_bytes;
  const auto bound = static_cast<int64_t>(decode_memory_bound(body, media));
  if (bound > budget.limit()) {
    call.done(413, error_body("body_too_dense",
                              "decoding this body needs about " + std::to_string(bound) +
                                  " bytes, more than the server's whole memory budget (" +
                                  std::to_string(budget.limit()) +
                                  ", server.max_in_flight_bytes); send fewer values per request"));
    return false;
  }
  if (!lease.hold(bound)) {
    call.over_budget();
    return false;
  }
  return true;
}

// 7. The pipeline's answer (net/ingest_gateway.hpp).
void hand_to_gateway(ingest_call& call, std::string body, media_type media, bool single,
                     auth_scope scope) {
  parse_request preq;
  preq.body = std::move(body);
  preq.media = static_cast<uint8_t>(media);
  preq.single = single;
  preq.scope = std::move(scope);
  preq.received_us = now_us();
  auto outcome = call.ctx.gateway->ingest(std::move(preq));
  call.agent.records = outcome.accepted;
  call.agent.duplicates = outcome.duplicates;
  call.agent.hostnames = std::move(outcome.hostnames);
  call.agent.services = std::move(outcome.services);
  call.done(outcome.status, outcome.body, outcome.retry_after_seconds);
}

}  // namespace

void handle_ingest(server_context& ctx, http_request& req, http_response& res, bool single) {
  const auto started = std::chrono::steady_clock::now();
  const auto config = ctx.config.load();  // one snapshot per request: a reload may swap it
  ctx.metrics.add(ctx.metrics.requests, 1);
  ingest_call call(ctx, req, res, *config);
  const request_log log{call, started};
  const agent_log agent{call};

  auto scope = admit_caller(call);
  if (!scope) {
    return;
  }
  in_flight_guard guard(ctx.metrics.in_flight_requests);  // held until answered
  if (!admit_load(call)) {
    return;
  }
  const auto form = check_body_form(call);
  if (!form) {
    return;
  }
  // Every byte this request holds from here on is drawn from the in-flight budget
  // (server.max_in_flight_bytes) and given back when it is answered.
  budget_lease lease(ctx.in_flight_bytes);
  auto body = read_body_within_budget(call, *form, lease);
  if (!body) {
    return;
  }
  if (form->gzip) {
    auto inflated = inflate_within_budget(call, *body, lease);
    if (!inflated) {
      return;
    }
    *body = std::move(*inflated);
  }
  if (!charge_decoder_share(call, *body, form->media, lease)) {
    return;
  }
  hand_to_gateway(call, std::move(*body), form->media, single, std::move(*scope));
}

}  // namespace luffy
