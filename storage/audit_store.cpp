#include "storage/audit_store.hpp"

#include "storage/keys.hpp"

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
  const std::string key = audit_stream_key(prefix);
  // One more than asked tells whether older entries follow; "(" makes the cursor exclusive.
  const std::string start = before.empty() ? "+" : "(" + before;
  const std::string count = std::to_string(limit + 1);
  auto r = redis_.pipeline({{"XREVRANGE", key, start, "-", "COUNT", count}, {"XLEN", key}});
  if (!r.ok()) {
    return redis_failed<dead_letter_page>(r.error);
  }
  const auto& v = *r.value;
  if (v[0].type == redis_value::kind::error) {
    return redis_failed<dead_letter_page>(redis_error{v[0].str});
  }
  dead_letter_page out;
  out.total = v[1].integer;
  for (const auto& e : v[0].elements) {
    if (static_cast<int64_t>(out.letters.size()) == limit) {
      out.more = true;
      break;
    }
    if (e.elements.size() != 2) {
      continue;
    }
    dead_letter_item d;
    d.id = e.elements[0].str;
    const auto& f = e.elements[1].elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      d.fields.emplace_back(f[i].str, f[i + 1].str);
    }
    out.letters.push_back(std::move(d));
  }
  return redis_done(std::move(out));
}

}  // namespace luffy
