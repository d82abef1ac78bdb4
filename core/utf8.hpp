#pragma once
// UTF-8 validation and repair. Agents forward whatever bytes an application wrote; one invalid
// byte must not make a whole batch undecodable, so invalid sequences are replaced with U+FFFD.
#include <cstddef>
#include <string>
#include <string_view>

namespace luffy {

bool is_valid_utf8(std::string_view s);

// Returns `s` with every invalid or truncated sequence replaced by U+FFFD (EF BF BD).
std::string repair_utf8(std::string_view s);

// Largest n <= max_bytes such that s.substr(0, n) does not end inside a multi-byte sequence.
size_t utf8_truncation_point(std::string_view s, size_t max_bytes);

}  // namespace luffy
