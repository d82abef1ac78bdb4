#include "storage/shard_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

template <class T>
redis_result<T> unexpected(const redis_value& v) {
  return redis_failed<T>(redis_error{"unexpected reply: " + v.str});
}

}  // namespace

shard_store::shard_store(redis_endpoint ep, std::string prefix, uint32_t shard, std::string fence)
    : redis_(std::move(ep)),
      prefix_(std::move(prefix)),
      stream_(journal_stream_key(prefix_, shard)),
      events_(events_stream_key(prefix_)),
      attempts_(journal_attempts_key(stream_)),
      lease_(shard_lease_key(prefix_, shard)),
      fence_(std::move(fence)),
      apply_sha1_(script_sha1(cluster_apply_lua)),
      dead_letter_sha1_(script_sha1(dead_letter_entry_lua)) {}

redis_result<std::vector<saved_template>> shard_store::read_templates(
    const std::string& service_id) {
  using out_t = std::vector<saved_template>;
  auto r = redis_.command({"HGETALL", service_templates_key(prefix_, service_id)});
  if (!r.ok()) {
    return redis_failed<out_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::array) {
    return unexpected<out_t>(*r.value);
  }
  out_t out;
  const auto& kv = r.value->elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    const std::string& v = kv[i + 1].str;
    const size_t tab = v.find('\t');
    if (tab == std::string::npos) {
      continue;
    }
    out.push_back({std::strtoull(v.c_str(), nullptr, 10), kv[i].str, v.substr(tab + 1)});
  }
  std::sort(out.begin(), out.end(), [](const saved_template& a, const saved_template& b) {
    return a.ordinal != b.ordinal ? a.ordinal < b.ordinal : a.anchor < b.anchor;
  });
  return redis_done(std::move(out));
}

redis_result<int64_t> shard_store::legacy_window_start(int64_t now_ms) {
  const std::string key = grouping_transition_key(prefix_);
  const std::string now = std::to_string(now_ms);
  auto r = redis_.pipeline({{"SET", key, now, "NX"}, {"GET", key}});
  if (!r.ok()) {
    return redis_failed<int64_t>(std::move(r.error));
  }
  const redis_value& since = (*r.value)[1];
  if (since.type != redis_value::kind::string) {
    return unexpected<int64_t>(since);
  }
  return redis_done<int64_t>(std::atoll(since.str.c_str()));
}

redis_result<cluster_apply_reply> shard_store::apply(const cluster_apply_call& call) {
  std::vector<std::string> head{std::to_string(call.max_new_clusters_per_minute),
                                std::to_string(call.now_ms),
                                prefix_,
                                std::to_string(call.samples),
                                std::to_string(call.spike_multiplier),
                                std::to_string(call.spike_minimum),
                                std::to_string(call.records),
                                fence_,
                                std::to_string(call.entry_ids.size())};
  const std::string clusters = std::to_string(call.clusters.size());
  const std::string dead = std::to_string(call.dead.size());
  std::vector<std::string_view> args(head.begin(), head.end());
  args.insert(args.end(), call.entry_ids.begin(), call.entry_ids.end());
  args.push_back(clusters);
  args.insert(args.end(), call.clusters.begin(), call.clusters.end());
  args.push_back(dead);
  for (const auto& d : call.dead) {
    args.insert(args.end(), {d.entry, d.error, d.record});
  }
  auto r = redis_.eval(cluster_apply_lua, apply_sha1_, {stream_, events_, lease_}, args);
  if (!r.ok()) {
    return redis_failed<cluster_apply_reply>(std::move(r.error));
  }
  const redis_value& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() < 2) {
    return unexpected<cluster_apply_reply>(v);
  }
  cluster_apply_reply out;
  if (v.elements[0].integer == -1) {
    out.fenced = true;
    out.holder = v.elements[1].str;
  } else if (v.elements[0].integer == -2) {
    out.behind = true;
  } else if (v.elements[0].integer == 1) {
    out.applied = true;
    out.new_clusters = v.elements[1].integer;
    if (v.elements.size() > 2) {
      for (const auto& svc : v.elements[2].elements) {
        out.overflowed.push_back(svc.str);
      }
    }
  } else {
    for (const auto& g : v.elements[1].elements) {
      out.gone.push_back(g.str);
    }
  }
  return redis_done(std::move(out));
}

redis_result<std::vector<journal_entry>> shard_store::read_entries(uint32_t count) {
  using out_t = std::vector<journal_entry>;
  const std::string n = std::to_string(count);
  auto r = redis_.command({"XRANGE", stream_, "-", "+", "COUNT", n});
  if (!r.ok()) {
    return redis_failed<out_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::array) {
    return unexpected<out_t>(*r.value);
  }
  out_t out;
  for (auto& e : r.value->elements) {
    if (e.elements.size() < 2 || e.elements[1].type != redis_value::kind::array) {
      break;
    }
    journal_entry entry;
    entry.id = std::move(e.elements[0].str);
    auto& fields = e.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      const auto& k = fields[i].str;
      if (k == "enc") {
        entry.encoding = std::move(fields[i + 1].str);
      } else if (k == "records") {
        entry.payload = std::move(fields[i + 1].str);
      }
    }
    out.push_back(std::move(entry));
  }
  return redis_done(std::move(out));
}

redis_result<std::optional<std::string>> shard_store::oldest_entry_id() {
  using out_t = std::optional<std::string>;
  auto r = redis_.command({"XRANGE", stream_, "-", "+", "COUNT", "1"});
  if (!r.ok()) {
    return redis_failed<out_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::array) {
    return unexpected<out_t>(*r.value);
  }
  if (r.value->elements.empty()) {
    return redis_done<out_t>(std::nullopt);
  }
  const auto& first = r.value->elements[0];
  if (first.elements.empty()) {
    return unexpected<out_t>(first);
  }
  return redis_done<out_t>(first.elements[0].str);
}

redis_result<int64_t> shard_store::count_attempt(const std::string& id) {
  auto r = redis_.command({"HINCRBY", attempts_, id, "1"});
  if (!r.ok()) {
    return redis_failed<int64_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::integer) {
    return unexpected<int64_t>(*r.value);
  }
  return redis_done(r.value->integer);
}

redis_result<int64_t> shard_store::uncount_attempt(const std::string& id) {
  auto r = redis_.command({"HINCRBY", attempts_, id, "-1"});
  if (!r.ok()) {
    return redis_failed<int64_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::integer) {
    return unexpected<int64_t>(*r.value);
  }
  return redis_done(r.value->integer);
}

redis_result<int64_t> shard_store::dead_letter_entry(const std::string& id,
                                                     const std::string& error) {
  const std::string dlq = dead_letter_stream_key(prefix_);
  const std::string stats = stats_key(prefix_);
  auto r = redis_.eval(dead_letter_entry_lua, dead_letter_sha1_, {stream_, dlq, stats, lease_},
                       {id, error, fence_});
  if (!r.ok()) {
    return redis_failed<int64_t>(std::move(r.error));
  }
  if (r.value->type != redis_value::kind::integer) {
    return redis_done<int64_t>(0);
  }
  // Only the fence check answers a negative number; keep that exact for the caller.
  return redis_done<int64_t>(r.value->integer < 0 ? fenced_out : r.value->integer);
}

redis_result<bool> shard_store::still_holds() {
  if (fence_.empty()) {
    return redis_done(true);
  }
  auto r = redis_.command({"GET", lease_});
  if (!r.ok()) {
    return redis_failed<bool>(std::move(r.error));
  }
  if (r.value->type == redis_value::kind::nil) {
    return redis_done(false);
  }
  if (r.value->type != redis_value::kind::string) {
    return unexpected<bool>(*r.value);
  }
  return redis_done(r.value->str == fence_);
}

}  // namespace luffy
