#include "storage/dead_letter_store.hpp"

#include "storage/keys.hpp"
#include "storage/scripts.hpp"

namespace luffy {

const std::string* dead_letter_item::field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) {
      return &v;
    }
  }
  return nullptr;
}

bool dead_letter_item::retryable() const {
  const auto* source = field("source");
  return source != nullptr && *source == "cluster_shard" && field("record") == nullptr &&
         field("records") != nullptr && field("stream") != nullptr;
}

bool is_stream_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) {
    return false;
  }
  auto digits = [](std::string_view s) {
    if (s.empty() || s.size() > 20) {
      return false;
    }
    for (char c : s) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  };
  return digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

redis_result<dead_letter_page> dead_letter_store::page(const std::string& prefix,
                                                       const std::string& before, int64_t limit) {
  const std::string dlq = dead_letter_stream_key(prefix);
  // One more than asked tells whether older entries follow; "(" makes the cursor exclusive.
  const std::string start = before.empty() ? "+" : "(" + before;
  const std::string count = std::to_string(limit + 1);
  auto r = redis_.pipeline({{"XREVRANGE", dlq, start, "-", "COUNT", count}, {"XLEN", dlq}});
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

redis_result<retry_outcome> dead_letter_store::retry(const std::string& prefix,
                                                     const std::string& id) {
  static const std::string sha1 = script_sha1(dead_letter_retry_lua);
  // Every journal stream of the prefix starts with this (journal_stream_key(prefix, n)).
  std::string journal_prefix = journal_stream_key(prefix, 0);
  journal_prefix.pop_back();
  auto r = redis_.eval(dead_letter_retry_lua, sha1, {dead_letter_stream_key(prefix)},
                       {id, journal_prefix});
  if (!r.ok()) {
    return redis_failed<retry_outcome>(r.error);
  }
  const auto& v = *r.value;
  if (v.type != redis_value::kind::array || v.elements.empty()) {
    return redis_failed<retry_outcome>(redis_error{"unexpected reply from the retry script"});
  }
  retry_outcome out;
  const auto& what = v.elements[0].str;
  if (what == "requeued" && v.elements.size() == 3) {
    out.result = retry_outcome::kind::requeued;
    out.new_id = v.elements[1].str;
    out.stream = v.elements[2].str;
  } else if (what == "not_retryable") {
    out.result = retry_outcome::kind::not_retryable;
    out.reason = v.elements.size() > 1 ? v.elements[1].str : "";
  }
  return redis_done(std::move(out));
}

}  // namespace luffy
