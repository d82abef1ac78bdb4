#include "storage/audit_store.hpp"

#include "storage/keys.hpp"
#include "storage/stream_page.hpp"

namespace luffy {

redis_result<std::string> audit_store::append(const std::string& prefix, const audit_entry& e,
                                              int64_t max_entries) {
  const std::string key = audit_stream_key(prefix);
  const std::string maxlen = std::to_string(max_entries);
  const std::string at = std::to_string(e.at_ms);
  auto r =
      redis_.command({"XADD", key, "MAXLEN", "~", maxlen, "*", "at", at, "actor", e.actor, "action",
                      e.action, "target", e.target, "result", e.result, "client", e.client});
  if (!r.ok()) {
    return redis_failed<std::string>(r.error);
  }
  if (r.value->type == redis_value::kind::error) {
    return redis_failed<std::string>(redis_error{r.value->str});
  }
  return redis_done(r.value->str);
}

redis_result<dead_letter_page> audit_store::page(const std::string& prefix,
                                                 const std::string& before, int64_t limit) {
  return read_stream_page(redis_, audit_stream_key(prefix), before, limit);
}

}  // namespace luffy
