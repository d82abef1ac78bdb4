#pragma once
// stop_guard: runs a stop action when it leaves scope. serve() declares one right after each part
// it starts, so the parts stop in the reverse order of their start on every way out (a normal
// SIGTERM, or a failed start of a later part) without nested scopes.
#include <utility>

namespace luffy {

template <class Stop>
class stop_guard {
 public:
  explicit stop_guard(Stop stop) : stop_(std::move(stop)) {}
  ~stop_guard() { stop_(); }
  stop_guard(const stop_guard&) = delete;
  stop_guard& operator=(const stop_guard&) = delete;

 private:
  Stop stop_;
};

}  // namespace luffy
