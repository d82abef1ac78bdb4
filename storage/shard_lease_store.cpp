#include "storage/shard_lease_store.hpp"

#include <charconv>

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

const std::string& heartbeat_sha() {
  static const std::string sha = script_sha1(node_heartbeat_lua);
  return sha;
}
const std::string& acquire_sha() {
  static const std::string sha = script_sha1(shard_lease_acquire_lua);
  return sha;
}
const std::string& renew_sha() {
  static const std::string sha = script_sha1(shard_lease_renew_lua);
  return sha;
}

}  // namespace

shard_lease shard_lease::parse(std::string value) {
  shard_lease out;
  const auto a = value.find(':');
  const auto b = a == std::string::npos ? a : value.find(':', a + 1);
  if (b != std::string::npos) {
    const char* p = value.data();
    const auto e = std::from_chars(p, p + a, out.epoch);
    const auto s = std::from_chars(p + a + 1, p + b, out.since_ms);
    if (e.ec == std::errc() && e.ptr == p + a && s.ec == std::errc() && s.ptr == p + b) {
      out.node = value.substr(b + 1);
    } else {
      out.epoch = 0;
      out.since_ms = 0;
    }
  }
  out.value = std::move(value);
  return out;
}

redis_result<deployment_view> shard_lease_store::heartbeat(const std::string& prefix,
                                                           const std::string& node,
                                                           heartbeat_mode mode, int64_t node_ttl_ms,
                                                           uint32_t shards) {
  std::vector<std::string> keys{nodes_key(prefix)};
  for (uint32_t s = 0; s < shards; ++s) {
    keys.push_back(shard_lease_key(prefix, s));
  }
  const std::string ttl = std::to_string(node_ttl_ms);
  const char* how = mode == heartbeat_mode::join    ? "join"
                    : mode == heartbeat_mode::leave ? "leave"
                                                    : "observe";
  auto r = redis_.eval(node_heartbeat_lua, heartbeat_sha(),
                       std::vector<std::string_view>(keys.begin(), keys.end()), {node, ttl, how});
  if (!r.ok()) {
    return redis_failed<deployment_view>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 3 ||
      v.elements[1].type != redis_value::kind::array ||
      v.elements[2].type != redis_value::kind::array || v.elements[2].elements.size() != shards) {
    return redis_failed<deployment_view>({"node_heartbeat: unexpected reply " + v.str});
  }
  deployment_view out;
  out.now_ms = v.elements[0].integer;
  for (const auto& n : v.elements[1].elements) {
    out.live.push_back(n.str);
  }
  for (const auto& l : v.elements[2].elements) {
    out.leases.push_back(l.type == redis_value::kind::string ? shard_lease::parse(l.str)
                                                             : shard_lease{});
  }
  redis_result<deployment_view> res;
  res.value = std::move(out);
  return res;
}

redis_result<lease_claim> shard_lease_store::acquire(const std::string& prefix, uint32_t shard,
                                                     const std::string& node, int64_t ttl_ms) {
  const std::string lease = shard_lease_key(prefix, shard), epoch = shard_epoch_key(prefix, shard);
  const std::string ttl = std::to_string(ttl_ms);
  auto r = redis_.eval(shard_lease_acquire_lua, acquire_sha(), {lease, epoch}, {node, ttl});
  if (!r.ok()) {
    return redis_failed<lease_claim>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 2) {
    return redis_failed<lease_claim>({"shard_lease_acquire: unexpected reply " + v.str});
  }
  redis_result<lease_claim> out;
  out.value.emplace();
  out.value->taken = v.elements[0].integer == 1;
  out.value->lease = shard_lease::parse(v.elements[1].str);
  return out;
}

redis_result<std::vector<bool>> shard_lease_store::renew(
    const std::string& prefix, const std::vector<std::pair<uint32_t, std::string>>& held,
    int64_t ttl_ms) {
  redis_result<std::vector<bool>> out;
  if (held.empty()) {
    out.value.emplace();
    return out;
  }
  std::vector<std::string> keys;
  std::vector<std::string_view> args;
  const std::string ttl = std::to_string(ttl_ms);
  args.push_back(ttl);
  for (const auto& [shard, value] : held) {
    keys.push_back(shard_lease_key(prefix, shard));
    args.push_back(value);
  }
  auto r = redis_.eval(shard_lease_renew_lua, renew_sha(),
                       std::vector<std::string_view>(keys.begin(), keys.end()), args);
  if (!r.ok()) {
    return redis_failed<std::vector<bool>>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != held.size()) {
    return redis_failed<std::vector<bool>>({"shard_lease_renew: unexpected reply " + v.str});
  }
  out.value.emplace();
  for (const auto& e : v.elements) {
    out.value->push_back(e.integer == 1);
  }
  return out;
}

}  // namespace luffy
