#pragma once
// Bounded gzip inflation for request bodies (Content-Encoding: gzip).
//
// Contract: inflates every gzip member of `in` (Fluent Bit sends one; concatenated members are
// legal gzip and are accepted) into `out`, never letting `out` grow past `max_out` bytes, so a
// small "gzip bomb" costs at most `max_out` bytes of memory. `extra_capacity` bytes are reserved
// past the end of `out` (the JSON parser reads padding there). The result says why it failed:
// too_large (over max_out), corrupt (bad header, bad data or CRC), truncated (input ended early),
// over_budget (`may_hold` refused to let `out` grow).
//
// Memory: `out` is sized once from the last member's ISIZE trailer (the inflated size mod 2^32,
// which an honest single-member body states exactly), so an honest body costs one allocation of
// its inflated size and no copy. A body that lies about its size grows `out` geometrically; before
// every allocation `may_hold(bytes)` is asked for the new capacity, so the caller can draw it from
// a memory budget (core/memory_budget.hpp) and refuse the request when the budget is spent.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace luffy {

enum class inflate_status { ok, too_large, corrupt, truncated, over_budget };

struct inflate_result {
  inflate_status status = inflate_status::ok;
  std::string message;  // zlib's own words, for the 400 body
};

inflate_result inflate_gzip(std::string_view in, size_t max_out, std::string& out,
                            size_t extra_capacity = 64,
                            const std::function<bool(size_t)>& may_hold = {});

// The size the last gzip member of `in` says it inflates to (ISIZE, RFC 1952), 0 when `in` is too
// short to be gzip. Only a hint: it is mod 2^32 and a hostile client can write anything there.
size_t gzip_size_hint(std::string_view in);

}  // namespace luffy
