#include "storage/cluster_store.hpp"

#include <algorithm>
#include <cstdlib>

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
    const std::optional<std::vector<std::string>>& services) {
  std::vector<std::string> zsets;
  if (!services) {
    zsets.push_back(clusters_index_key(prefix, sort));
  } else {
    for (const auto& s : *services) {
      zsets.push_back(service_index_key(prefix, s, sort));
    }
  }
  std::vector<std::pair<double, std::string>> ids;
  for (const auto& z : zsets) {
    auto r = redis_.command({"ZREVRANGE", z, "0", "9999", "WITHSCORES"});
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
                    minutes_key = cluster_minutes_key(prefix, id);
  auto r = redis_.pipeline({{"HGETALL", key},
                            {"LRANGE", samples_key, "0", "-1"},
                            {"SMEMBERS", hosts_key},
                            {"SMEMBERS", envs_key},
                            {"HGETALL", minutes_key}});
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

redis_result<bool> cluster_store::mark_resolved(const std::string& prefix, const std::string& id,
                                                int64_t now_ms) {
  auto r = redis_.command({"HSET", cluster_key(prefix, id), "status", "resolved", "resolved_at_ms",
                           std::to_string(now_ms)});
  if (!r.ok()) {
    return redis_failed<bool>(r.error);
  }
  return redis_done(true);
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
