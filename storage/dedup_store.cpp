#include "storage/dedup_store.hpp"

#include <string_view>
#include <utility>

#include "storage/keys.hpp"

namespace luffy {

redis_result<std::vector<uint8_t>> dedup_store::stored(const std::string& prefix,
                                                       int64_t window_seconds, int64_t now_s,
                                                       const std::vector<record_hash>& hashes) {
  redis_result<std::vector<uint8_t>> out;
  std::vector<uint8_t> seen(hashes.size(), 0);
  if (hashes.empty()) {
    out.value = std::move(seen);  // SMISMEMBER needs a member
    return out;
  }
  const int64_t gen = dedup_generation(now_s, window_seconds);
  const std::string cur = dedup_set_key(prefix, gen);
  const std::string prev = dedup_set_key(prefix, gen - 1);
  std::vector<std::string> members;
  members.reserve(hashes.size());
  for (const auto& h : hashes) {
    members.push_back(to_bytes(h));
  }
  std::vector<std::string_view> a{"SMISMEMBER", cur};
  std::vector<std::string_view> b{"SMISMEMBER", prev};
  for (const auto& m : members) {
    a.push_back(m);
    b.push_back(m);
  }
  auto r = redis_.pipeline({a, b});
  if (!r.ok()) {
    out.error = std::move(r.error);
    return out;
  }
  for (const auto& reply : *r.value) {
    if (reply.type != redis_value::kind::array || reply.elements.size() != members.size()) {
      out.error.message = "unexpected reply: " + reply.str;
      return out;
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (reply.elements[i].integer == 1) {
        seen[i] = 1;
      }
    }
  }
  out.value = std::move(seen);
  return out;
}

}  // namespace luffy
