#pragma once
// Reading a whole request body into one string, under the in-flight memory budget
// (core/memory_budget.hpp), with no intermediate copy.
//
// Contract: reads at most `limit` + 1 bytes into `body`, from `read` (up to n bytes per call, 0 at
// the end of the body). With a declared length (>= 0) the caller has drawn declared +
// kBodyPadding from `lease` already and the string is reserved once, so it never reallocates
// (reading one byte past the length sees an overrun). A chunked body (declared < 0), or one
// overrunning its length, grows geometrically and draws each growth from `lease` before
// reserving it. Outcomes: ok (the body ended, `body` holds it), too_large (more than `limit`
// bytes), over_budget (a growth could not be drawn; `body` holds what was read so far).
// No I/O of its own.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/memory_budget.hpp"

namespace luffy {

// Spare capacity past the end of a body: simdjson reads up to 64 bytes past it.
inline constexpr size_t kBodyPadding = 64;

enum class read_outcome { ok, too_large, over_budget };

read_outcome read_whole_body(const std::function<size_t(char*, size_t)>& read, int64_t declared,
                             size_t limit, std::string& body, budget_lease& lease);

}  // namespace luffy
