#pragma once
// Encoding of a journal entry's `records` field.
//
// The payload is the shard's records as newline-separated JSON (core/record_json.hpp). With
// `zstd` it is one zstd frame of that text (level 1: ~600 MB/s, ~8x smaller on real error logs),
// which cuts what Redis copies, keeps in memory and appends to its AOF by the same factor: that
// copying, not the Lua, is Redis' main cost per record. The entry's `enc` field names the encoding
// ("json" or "zstd") so readers never guess.
#include <optional>
#include <string>
#include <string_view>

namespace luffy {

enum class journal_encoding { json, zstd };

const char* to_string(journal_encoding e);
std::optional<journal_encoding> journal_encoding_from(std::string_view name);

std::string encode_payload(std::string_view json_lines, journal_encoding e);
// nullopt when the data is corrupt or larger than max_bytes once decoded.
std::optional<std::string> decode_payload(std::string_view data, journal_encoding e,
                                          size_t max_bytes = size_t{1} << 31);

}  // namespace luffy
