#include "core/trace_cache.hpp"

#include <xxhash.h>

#include <utility>

namespace luffy {

size_t trace_cache::text_hash::operator()(std::string_view s) const {
  return static_cast<size_t>(XXH3_64bits(s.data(), s.size()));
}

trace_cache::trace_cache(frame_rules rules, size_t capacity)
    : rules_(std::move(rules)), capacity_(capacity) {}

std::shared_ptr<const std::optional<exception_info>> trace_cache::parse(std::string_view text) {
  if (capacity_ == 0) {
    ++misses_;
    return std::make_shared<const std::optional<exception_info>>(parse_trace(text, rules_));
  }
  if (auto it = young_.find(text); it != young_.end()) {
    ++hits_;
    return it->second;
  }
  entry found;
  if (auto it = old_.find(text); it != old_.end()) {
    ++hits_;
    found = it->second;
    old_.erase(it);
  } else {
    ++misses_;
    found = std::make_shared<const std::optional<exception_info>>(parse_trace(text, rules_));
  }
  if (young_.size() >= capacity_) {
    old_ = std::move(young_);
    young_ = generation{};
  }
  young_.emplace(std::string(text), found);
  return found;
}

}  // namespace luffy
