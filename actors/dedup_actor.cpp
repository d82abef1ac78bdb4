#include "actors/dedup_actor.hpp"

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "core/record_hash.hpp"
#include "storage/keys.hpp"

namespace luffy {

namespace {

struct dedup_state {
  std::unique_ptr<redis_client> redis;
  dedup_settings settings;
  static inline const char* name = "dedup_actor";
};

caf::result<dedup_verdict> check(dedup_state& st, const dedup_check& req) {
  dedup_verdict v;
  v.seen.assign(req.hashes.size(), 0);
  if (req.hashes.empty()) {
    return v;
  }
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const int64_t gen = dedup_generation(now_s, st.settings.window_seconds);
  const std::string cur = dedup_set_key(st.settings.key_prefix, gen);
  const std::string prev = dedup_set_key(st.settings.key_prefix, gen - 1);
  std::vector<std::string> members;
  members.reserve(req.hashes.size());
  for (const auto& h : req.hashes) {
    members.push_back(to_bytes(h));
  }
  std::vector<std::string_view> a{"SMISMEMBER", cur};
  std::vector<std::string_view> b{"SMISMEMBER", prev};
  for (const auto& m : members) {
    a.push_back(m);
    b.push_back(m);
  }
  auto r = st.redis->pipeline({a, b});
  if (!r.ok()) {
    return caf::make_error(caf::sec::runtime_error, "dedup: " + r.error.message);
  }
  for (const auto& reply : *r.value) {
    if (reply.type != redis_value::kind::array || reply.elements.size() != members.size()) {
      return caf::make_error(caf::sec::runtime_error, "dedup: unexpected reply: " + reply.str);
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (reply.elements[i].integer == 1) {
        v.seen[i] = 1;
      }
    }
  }
  return v;
}

caf::behavior dedup_actor(caf::stateful_actor<dedup_state>* self, dedup_settings settings) {
  self->state.redis = std::make_unique<redis_client>(settings.redis);
  self->state.settings = std::move(settings);
  return {
      [=](const dedup_check& req) -> caf::result<dedup_verdict> { return check(self->state, req); },
  };
}

}  // namespace

caf::actor spawn_dedup_actor(caf::actor_system& sys, dedup_settings settings) {
  return sys.spawn<caf::detached>(dedup_actor, std::move(settings));
}

}  // namespace luffy
