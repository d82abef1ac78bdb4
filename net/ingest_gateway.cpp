#include "net/ingest_gateway.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

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

// One request to a pipeline stage from this (blocking, non-actor) thread: sends `msg` to the
// stage's current actor and waits for its reply until `timeout`. The call counts in the stage's
// group counters (GET /api/v1/admin/actors) until the reply or the error arrives. Returns the
// reply, or the error: sec::request_timeout when none came in time, the actor's error otherwise
// (no error at all only if neither arrived, which CAF does not do).
template <class Reply, class Msg>
caf::expected<Reply> ask(caf::scoped_actor& self, stage_directory& dir, stage s,
                         std::chrono::milliseconds timeout, Msg&& msg) {
  stage_call call(dir.counters(s));
  caf::expected<Reply> out{caf::no_error};
  self->request(dir.get(s), timeout, std::forward<Msg>(msg))
      .receive([&](Reply& r) { out = std::move(r); }, [&](caf::error& e) { out = std::move(e); });
  return out;
}

}  // namespace

ingest_outcome ingest_gateway::ingest(parse_request req) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout_;
  auto remaining = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
  };
  // Spawning the scoped actor stores a reference to CAF's logger in this (Poco) thread; the
  // actor_system destructor waits for every such reference, and Poco's pooled threads outlive it.
  // Drop the reference when the request is done, after the scoped actor is gone.
  struct release_logger_ref {
    ~release_logger_ref() { caf::logger::set_current_actor_system(nullptr); }
  } release_after_scope;
  caf::scoped_actor self{sys_};
  ingest_outcome out;
  // The error of a stage that did not answer, as text for the log ("" when there is none).
  auto failure = [&](const caf::error& e) { return e ? sys_.render(e) : std::string(); };
  // The answer names the stage; the error itself (CAF's rendering, exception text from
  // Redis or an actor) goes to the log only.
  auto unavailable = [&](const std::string& stage_name, const std::string& detail) {
    spdlog::debug("ingest refused with 503 at the {} stage: {}", stage_name,
                  detail.empty() ? "no reply in time" : detail);
    out.status = 503;
    out.retry_after_seconds = 5;
    out.body = error_body("unavailable", "the pipeline cannot take the batch now (" + stage_name +
                                             "); nothing from this request was stored, retry it");
    return out;
  };

  // 1. parse
  auto& dir = *pipeline_.directory;
  if (dir.degraded()) {
    return unavailable("restarting actors too often", dir.degraded_reason());
  }
  auto parsed = ask<parsed_batch>(self, dir, stage::parsers, remaining(), std::move(req));
  if (!parsed) {
    return unavailable("parser", failure(parsed.error()));
  }
  parsed_batch& batch = *parsed;
  counts c;
  c.received = batch.received;
  metrics_.add(metrics_.received, batch.received);
  switch (static_cast<parse_status>(batch.status)) {
    case parse_status::ok:
      break;
    case parse_status::malformed:
      out.status = 400;
      out.body = error_body("malformed_body", batch.message);
      return out;
    case parse_status::too_many_records:
      out.status = 413;
      out.body = error_body("too_many_records", batch.message);
      return out;
    case parse_status::forbidden:
      out.status = 403;
      out.body = error_body("forbidden_service", batch.message);
      return out;
  }
  c.rejected = batch.errors.size();
  c.merged = batch.merged;
  metrics_.add(metrics_.merged, batch.merged);
  const size_t n = batch.records.size();
  metrics_.queued_records.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  struct queued_guard {
    ingest_metrics& m;
    int64_t n;
    ~queued_guard() { m.queued_records.fetch_sub(n, std::memory_order_relaxed); }
  } guard{metrics_, static_cast<int64_t>(n)};

  // 2. dedup against the Redis window. Repeats inside one body are kept: they have distinct
  //    identities (core/record_hash.hpp hash_occurrence).
  std::vector<uint8_t> dup(n, 0);
  if (n > 0) {
    auto verdict =
        ask<dedup_verdict>(self, dir, stage::dedup, remaining(), dedup_check{batch.hashes});
    if (!verdict) {
      const std::string why = failure(verdict.error());
      return unavailable("dedup (Redis)", why.empty() ? "dedup reply malformed" : why);
    }
    if (verdict->seen.size() != n) {
      return unavailable("dedup (Redis)", "dedup reply malformed");
    }
    dup = std::move(verdict->seen);
  }

  // 3. rate limit, per service, in record order
  std::unordered_map<std::string, uint64_t> wanted;
  for (size_t i = 0; i < n; ++i) {
    if (!dup[i]) {
      ++wanted[batch.records[i].service_id];
    }
  }
  std::unordered_map<std::string, uint64_t> admitted;
  uint32_t retry_after = 0;
  for (auto& [service, count] : wanted) {
    auto grant =
        ask<limit_grant>(self, dir, stage::limiters, remaining(), limit_request{service, count});
    if (!grant) {
      for (auto& [s, a] : admitted) {
        self->send(dir.get(stage::limiters), limit_refund{s, a});
      }
      const std::string why = failure(grant.error());
      return unavailable("rate limiter", why.empty() ? why : "limiter: " + why);
    }
    admitted[service] = grant->admitted;
    retry_after = std::max(retry_after, grant->retry_after_seconds);
  }
  journal_append append;
  const std::string task_id = new_task_id();
  append.task_id = task_id;
  for (size_t i = 0; i < n; ++i) {
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

  // 4. journal: dead letters, then atomic re-check + mark + append
  const size_t dead_letters = batch.dead_letters.size();
  append.dead_letters = std::move(batch.dead_letters);
  if (!append.records.empty() || !append.dead_letters.empty()) {
    std::unordered_map<std::string, uint64_t> per_service;
    for (const auto& r : append.records) {
      ++per_service[r.service_id];
    }
    auto receipt = ask<journal_receipt>(self, dir, stage::journal, remaining(), std::move(append));
    if (!receipt) {
      for (auto& [s, k] : per_service) {
        self->send(dir.get(stage::limiters), limit_refund{s, k});
      }
      metrics_.redis_up.store(false, std::memory_order_relaxed);
      return unavailable("journal (Redis)", failure(receipt.error()));
    }
    for (size_t k = 0; k < receipt->duplicate.size(); ++k) {
      if (receipt->duplicate[k]) {
        ++c.duplicate;
      } else {
        ++c.accepted;
      }
    }
  }

  metrics_.add(metrics_.dead_lettered, dead_letters);
  metrics_.add(metrics_.accepted, c.accepted);
  metrics_.add(metrics_.duplicates, c.duplicate);
  metrics_.add(metrics_.rejected, c.rejected);
  metrics_.add(metrics_.rate_limited, c.rate_limited);
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
  out.body =
      accepted_body(c, task_id, batch.errors, "queued " + std::to_string(c.accepted) + " records");
  return out;
}

}  // namespace luffy
