#include "net/ingest_gateway.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <unordered_map>

#include "core/json_writer.hpp"

namespace luffy {

namespace {

std::string new_task_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = hex[(a >> (i * 4)) & 0xf];
    id[16 + i] = hex[(b >> (i * 4)) & 0xf];
  }
  return id;
}

struct counts {
  uint64_t received = 0, accepted = 0, duplicate = 0, rejected = 0, rate_limited = 0, merged = 0;
};

std::string accepted_body(const counts& c, const std::string& task_id,
                          const std::vector<record_error>& errors, std::string_view message) {
  std::string out;
  out.reserve(256 + errors.size() * 64);
  json_object_writer o(out);
  o.string("status", "accepted")
      .uinteger("received_count", c.received)
      .uinteger("accepted_count", c.accepted)
      .uinteger("duplicate_count", c.duplicate)
      .uinteger("rejected_count", c.rejected)
      .uinteger("rate_limited_count", c.rate_limited)
      .uinteger("merged_count", c.merged)
      .string("task_id", task_id)
      .string("message", message);
  json_array_writer list(o.key("errors"));
  // Bounded: a body of 100k invalid records must not produce a 10 MB reply.
  const size_t shown = std::min<size_t>(errors.size(), 100);
  for (size_t i = 0; i < shown; ++i) {
    json_object_writer e(list.item());
    e.uinteger("index", errors[i].index).string("reason", errors[i].reason);
    e.close();
  }
  list.close();
  if (errors.size() > shown) {
    o.boolean("errors_truncated", true);
  }
  o.close();
  return out;
}

}  // namespace

std::string error_body(std::string_view code, std::string_view message) {
  std::string out;
  json_object_writer o(out);
  o.string("status", "error").string("error", code).string("message", message);
  o.close();
  return out;
}

ingest_gateway::ingest_gateway(caf::actor_system& sys, pipeline p, ingest_metrics& metrics,
                               std::chrono::milliseconds timeout)
    : sys_(sys), pipeline_(std::move(p)), metrics_(metrics), timeout_(timeout) {}

namespace {

using service_counts = std::unordered_map<std::string, uint64_t>;

// One ingest request's walk through the stages, from this (blocking, non-actor) HTTP thread: the
// scoped actor that asks, where the stages are, and the request's one deadline.
struct stage_run {
  caf::actor_system& sys;
  caf::scoped_actor& self;
  stage_directory& dir;
  std::chrono::steady_clock::time_point deadline;

  std::chrono::milliseconds remaining() const {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  }

  // Sends `msg` to stage `s`'s current actor and waits for its reply until the deadline. The call
  // counts in the stage's group counters (GET /api/v1/admin/actors) until the reply or the error
  // arrives. Returns the reply, or the error: sec::request_timeout when none came in time, the
  // actor's error otherwise.
  template <class Reply, class Msg>
  caf::expected<Reply> ask(stage s, Msg&& msg) {
    stage_call call(dir.counters(s));
    caf::expected<Reply> out{caf::no_error};
    self->request(dir.get(s), remaining(), std::forward<Msg>(msg))
        .receive([&](Reply& r) { out = std::move(r); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // The error of a stage that did not answer, as text for the log ("" when there is none).
  std::string failure(const caf::error& e) const { return e ? sys.render(e) : std::string(); }

  void refund(const service_counts& taken) {
    for (const auto& [service, n] : taken) {
      self->send(dir.get(stage::limiters), limit_refund{service, n});
    }
  }
};

// 503 naming the stage; the error itself (CAF's rendering, exception text from Redis or an actor)
// goes to the log only.
ingest_outcome unavailable(const std::string& stage_name, const std::string& detail) {
  spdlog::debug("ingest refused with 503 at the {} stage: {}", stage_name,
                detail.empty() ? "no reply in time" : detail);
  ingest_outcome out;
  out.status = 503;
  out.retry_after_seconds = 5;
  out.body = error_body("unavailable", "the pipeline cannot take the batch now (" + stage_name +
                                           "); nothing from this request was stored, retry it");
  return out;
}

ingest_outcome refusal(int status, std::string_view code, const std::string& message) {
  ingest_outcome out;
  out.status = status;
  out.body = error_body(code, message);
  return out;
}

// 1. The parser's refusal of the whole body (400, 413, 403), if it refused it.
std::optional<ingest_outcome> parse_refusal(const parsed_batch& batch) {
  switch (static_cast<parse_status>(batch.status)) {
    case parse_status::ok:
      return std::nullopt;
    case parse_status::malformed:
      return refusal(400, "malformed_body", batch.message);
    case parse_status::too_many_records:
      return refusal(413, "too_many_records", batch.message);
    case parse_status::forbidden:
      return refusal(403, "forbidden_service", batch.message);
  }
  return std::nullopt;
}

// 2. Marks in `dup` the records accepted before within the Redis dedup window. Repeats inside one
//    body are kept: they have distinct identities (core/record_hash.hpp hash_occurrence).
std::optional<ingest_outcome> find_duplicates(stage_run& run, const parsed_batch& batch,
                                              std::vector<uint8_t>& dup) {
  const size_t n = batch.records.size();
  dup.assign(n, 0);
  if (n == 0) {
    return std::nullopt;
  }
  auto verdict = run.ask<dedup_verdict>(stage::dedup, dedup_check{batch.hashes});
  if (!verdict) {
    const std::string why = run.failure(verdict.error());
    return unavailable("dedup (Redis)", why.empty() ? "dedup reply malformed" : why);
  }
  if (verdict->seen.size() != n) {
    return unavailable("dedup (Redis)", "dedup reply malformed");
  }
  dup = std::move(verdict->seen);
  return std::nullopt;
}

// 3. Takes rate-limit tokens for the new records, per service: `admitted` says how many of each
//    service's records may go on. A limiter that fails gets back what the others gave.
std::optional<ingest_outcome> take_tokens(stage_run& run, const parsed_batch& batch,
                                          const std::vector<uint8_t>& dup, service_counts& admitted,
                                          uint32_t& retry_after) {
  service_counts wanted;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (!dup[i]) {
      ++wanted[batch.records[i].service_id];
    }
  }
  for (auto& [service, count] : wanted) {
    auto grant = run.ask<limit_grant>(stage::limiters, limit_request{service, count});
    if (!grant) {
      run.refund(admitted);
      const std::string why = run.failure(grant.error());
      return unavailable("rate limiter", why.empty() ? why : "limiter: " + why);
    }
    admitted[service] = grant->admitted;
    retry_after = std::max(retry_after, grant->retry_after_seconds);
  }
  return std::nullopt;
}

// The records that go to the journal, in request order: neither duplicates nor over their
// service's admission (those are counted in `c`), with the batch's dead letters.
journal_append admitted_records(parsed_batch& batch, const std::vector<uint8_t>& dup,
                                service_counts admitted, std::string task_id, counts& c) {
  journal_append append;
  append.task_id = std::move(task_id);
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (dup[i]) {
      ++c.duplicate;
      continue;
    }
    auto& left = admitted[batch.records[i].service_id];
    if (left == 0) {
      ++c.rate_limited;
      continue;
    }
    --left;
    append.hashes.push_back(batch.hashes[i]);
    append.records.push_back(std::move(batch.records[i]));
  }
  append.dead_letters = std::move(batch.dead_letters);
  return append;
}

// 4. The journal: dead letters, then the atomic re-check + mark + append. Counts in `c` what was
//    accepted and what a racing request stored first. On failure the tokens go back.
std::optional<ingest_outcome> commit(stage_run& run, ingest_metrics& metrics, journal_append append,
                                     counts& c) {
  if (append.records.empty() && append.dead_letters.empty()) {
    return std::nullopt;
  }
  service_counts per_service;
  for (const auto& r : append.records) {
    ++per_service[r.service_id];
  }
  auto receipt = run.ask<journal_receipt>(stage::journal, std::move(append));
  if (!receipt) {
    run.refund(per_service);
    metrics.redis_up.store(false, std::memory_order_relaxed);
    return unavailable("journal (Redis)", run.failure(receipt.error()));
  }
  for (size_t k = 0; k < receipt->duplicate.size(); ++k) {
    if (receipt->duplicate[k]) {
      ++c.duplicate;
    } else {
      ++c.accepted;
    }
  }
  return std::nullopt;
}

// The distinct hostnames (at most 10) and services (at most 20) of the batch's records, for the
// agent tally. Records of one agent mostly repeat both, so the last one seen is checked first.
void agent_attributes(const parsed_batch& batch, std::vector<std::string>& hostnames,
                      std::vector<std::string>& services) {
  auto add = [](std::vector<std::string>& list, const std::string& v, size_t max) {
    if (v.empty() || (!list.empty() && list.back() == v) || list.size() >= max ||
        std::find(list.begin(), list.end(), v) != list.end()) {
      return;
    }
    list.push_back(v);
  };
  for (const auto& r : batch.records) {
    add(hostnames, r.hostname, 10);
    add(services, r.service_id, 20);
  }
}

// 5. The answer: 429 when every record was over its limit, else 202 with the counts.
ingest_outcome reply(const counts& c, uint32_t retry_after, const std::string& task_id,
                     const std::vector<record_error>& errors) {
  ingest_outcome out;
  if (c.rate_limited > 0 && c.accepted == 0) {
    out.status = 429;
    out.retry_after_seconds = std::max<uint32_t>(retry_after, 1);
    out.body = error_body("rate_limited",
                          "every record of this request is over its service's rate limit (" +
                              std::to_string(c.rate_limited) + " records); retry after " +
                              std::to_string(out.retry_after_seconds) + " s");
    return out;
  }
  out.status = 202;
  out.body = accepted_body(c, task_id, errors, "queued " + std::to_string(c.accepted) + " records");
  return out;
}

}  // namespace

ingest_outcome ingest_gateway::ingest(parse_request req) {
  // Spawning the scoped actor stores a reference to CAF's logger in this (Poco) thread; the
  // actor_system destructor waits for every such reference, and Poco's pooled threads outlive it.
  // Drop the reference when the request is done, after the scoped actor is gone.
  struct release_logger_ref {
    ~release_logger_ref() { caf::logger::set_current_actor_system(nullptr); }
  } release_after_scope;
  caf::scoped_actor self{sys_};
  auto& dir = *pipeline_.directory;
  stage_run run{sys_, self, dir, std::chrono::steady_clock::now() + timeout_};

  if (dir.degraded()) {
    return unavailable("restarting actors too often", dir.degraded_reason());
  }
  auto parsed = run.ask<parsed_batch>(stage::parsers, std::move(req));
  if (!parsed) {
    return unavailable("parser", run.failure(parsed.error()));
  }
  parsed_batch& batch = *parsed;
  counts c;
  c.received = batch.received;
  metrics_.add(metrics_.received, batch.received);
  if (auto refused = parse_refusal(batch)) {
    return *refused;
  }
  std::vector<std::string> hostnames, services;
  agent_attributes(batch, hostnames, services);
  c.rejected = batch.errors.size();
  c.merged = batch.merged;
  metrics_.add(metrics_.merged, batch.merged);
  const auto queued = static_cast<int64_t>(batch.records.size());
  metrics_.queued_records.fetch_add(queued, std::memory_order_relaxed);
  struct queued_guard {
    ingest_metrics& m;
    int64_t n;
    ~queued_guard() { m.queued_records.fetch_sub(n, std::memory_order_relaxed); }
  } guard{metrics_, queued};

  std::vector<uint8_t> dup;
  if (auto refused = find_duplicates(run, batch, dup)) {
    return *refused;
  }
  service_counts admitted;
  uint32_t retry_after = 0;
  if (auto refused = take_tokens(run, batch, dup, admitted, retry_after)) {
    return *refused;
  }
  const std::string task_id = new_task_id();
  journal_append append = admitted_records(batch, dup, std::move(admitted), task_id, c);
  const size_t dead_letters = append.dead_letters.size();
  if (auto refused = commit(run, metrics_, std::move(append), c)) {
    return *refused;
  }

  metrics_.add(metrics_.dead_lettered, dead_letters);
  metrics_.add(metrics_.accepted, c.accepted);
  metrics_.add(metrics_.duplicates, c.duplicate);
  metrics_.add(metrics_.rejected, c.rejected);
  metrics_.add(metrics_.rate_limited, c.rate_limited);
  ingest_outcome out = reply(c, retry_after, task_id, batch.errors);
  out.accepted = c.accepted;
  out.duplicates = c.duplicate;
  out.hostnames = std::move(hostnames);
  out.services = std::move(services);
  return out;
}

}  // namespace luffy
