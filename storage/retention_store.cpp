#include "storage/retention_store.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

constexpr int64_t batch_size = 200;  // clusters per script call: short, so ingest never waits long

redis_error unexpected(const redis_value& v, const char* what) {
  return redis_error{std::string("unexpected reply from ") + what +
                     (v.type == redis_value::kind::error ? ": " + v.str : std::string())};
}

// The integer of a reply element (scripts return integers; XTRIM too).
int64_t integer_of(const redis_value& v) {
  return v.type == redis_value::kind::integer ? v.integer : 0;
}

}  // namespace

// Deletes, batch by batch, the clusters an index names below `cutoff` (ms), re-checked by the
// script with `check`. Returns the count deleted; `more` when the budget ran out first.
static redis_result<int64_t> forget_below(redis_client& redis, const std::string& prefix,
                                          const std::string& index, const char* check,
                                          int64_t cutoff, int64_t budget, bool& more) {
  static const std::string sha1 = script_sha1(cluster_forget_lua);
  const std::string max = "(" + std::to_string(cutoff);
  const std::string cutoff_text = std::to_string(cutoff);
  int64_t deleted = 0;
  while (budget > 0) {
    const std::string count = std::to_string(std::min(batch_size, budget));
    auto ids = redis.command({"ZRANGEBYSCORE", index, "-inf", max, "LIMIT", "0", count});
    if (!ids.ok()) {
      return redis_failed<int64_t>(ids.error);
    }
    if (ids.value->type != redis_value::kind::array) {
      return redis_failed<int64_t>(unexpected(*ids.value, "ZRANGEBYSCORE"));
    }
    if (ids.value->elements.empty()) {
      return redis_done(deleted);
    }
    std::vector<std::string_view> args{prefix, check, cutoff_text};
    for (const auto& e : ids.value->elements) {
      args.push_back(e.str);
    }
    auto r = redis.eval(cluster_forget_lua, sha1, {}, args);
    if (!r.ok()) {
      return redis_failed<int64_t>(r.error);
    }
    if (r.value->type != redis_value::kind::array || r.value->elements.size() != 2) {
      return redis_failed<int64_t>(unexpected(*r.value, "cluster_forget"));
    }
    const int64_t gone = integer_of(r.value->elements[0]) + integer_of(r.value->elements[1]);
    deleted += integer_of(r.value->elements[0]);
    budget -= static_cast<int64_t>(ids.value->elements.size());
    if (gone == 0) {
      // Every candidate was kept by the re-check (its cluster got a record since, or a resolved
      // one was reopened and left the index in the script): the next sweep reads a fresh index.
      return redis_done(deleted);
    }
  }
  more = true;
  return redis_done(deleted);
}

// XTRIM by length then by age; returns the entries removed.
static redis_result<int64_t> trim_stream(redis_client& redis, const std::string& stream,
                                         int64_t max_entries, int64_t max_age_ms, int64_t now_ms) {
  std::vector<std::vector<std::string_view>> cmds;
  const std::string maxlen = std::to_string(max_entries);
  const std::string minid = std::to_string(std::max<int64_t>(0, now_ms - max_age_ms));
  if (max_entries > 0) {
    cmds.push_back({"XTRIM", stream, "MAXLEN", maxlen});
  }
  if (max_age_ms > 0) {
    cmds.push_back({"XTRIM", stream, "MINID", minid});
  }
  if (cmds.empty()) {
    return redis_done<int64_t>(0);
  }
  auto r = redis.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<int64_t>(r.error);
  }
  int64_t trimmed = 0;
  for (const auto& v : *r.value) {
    if (v.type == redis_value::kind::error) {
      return redis_failed<int64_t>(unexpected(v, "XTRIM"));
    }
    trimmed += integer_of(v);
  }
  return redis_done(trimmed);
}

redis_result<sweep_result> retention_store::sweep(const std::string& prefix, int64_t now_ms,
                                                  const retention_policy& policy,
                                                  int64_t max_clusters) {
  sweep_result out;
  static const std::string adopt_sha1 = script_sha1(retention_adopt_lua);
  const std::string now_text = std::to_string(now_ms);
  auto adopted = redis_.eval(retention_adopt_lua, adopt_sha1, {}, {prefix, now_text});
  if (!adopted.ok()) {
    return redis_failed<sweep_result>(adopted.error);
  }
  if (adopted.value->type != redis_value::kind::integer) {
    return redis_failed<sweep_result>(unexpected(*adopted.value, "retention_adopt"));
  }
  out.adopted = std::max<int64_t>(0, adopted.value->integer);
  if (policy.resolved_clusters_ms > 0) {
    auto r = forget_below(redis_, prefix, clusters_resolved_key(prefix), "resolved",
                          now_ms - policy.resolved_clusters_ms, max_clusters, out.more);
    if (!r.ok()) {
      return redis_failed<sweep_result>(r.error);
    }
    out.resolved_expired = *r.value;
  }
  if (policy.clusters_ms > 0) {
    auto r = forget_below(redis_, prefix, clusters_received_key(prefix), "received",
                          now_ms - policy.clusters_ms, max_clusters, out.more);
    if (!r.ok()) {
      return redis_failed<sweep_result>(r.error);
    }
    out.clusters_expired = *r.value;
  }
  auto ev = trim_stream(redis_, events_stream_key(prefix), policy.events_max_entries,
                        policy.events_max_age_ms, now_ms);
  if (!ev.ok()) {
    return redis_failed<sweep_result>(ev.error);
  }
  out.events_trimmed = *ev.value;
  auto dl = trim_stream(redis_, dead_letter_stream_key(prefix), policy.dead_letters_max_entries,
                        policy.dead_letters_max_age_ms, now_ms);
  if (!dl.ok()) {
    return redis_failed<sweep_result>(dl.error);
  }
  out.dead_letters_trimmed = *dl.value;
  return redis_done(out);
}

namespace {

// Erases `service`'s entries of one stream, a page at a time.
redis_result<int64_t> forget_in_stream(redis_client& redis, const std::string& stream,
                                       const std::string& service) {
  static const std::string sha1 = script_sha1(stream_forget_service_lua);
  int64_t deleted = 0;
  std::string start = "-";
  for (;;) {
    auto r = redis.eval(stream_forget_service_lua, sha1, {stream}, {service, start, "1000"});
    if (!r.ok()) {
      return redis_failed<int64_t>(r.error);
    }
    if (r.value->type != redis_value::kind::array || r.value->elements.size() != 2) {
      return redis_failed<int64_t>(unexpected(*r.value, "stream_forget_service"));
    }
    deleted += integer_of(r.value->elements[0]);
    const std::string& last = r.value->elements[1].str;
    if (last.empty()) {
      return redis_done(deleted);
    }
    start = "(" + last;
  }
}

}  // namespace

redis_result<service_erasure> retention_store::forget_service(const std::string& prefix,
                                                              const std::string& service) {
  static const std::string sha1 = script_sha1(cluster_forget_lua);
  service_erasure out;
  const std::string index = service_index_key(prefix, service, "last_seen");
  // The service's clusters that left its last_seen index (merged sources keep a redirect hash)
  // go with the cluster they were merged into, when that one is the service's.
  for (;;) {
    auto ids = redis_.command({"ZRANGE", index, "0", std::to_string(batch_size - 1)});
    if (!ids.ok()) {
      return redis_failed<service_erasure>(ids.error);
    }
    if (ids.value->type != redis_value::kind::array) {
      return redis_failed<service_erasure>(unexpected(*ids.value, "ZRANGE"));
    }
    if (ids.value->elements.empty()) {
      break;
    }
    std::vector<std::string_view> args{prefix, "service", service};
    for (const auto& e : ids.value->elements) {
      args.push_back(e.str);
    }
    auto r = redis_.eval(cluster_forget_lua, sha1, {}, args);
    if (!r.ok()) {
      return redis_failed<service_erasure>(r.error);
    }
    if (r.value->type != redis_value::kind::array || r.value->elements.size() != 2) {
      return redis_failed<service_erasure>(unexpected(*r.value, "cluster_forget"));
    }
    const int64_t gone = integer_of(r.value->elements[0]);
    out.clusters += gone;
    if (gone + integer_of(r.value->elements[1]) == 0) {
      // Ids in the service's index that belong to another service now (a cross-service merge
      // re-pointed them): they leave this index only.
      std::vector<std::string_view> rem{"ZREM", index};
      for (const auto& e : ids.value->elements) {
        rem.push_back(e.str);
      }
      auto z = redis_.command(rem);
      if (!z.ok()) {
        return redis_failed<service_erasure>(z.error);
      }
    }
  }
  std::vector<std::string> keys = {service_templates_key(prefix, service),
                                   service_explosion_key(prefix, service),
                                   rate_limit_key(prefix, service),
                                   service_index_key(prefix, service, "count"),
                                   service_index_key(prefix, service, "first_seen"),
                                   index};
  // The flood bound's per-minute counters (180 s TTL): the last few minutes by this clock.
  const int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (int64_t m = minute - 4; m <= minute + 1; ++m) {
    keys.push_back(service_new_clusters_key(prefix, service, m));
  }
  std::vector<std::string_view> del{"DEL"};
  for (const auto& k : keys) {
    del.push_back(k);
  }
  auto d = redis_.command(del);
  if (!d.ok()) {
    return redis_failed<service_erasure>(d.error);
  }
  out.keys = integer_of(*d.value);
  auto ev = forget_in_stream(redis_, events_stream_key(prefix), service);
  if (!ev.ok()) {
    return redis_failed<service_erasure>(ev.error);
  }
  out.events = *ev.value;
  auto dl = forget_in_stream(redis_, dead_letter_stream_key(prefix), service);
  if (!dl.ok()) {
    return redis_failed<service_erasure>(dl.error);
  }
  out.dead_letters = *dl.value;
  return redis_done(out);
}

}  // namespace luffy
