#include "storage/notifier_store.hpp"

#include "storage/keys.hpp"

namespace luffy {

namespace {

// KEYS[1] lease; ARGV[1] node, ARGV[2] ttl ms. 1: held by the node now.
const std::string kHoldLease = R"lua(
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// KEYS[1] lease; ARGV[1] node.
const std::string kReleaseLease = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

// KEYS[1] lease, KEYS[2] cursor; ARGV[1] node, ARGV[2] id. The lease is the fence.
const std::string kStoreCursor = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
)lua";

const std::string kHoldLeaseSha = script_sha1(kHoldLease);
const std::string kReleaseLeaseSha = script_sha1(kReleaseLease);
const std::string kStoreCursorSha = script_sha1(kStoreCursor);

redis_result<bool> flag(redis_result<redis_value> r) {
  if (!r.ok()) {
    return redis_failed<bool>(r.error);
  }
  if (r.value->type == redis_value::kind::error) {
    return redis_failed<bool>(redis_error{r.value->str});
  }
  return redis_done(r.value->integer == 1);
}

}  // namespace

redis_result<bool> notifier_store::hold_lease(const std::string& prefix, const std::string& node,
                                              int64_t ttl_ms) {
  const std::string key = notifier_lease_key(prefix);
  const std::string ttl = std::to_string(ttl_ms);
  return flag(redis_.eval(kHoldLease, kHoldLeaseSha, {key}, {node, ttl}));
}

redis_result<bool> notifier_store::release_lease(const std::string& prefix,
                                                 const std::string& node) {
  const std::string key = notifier_lease_key(prefix);
  return flag(redis_.eval(kReleaseLease, kReleaseLeaseSha, {key}, {node}));
}

redis_result<std::string> notifier_store::cursor(const std::string& prefix) {
  auto r = redis_.command({"GET", notifier_cursor_key(prefix)});
  if (!r.ok()) {
    return redis_failed<std::string>(r.error);
  }
  if (r.value->type == redis_value::kind::error) {
    return redis_failed<std::string>(redis_error{r.value->str});
  }
  return redis_done(r.value->type == redis_value::kind::string ? r.value->str : std::string());
}

redis_result<std::string> notifier_store::stream_end(const std::string& prefix) {
  auto r = redis_.command({"XREVRANGE", events_stream_key(prefix), "+", "-", "COUNT", "1"});
  if (!r.ok()) {
    return redis_failed<std::string>(r.error);
  }
  if (r.value->type == redis_value::kind::error) {
    return redis_failed<std::string>(redis_error{r.value->str});
  }
  if (r.value->elements.empty() || r.value->elements[0].elements.empty()) {
    return redis_done(std::string("0-0"));
  }
  return redis_done(r.value->elements[0].elements[0].str);
}

redis_result<bool> notifier_store::store_cursor(const std::string& prefix, const std::string& node,
                                                const std::string& id) {
  const std::string lease = notifier_lease_key(prefix);
  const std::string cursor = notifier_cursor_key(prefix);
  return flag(redis_.eval(kStoreCursor, kStoreCursorSha, {lease, cursor}, {node, id}));
}

redis_result<std::vector<notification_event>> notifier_store::read_after(const std::string& prefix,
                                                                         const std::string& after,
                                                                         int64_t count) {
  using events = std::vector<notification_event>;
  const std::string key = events_stream_key(prefix);
  const std::string n = std::to_string(count);
  auto r = redis_.command({"XREAD", "COUNT", n, "STREAMS", key, after});
  if (!r.ok()) {
    return redis_failed<events>(r.error);
  }
  if (r.value->type == redis_value::kind::error) {
    return redis_failed<events>(redis_error{r.value->str});
  }
  events out;
  // [[stream, [[id, [field, value, ...]], ...]]], or nil when nothing is newer.
  for (const auto& stream : r.value->elements) {
    if (stream.elements.size() < 2) {
      continue;
    }
    for (const auto& entry : stream.elements[1].elements) {
      if (entry.elements.size() < 2) {
        continue;
      }
      std::vector<std::pair<std::string, std::string>> kv;
      const auto& f = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        kv.emplace_back(f[i].str, f[i + 1].str);
      }
      out.push_back(event_from_fields(entry.elements[0].str, kv));
    }
  }
  return redis_done(std::move(out));
}

}  // namespace luffy
