#include "storage/dead_letter_store.hpp"

#include "storage/keys.hpp"
#include "storage/scripts.hpp"
#include "storage/stream_page.hpp"

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
  return read_stream_page(redis_, dead_letter_stream_key(prefix), before, limit);
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
