#include "storage/shard_lease_store.hpp"

#include <charconv>
#include <cstdlib>

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
  std::vector<std::string> keys{nodes_key(prefix), rebalance_key(prefix)};
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
  if (v.type != redis_value::kind::array || v.elements.size() != 4 ||
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
  out.rebalance_ms = v.elements[3].integer;
  redis_result<deployment_view> res;
  res.value = std::move(out);
  return res;
}

redis_result<lease_claim> shard_lease_store::acquire(const std::string& prefix, uint32_t shard,
                                                     const std::string& node, int64_t ttl_ms,
                                                     bool adopt) {
  const std::string lease = shard_lease_key(prefix, shard), epoch = shard_epoch_key(prefix, shard);
  const std::string ttl = std::to_string(ttl_ms);
  auto r = redis_.eval(shard_lease_acquire_lua, acquire_sha(), {lease, epoch},
                       {node, ttl, adopt ? "adopt" : ""});
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

redis_result<int64_t> shard_lease_store::request_rebalance(const std::string& prefix) {
  // Redis's clock, like every other time the leases compare with.
  static const std::string script =
      "local t = redis.call('TIME')\n"
      "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
      "redis.call('SET', KEYS[1], now)\n"
      "return now\n";
  static const std::string sha = script_sha1(script);
  const std::string key = rebalance_key(prefix);
  auto r = redis_.eval(script, sha, {key}, {});
  if (!r.ok()) {
    return redis_failed<int64_t>(r.error);
  }
  if (r.value->type != redis_value::kind::integer) {
    return redis_failed<int64_t>({"rebalance: unexpected reply " + r.value->str});
  }
  return redis_done(r.value->integer);
}

redis_result<deployment_overview> shard_lease_store::overview(const std::string& prefix,
                                                              uint32_t shards) {
  const std::string nodes = nodes_key(prefix);
  std::vector<std::string> keys;
  for (uint32_t s = 0; s < shards; ++s) {
    keys.push_back(shard_lease_key(prefix, s));
  }
  std::vector<std::string> streams;
  for (uint32_t s = 0; s < shards; ++s) {
    streams.push_back(journal_stream_key(prefix, s));
  }
  std::vector<std::vector<std::string_view>> cmds;
  cmds.push_back({"TIME"});
  cmds.push_back({"ZRANGE", nodes, "0", "-1", "WITHSCORES"});
  std::vector<std::string_view> mget{"MGET"};
  mget.insert(mget.end(), keys.begin(), keys.end());
  if (shards > 0) {
    cmds.push_back(mget);
  }
  for (const auto& st : streams) {
    cmds.push_back({"XLEN", st});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<deployment_overview>(r.error);
  }
  const auto& v = *r.value;
  auto bad = [&](const char* what) {
    return redis_failed<deployment_overview>({std::string("shard overview: unexpected ") + what});
  };
  if (v.size() != cmds.size() || v[0].elements.size() != 2) {
    return bad("reply count");
  }
  deployment_overview out;
  out.now_ms = std::strtoll(v[0].elements[0].str.c_str(), nullptr, 10) * 1000 +
               std::strtoll(v[0].elements[1].str.c_str(), nullptr, 10) / 1000;
  const auto& z = v[1].elements;
  for (size_t i = 0; i + 1 < z.size(); i += 2) {
    out.nodes.emplace_back(z[i].str, std::strtoll(z[i + 1].str.c_str(), nullptr, 10));
  }
  if (shards > 0) {
    if (v[2].elements.size() != shards) {
      return bad("lease count");
    }
    for (const auto& l : v[2].elements) {
      out.leases.push_back(l.type == redis_value::kind::string ? shard_lease::parse(l.str)
                                                               : shard_lease{});
    }
    for (size_t i = 3; i < v.size(); ++i) {
      out.journal_entries.push_back(v[i].integer);
    }
  }
  return redis_done(std::move(out));
}

redis_result<shard_count_claim> shard_lease_store::claim_shard_count(const std::string& prefix,
                                                                     int64_t shards) {
  const std::string key = shard_count_key(prefix), value = std::to_string(shards);
  auto r = redis_.pipeline({{"SET", key, value, "NX"}, {"GET", key}});
  if (!r.ok()) {
    return redis_failed<shard_count_claim>(r.error);
  }
  const auto& got = (*r.value)[1];
  if (got.type != redis_value::kind::string) {
    return redis_failed<shard_count_claim>({"shard count: unexpected reply " + got.str});
  }
  shard_count_claim c;
  c.recorded = std::strtoll(got.str.c_str(), nullptr, 10);
  c.agreed = got.str == value;
  return redis_done(c);
}

redis_result<bool> shard_lease_store::advertise(const std::string& prefix, const std::string& node,
                                                const std::string& address,
                                                const std::string& fingerprint, int64_t ttl_ms) {
  const std::string key = node_key(prefix, node), ttl = std::to_string(ttl_ms);
  auto r = redis_.pipeline(
      {{"HSET", key, "address", address, "fingerprint", fingerprint}, {"PEXPIRE", key, ttl}});
  if (!r.ok()) {
    return redis_failed<bool>(r.error);
  }
  return redis_done(true);
}

redis_result<std::vector<node_address>> shard_lease_store::addresses(
    const std::string& prefix, const std::vector<std::string>& nodes) {
  std::vector<node_address> out;
  if (nodes.empty()) {
    return redis_done(std::move(out));
  }
  std::vector<std::string> keys;
  for (const auto& n : nodes) {
    keys.push_back(node_key(prefix, n));
  }
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& k : keys) {
    cmds.push_back({"HMGET", k, "address", "fingerprint"});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) {
    return redis_failed<std::vector<node_address>>(r.error);
  }
  for (const auto& v : *r.value) {
    node_address a;
    if (v.type == redis_value::kind::array && v.elements.size() == 2) {
      a.address = v.elements[0].str;
      a.fingerprint = v.elements[1].str;
    }
    out.push_back(std::move(a));
  }
  return redis_done(std::move(out));
}

}  // namespace luffy
