#include "net/body_watchdog.hpp"

#include <algorithm>
#include <chrono>

namespace luffy {

bool body_overdue(const body_progress& p, const edge_settings& s, bool saturated) {
  const bool complete = p.expected >= 0 && p.read >= p.expected;
  if (complete) {
    return false;
  }
  const double secs = std::chrono::duration<double>(p.elapsed).count();
  const auto streamed = static_cast<double>(std::max<int64_t>(0, p.read - p.prefetched));
  return p.elapsed > s.body_timeout ||
         (saturated && s.min_body_rate > 0 && p.elapsed > kSaturatedGrace &&
          streamed < static_cast<double>(s.min_body_rate) * secs);
}

}  // namespace luffy
