#include "actors/dedup_actor.hpp"

#include <chrono>
#include <memory>

#include "actors/messages.hpp"
#include "storage/dedup_store.hpp"

namespace luffy {

namespace {

struct dedup_state {
  std::unique_ptr<dedup_store> store;
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
  auto r = st.store->stored(st.settings.key_prefix, st.settings.window_seconds, now_s, req.hashes);
  if (!r.ok()) {
    return caf::make_error(caf::sec::runtime_error, "dedup: " + r.error.message);
  }
  v.seen = std::move(*r.value);
  return v;
}

caf::behavior dedup_actor(caf::stateful_actor<dedup_state>* self, dedup_settings settings) {
  self->state.store = std::make_unique<dedup_store>(settings.redis);
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
