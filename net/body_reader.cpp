#include "net/body_reader.hpp"

#include <algorithm>

namespace luffy {

read_outcome read_whole_body(const std::function<size_t(char*, size_t)>& read, int64_t declared,
                             size_t limit, std::string& body, budget_lease& lease) {
  body.clear();
  if (declared >= 0) {
    body.reserve(static_cast<size_t>(declared) + kBodyPadding);
  }
  constexpr size_t step = 256 * 1024;
  for (;;) {
    const size_t have = body.size();
    // With a declared length: up to one byte past it (sees an overrun; the reserved padding
    // holds it, so the string never reallocates and copies the body).
    const size_t want = declared < 0 ? step
                        : static_cast<size_t>(declared) > have
                            ? std::min(static_cast<size_t>(declared) - have + 1, step)
                            : 1;
    const size_t next = std::min(have + want, limit + 1);
    if (next > body.capacity()) {
      // A chunked body (or one overrunning its length): grow geometrically, as the string would.
      const size_t cap = std::min(std::max(next, body.capacity() * 2), limit + 1) + kBodyPadding;
      if (static_cast<int64_t>(cap) > lease.held() && !lease.hold(static_cast<int64_t>(cap))) {
        return read_outcome::over_budget;
      }
      body.reserve(cap);
    }
    body.resize(next);
    const size_t got = read(body.data() + have, body.size() - have);
    body.resize(have + got);
    if (got == 0) {
      return read_outcome::ok;
    }
    if (body.size() > limit) {
      return read_outcome::too_large;
    }
  }
}

}  // namespace luffy
