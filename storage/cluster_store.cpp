#include "storage/cluster_store.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/json_writer.hpp"
#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

cluster_fields as_map(const redis_value& v) {
  cluster_fields m;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    m[v.elements[i].str] = v.elements[i + 1].str;
  }
  return m;
}

std::vector<std::string> strings(const redis_value& v) {
  std::vector<std::string> out;
  out.reserve(v.elements.size());
  for (const auto& e : v.elements) {
    out.push_back(e.str);
  }
  return out;
}

std::optional<std::string> text(const redis_value& v) {
  if (v.type != redis_value::kind::string) {
    return std::nullopt;
  }
  return v.str;
}

}  // namespace

redis_result<std::vector<std::pair<double, std::string>>> cluster_store::ranked_ids(
    const std::string& prefix, const std::string& sort,
    const std::optional<std::vector<std::string>>& services, int64_t hour) {
  using ranked = std::vector<std::pair<double, std::string>>;
  if (sort == "first_seen") {
    auto built = ensure_first_seen_index(prefix);
    if (!built.ok()) {
      return redis_failed<ranked>(built.error);
    }
  }
  std::vector<std::string> zsets;
  std::vector<std::string> scopes;  // trend: the service of each zset ("" every cluster)
  if (!services) {
    zsets.push_back(clusters_index_key(prefix, sort));
    scopes.emplace_back();
  } else {
    for (const auto& s : *services) {
      zsets.push_back(service_index_key(prefix, s, sort));
      scopes.push_back(s);
    }
  }
  static const std::string trend_sha1 = script_sha1(cluster_trend_lua);
  std::vector<std::pair<double, std::string>> ids;
  for (size_t z = 0; z < zsets.size(); ++z) {
    redis_result<redis_value> r;
    if (sort == "trend") {
      std::vector<std::string> keys{clusters_trend_key(prefix, scopes[z], hour),
                                    scopes[z].empty()
                                        ? clusters_index_key(prefix, "last_seen")
                                        : service_index_key(prefix, scopes[z], "last_seen")};
      for (int64_t h = hour - 23; h <= hour; ++h) {
        keys.push_back(clusters_hour_key(prefix, h));
      }
      const std::vector<std::string_view> key_views(keys.begin(), keys.end());
      r = redis_.eval(cluster_trend_lua, trend_sha1, key_views, {"10000", "10000"});
    } else {
      r = redis_.command({"ZREVRANGE", zsets[z], "0", "9999", "WITHSCORES"});
    }
    if (!r.ok()) {
      return redis_failed<decltype(ids)>(r.error);
    }
    for (size_t i = 0; i + 1 < r.value->elements.size(); i += 2) {
      ids.emplace_back(std::atof(r.value->elements[i + 1].str.c_str()), r.value->elements[i].str);
    }
  }
  std::stable_sort(ids.begin(), ids.end(), [](auto& a, auto& b) { return a.first > b.first; });
  return redis_done(std::move(ids));
}

redis_result<int64_t> cluster_store::ensure_first_seen_index(const std::string& prefix) {
  const std::string first = clusters_index_key(prefix, "first_seen");
  const std::string last = clusters_index_key(prefix, "last_seen");
  auto counts = redis_.pipeline({{"ZCARD", first}, {"ZCARD", last}});
  if (!counts.ok()) {
    return redis_failed<int64_t>(counts.error);
  }
  if ((*counts.value)[0].integer >= (*counts.value)[1].integer) {
    return redis_done<int64_t>(0);
  }
  auto all = redis_.command({"ZRANGE", last, "0", "-1"});
  if (!all.ok()) {
    return redis_failed<int64_t>(all.error);
  }
  const auto ids = strings(*all.value);
  int64_t added = 0;
  for (size_t at = 0; at < ids.size(); at += 500) {
    const size_t end = std::min(ids.size(), at + 500);
    std::vector<std::string> keys;
    for (size_t i = at; i < end; ++i) {
      keys.push_back(cluster_key(prefix, ids[i]));
    }
    std::vector<std::vector<std::string_view>> reads;
    for (const auto& k : keys) {
      reads.push_back({"HMGET", k, "first_seen_us", "service_id"});
    }
    auto got = redis_.pipeline(reads);
    if (!got.ok()) {
      return redis_failed<int64_t>(got.error);
    }
    std::vector<std::string> texts;  // ms scores and service keys, kept alive for the views
    texts.reserve(2 * (end - at));
    std::vector<std::vector<std::string_view>> writes;
    for (size_t i = at; i < end; ++i) {
      const auto& f = (*got.value)[i - at].elements;
      if (f.size() != 2 || !text(f[0]) || !text(f[1])) {
        // A listed id without its hash: indexed at 0 (the list skips it) so that the two
        // indexes count alike and the next request does not rebuild again.
        writes.push_back({"ZADD", first, "0", ids[i]});
        continue;
      }
      texts.push_back(std::to_string(std::atoll(f[0].str.c_str()) / 1000));
      const std::string_view score = texts.back();
      texts.push_back(service_index_key(prefix, f[1].str, "first_seen"));
      const std::string_view service_zset = texts.back();
      writes.push_back({"ZADD", first, score, ids[i]});
      writes.push_back({"ZADD", service_zset, score, ids[i]});
      ++added;
    }
    if (!writes.empty()) {
      auto w = redis_.pipeline(writes);
      if (!w.ok()) {
        return redis_failed<int64_t>(w.error);
      }
    }
  }
  return redis_done(added);
}

redis_result<std::vector<std::vector<std::optional<std::string>>>> cluster_store::filter_fields(
    const std::string& prefix, const std::vector<std::string>& ids,
    const std::vector<std::string>& fields, const std::string& environment) {
  using rows = std::vector<std::vector<std::optional<std::string>>>;
  std::vector<std::string> keys, env_keys;
  keys.reserve(ids.size());
  env_keys.reserve(ids.size());
  for (const auto& id : ids) {
    keys.push_back(cluster_key(prefix, id));
    env_keys.push_back(cluster_environments_key(prefix, id));
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<std::string_view> c{"HMGET", keys[i]};
    for (const auto& f : fields) {
      c.push_back(f);
    }
    cmds.push_back(std::move(c));
    if (!environment.empty()) {
      cmds.push_back({"SISMEMBER", env_keys[i], environment});
    }
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<rows>(r.error);
  }
  rows out;
  const size_t step = environment.empty() ? 1 : 2;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& v = (*r.value)[i * step];
    std::vector<std::optional<std::string>> row;
    bool any = false;
    for (const auto& e : v.elements) {
      row.push_back(text(e));
      any = any || row.back().has_value();
    }
    if (!any) {
      row.clear();  // no such cluster
    } else if (step == 2) {
      row.push_back((*r.value)[i * 2 + 1].integer == 1 ? "1" : "0");
    }
    out.push_back(std::move(row));
  }
  return redis_done(std::move(out));
}

redis_result<std::vector<std::pair<std::vector<int64_t>, std::vector<std::string>>>>
cluster_store::activity(const std::string& prefix, const std::vector<std::string>& ids,
                        int64_t first_hour) {
  using rows = std::vector<std::pair<std::vector<int64_t>, std::vector<std::string>>>;
  std::vector<std::string> hours;
  for (int64_t h = first_hour; h < first_hour + 24; ++h) {
    hours.push_back(std::to_string(h));
  }
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    keys.push_back(cluster_hours_key(prefix, id));
    keys.push_back(cluster_environments_key(prefix, id));
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<std::string_view> c{"HMGET", keys[2 * i]};
    for (const auto& h : hours) {
      c.push_back(h);
    }
    cmds.push_back(std::move(c));
    cmds.push_back({"SRANDMEMBER", keys[2 * i + 1], "10"});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<rows>(r.error);
  }
  rows out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<int64_t> counts;
    for (const auto& e : (*r.value)[2 * i].elements) {
      counts.push_back(e.type == redis_value::kind::string ? std::atoll(e.str.c_str()) : 0);
    }
    counts.resize(24, 0);
    auto envs = strings((*r.value)[2 * i + 1]);
    std::sort(envs.begin(), envs.end());
    out.emplace_back(std::move(counts), std::move(envs));
  }
  return redis_done(std::move(out));
}

redis_result<std::vector<cluster_fields>> cluster_store::read_clusters(
    const std::string& prefix, const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& id : ids) {
    keys.push_back(cluster_key(prefix, id));
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& k : keys) {
    cmds.push_back({"HGETALL", k});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<std::vector<cluster_fields>>(r.error);
  }
  std::vector<cluster_fields> out;
  out.reserve(r.value->size());
  for (const auto& v : *r.value) {
    out.push_back(as_map(v));
  }
  return redis_done(std::move(out));
}

redis_result<cluster_detail> cluster_store::read_cluster(const std::string& prefix,
                                                         const std::string& id) {
  const std::string key = cluster_key(prefix, id);
  const std::string samples_key = cluster_samples_key(prefix, id),
                    hosts_key = cluster_hosts_key(prefix, id),
                    envs_key = cluster_environments_key(prefix, id),
                    minutes_key = cluster_minutes_key(prefix, id),
                    events_key = cluster_events_key(prefix, id),
                    hours_key = cluster_hours_key(prefix, id);
  auto r = redis_.pipeline({{"HGETALL", key},
                            {"LRANGE", samples_key, "0", "-1"},
                            {"SMEMBERS", hosts_key},
                            {"SMEMBERS", envs_key},
                            {"HGETALL", minutes_key},
                            {"LRANGE", events_key, "0", "99"},
                            {"HGETALL", hours_key}});
  if (!r.ok()) {
    return redis_failed<cluster_detail>(r.error);
  }
  const auto& v = *r.value;
  cluster_detail d;
  d.fields = as_map(v[0]);
  d.samples = strings(v[1]);
  d.hosts = strings(v[2]);
  d.environments = strings(v[3]);
  for (size_t i = 0; i + 1 < v[4].elements.size(); i += 2) {
    d.minutes.emplace_back(v[4].elements[i].str, v[4].elements[i + 1].str);
  }
  d.events = strings(v[5]);
  for (size_t i = 0; i + 1 < v[6].elements.size(); i += 2) {
    d.hours.emplace_back(v[6].elements[i].str, v[6].elements[i + 1].str);
  }
  return redis_done(std::move(d));
}

redis_result<std::pair<std::optional<std::string>, std::optional<std::string>>>
cluster_store::owner(const std::string& prefix, const std::string& id) {
  using owner_t = std::pair<std::optional<std::string>, std::optional<std::string>>;
  auto r = redis_.command({"HMGET", cluster_key(prefix, id), "service_id", "merged_into"});
  if (!r.ok()) {
    return redis_failed<owner_t>(r.error);
  }
  const auto& f = r.value->elements;
  if (f.size() != 2) {
    return redis_done(owner_t{});
  }
  return redis_done(owner_t{text(f[0]), text(f[1])});
}

redis_result<std::vector<std::optional<std::string>>> cluster_store::services_of(
    const std::string& prefix, const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    keys.push_back(cluster_key(prefix, id));
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& k : keys) {
    cmds.push_back({"HGET", k, "service_id"});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<std::vector<std::optional<std::string>>>(r.error);
  }
  std::vector<std::optional<std::string>> out;
  for (const auto& v : *r.value) {
    out.push_back(text(v));
  }
  return redis_done(std::move(out));
}

namespace {

// The status write and its history entry, in one pipeline. The event has the same JSON shape as
// the ones cluster_apply.lua pushes (every value a string).
redis_result<bool> write_status(redis_client& redis, const std::string& prefix,
                                const std::string& id, const std::string& status,
                                const std::string& event_type, const std::string& at_field,
                                int64_t now_ms) {
  const std::string now = std::to_string(now_ms);
  const std::string key = cluster_key(prefix, id);
  const std::string events = cluster_events_key(prefix, id);
  std::string event;
  json_object_writer o(event);
  o.string("type", event_type).string("cluster_id", id).string("at_ms", now);
  o.close();
  // The resolved index (retention.resolved_clusters) follows the status; a regression takes the
  // cluster out again inside cluster_apply.lua.
  const std::string resolved = clusters_resolved_key(prefix);
  std::vector<std::string_view> index;
  if (status == "resolved") {
    index = {"ZADD", resolved, now, id};
  } else {
    index = {"ZREM", resolved, id};
  }
  auto r = redis.pipeline({{"HSET", key, "status", status, at_field, now},
                           index,
                           {"LPUSH", events, event},
                           {"LTRIM", events, "0", "99"}});
  if (!r.ok()) {
    return redis_failed<bool>(r.error);
  }
  return redis_done(true);
}

}  // namespace

redis_result<bool> cluster_store::mark_resolved(const std::string& prefix, const std::string& id,
                                                int64_t now_ms) {
  return write_status(redis_, prefix, id, "resolved", "resolved", "resolved_at_ms", now_ms);
}

redis_result<bool> cluster_store::mark_reopened(const std::string& prefix, const std::string& id,
                                                int64_t now_ms) {
  return write_status(redis_, prefix, id, "open", "reopened", "reopened_at_ms", now_ms);
}

redis_result<merge_outcome> cluster_store::merge(const std::string& prefix, const std::string& id,
                                                 const std::string& into, int64_t now_ms,
                                                 int64_t samples, bool cross) {
  static const std::string sha1 = script_sha1(cluster_merge_lua);
  const std::string events = events_stream_key(prefix);
  const std::string now_text = std::to_string(now_ms);
  const std::string keep = std::to_string(samples);
  auto r = redis_.eval(cluster_merge_lua, sha1, {events},
                       {prefix, id, into, now_text, keep, cross ? "1" : "0"});
  if (!r.ok()) {
    return redis_failed<merge_outcome>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 4) {
    return redis_failed<merge_outcome>(redis_error{"unexpected reply from the merge script"});
  }
  merge_outcome out;
  if (v.elements[0].str != "ok") {
    out.status = std::atoi(v.elements[1].str.c_str());
    out.code = v.elements[2].str;
    out.message = v.elements[3].str;
    return redis_done(std::move(out));
  }
  out.merged = true;
  out.target = v.elements[1].str;
  out.count = std::atoll(v.elements[2].str.c_str());
  out.moved = std::atoll(v.elements[3].str.c_str());
  return redis_done(std::move(out));
}

}  // namespace luffy
