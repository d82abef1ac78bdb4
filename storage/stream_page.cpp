#include "storage/stream_page.hpp"

#include <utility>

namespace luffy {

redis_result<dead_letter_page> read_stream_page(redis_client& redis, const std::string& key,
                                                const std::string& before, int64_t limit) {
  // One more than asked tells whether older entries follow; "(" makes the cursor exclusive.
  const std::string start = before.empty() ? "+" : "(" + before;
  const std::string count = std::to_string(limit + 1);
  auto r = redis.pipeline({{"XREVRANGE", key, start, "-", "COUNT", count}, {"XLEN", key}});
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
