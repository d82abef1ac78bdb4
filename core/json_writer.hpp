#pragma once
// Appends JSON text to a std::string. Used on the hot path (journal entries, replies), so it
// writes straight into the caller's buffer with no intermediate allocations.
//
// Contract: `append_json_string` writes a quoted, escaped JSON string; input must be valid UTF-8
// (decoders guarantee it) and is copied byte for byte except for the characters JSON requires to
// be escaped (", \, and control characters below 0x20).
#include <cstdint>
#include <string>
#include <string_view>

namespace luffy {

void append_json_string(std::string& out, std::string_view s);

// `"key":` (with the quotes and colon).
inline void append_json_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out.push_back(':');
}

void append_json_int(std::string& out, int64_t v);
void append_json_uint(std::string& out, uint64_t v);
void append_json_double(std::string& out, double v);

}  // namespace luffy
