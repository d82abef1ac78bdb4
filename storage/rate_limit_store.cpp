#include "storage/rate_limit_store.hpp"

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

namespace {

const std::string& take_sha() {
  static const std::string sha = script_sha1(rate_limit_take_lua);
  return sha;
}

}  // namespace

redis_result<rate_grant> rate_limit_store::take(const std::string& prefix,
                                                const std::string& service, int64_t per_minute,
                                                int64_t capacity, uint64_t want) {
  const std::string key = rate_limit_key(prefix, service);
  const std::string rate = std::to_string(per_minute), cap = std::to_string(capacity),
                    asked = std::to_string(want);
  auto r = redis_.eval(rate_limit_take_lua, take_sha(), {key}, {rate, cap, asked});
  if (!r.ok()) {
    return redis_failed<rate_grant>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.size() != 3 ||
      v.elements[0].type != redis_value::kind::integer || v.elements[0].integer < 0) {
    return redis_failed<rate_grant>(
        {"rate_limit_take: unexpected reply " + (v.type == redis_value::kind::error ? v.str : "")});
  }
  rate_grant g;
  g.granted = static_cast<uint64_t>(v.elements[0].integer);
  g.left = static_cast<double>(v.elements[1].integer) / 1000.0;
  g.wait_ms = v.elements[2].integer;
  return redis_done(g);
}

}  // namespace luffy
