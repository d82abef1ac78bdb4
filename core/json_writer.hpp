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
#include <vector>

namespace luffy {

void append_json_string(std::string& out, std::string_view s);

// The escaped text of `s` without the surrounding quotes, for a string written in pieces (a
// caller opens and closes the quotes itself).
void append_json_escaped(std::string& out, std::string_view s);

// `"key":` (with the quotes and colon).
inline void append_json_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out.push_back(':');
}

void append_json_int(std::string& out, int64_t v);
void append_json_uint(std::string& out, uint64_t v);
void append_json_double(std::string& out, double v);
// `["a","b",...]`.
void append_json_string_array(std::string& out, const std::vector<std::string>& items);

// Writes one JSON object into `out`, member by member: '{' when made, ',' between members, '}'
// from close(). A nested object or array is a writer of its own over the same string, made right
// after key() and closed before the next member.
class json_object_writer {
 public:
  explicit json_object_writer(std::string& out) : out_(out) { out_.push_back('{'); }
  // `"k":` (after a ',' unless it is the first member); the caller appends the value next.
  std::string& key(std::string_view k) {
    if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
    append_json_key(out_, k);
    return out_;
  }
  json_object_writer& string(std::string_view k, std::string_view v) {
    append_json_string(key(k), v);
    return *this;
  }
  json_object_writer& integer(std::string_view k, int64_t v) {
    append_json_int(key(k), v);
    return *this;
  }
  json_object_writer& uinteger(std::string_view k, uint64_t v) {
    append_json_uint(key(k), v);
    return *this;
  }
  json_object_writer& number(std::string_view k, double v) {
    append_json_double(key(k), v);
    return *this;
  }
  json_object_writer& boolean(std::string_view k, bool v) {
    key(k) += v ? "true" : "false";
    return *this;
  }
  // `json` is already JSON text (null, a stored object, ...), written as it is.
  json_object_writer& raw(std::string_view k, std::string_view json) {
    key(k) += json;
    return *this;
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

// Writes one JSON array into `out`: '[' when made, ',' between items, ']' from close().
class json_array_writer {
 public:
  explicit json_array_writer(std::string& out) : out_(out) { out_.push_back('['); }
  // The ',' before every item but the first; the caller appends the item next.
  std::string& item() {
    if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
    return out_;
  }
  json_array_writer& string(std::string_view v) {
    append_json_string(item(), v);
    return *this;
  }
  json_array_writer& integer(int64_t v) {
    append_json_int(item(), v);
    return *this;
  }
  void close() { out_.push_back(']'); }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace luffy
