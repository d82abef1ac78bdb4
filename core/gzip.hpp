#pragma once
// Bounded gzip inflation for request bodies (Content-Encoding: gzip).
//
// Contract: inflates every gzip member of `in` (Fluent Bit sends one; concatenated members are
// legal gzip and are accepted) into `out`, never letting `out` grow past `max_out` bytes, so a
// small "gzip bomb" costs at most `max_out` bytes of memory. `extra_capacity` bytes are reserved
// past the end of `out` (the JSON parser reads padding there). The result says why it failed:
// too_large (over max_out), corrupt (bad header, bad data or CRC), truncated (input ended early).
#include <cstddef>
#include <string>
#include <string_view>

namespace luffy {

enum class inflate_status { ok, too_large, corrupt, truncated };

struct inflate_result {
  inflate_status status = inflate_status::ok;
  std::string message;  // zlib's own words, for the 400 body
};

inflate_result inflate_gzip(std::string_view in, size_t max_out, std::string& out,
                            size_t extra_capacity = 64);

}  // namespace luffy
