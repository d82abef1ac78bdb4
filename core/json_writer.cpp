#include "core/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

namespace luffy {

namespace {

// True when one of the 8 bytes of `w` must be escaped: below 0x20, '"' or '\\' (SWAR, as in
// "Bit Twiddling Hacks": has-less-than and has-zero-byte on the XORed word).
inline bool needs_escape(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  const uint64_t below_space = (w - ones * 0x20) & ~w;
  const uint64_t q = w ^ (ones * '"');
  const uint64_t b = w ^ (ones * '\\');
  const uint64_t quote = (q - ones) & ~q;
  const uint64_t backslash = (b - ones) & ~b;
  return ((below_space | quote | backslash) & highs) != 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

void append_json_escaped(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.reserve(out.size() + s.size());
  size_t run_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    // Skip 8 clean bytes at a time; most log text has nothing to escape.
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!needs_escape(w)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
    ++i;
  }
  out.append(s.data() + run_start, s.size() - run_start);
}

void append_json_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_string_array(std::string& out, const std::vector<std::string>& items) {
  json_array_writer a(out);
  for (const auto& item : items) {
    a.string(item);
  }
  a.close();
}

void append_json_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no NaN/Infinity
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  // The shortest form of a large double can be a plain integer beyond 64 bits
  // ("35910199341795508224"), which JSON parsers (simdjson) refuse: the journal would then hold
  // a record it cannot read back. Such values are written in exponent form.
  if (std::abs(v) >= 9e18 &&
      std::string_view(buf, r.ptr - buf).find_first_of(".eE") == std::string_view::npos) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  }
  out.append(buf, r.ptr);
}

}  // namespace luffy
