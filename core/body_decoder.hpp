#pragma once
// Decodes a request body into records. Every shape Fluent Bit's http output sends is accepted:
//   json         a JSON array of flat objects ("Format json")
//   json_lines   newline-delimited objects ("Format json_lines", application/x-ndjson)
//   json_stream  objects back to back with no separator, sent as application/json
//   envelope     the Luffy envelope {"logs": [ {...}, ... ]}
//   single       one JSON object (POST /api/v1/ingest/logs/single)
//   msgpack      Fluent Bit events [[EventTime, {meta}], {record}] or [time, {record}], any widths
//
// Contract: a body that cannot be decoded at all yields `decode_error::malformed` with a message
// naming where (byte offset, line or record index); a body with more than `max_records` records
// yields `too_many_records`. Otherwise every record is either in `records` (with its position in
// the body in `source_index`) or named in `errors`; `received` counts both. Invalid UTF-8 is
// replaced with U+FFFD, never rejected. The body may be modified in place (padding, repair).
// Not thread-safe: one decoder per thread/actor (it reuses parser buffers between calls).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "core/record_builder.hpp"

namespace luffy {

enum class media_type { json, ndjson, msgpack };

// Maps a Content-Type header to a media type; nullopt means 415. An empty header is treated as
// JSON (curl without -H). Parameters such as "; charset=utf-8" are ignored.
std::optional<media_type> media_type_from_content_type(std::string_view content_type);

enum class body_format { json, json_lines, json_stream, envelope, single, msgpack };
const char* to_string(body_format f);

enum class decode_error { none, malformed, too_many_records };

struct record_error {
  uint32_t index = 0;
  std::string reason;
};

struct decode_result {
  decode_error error = decode_error::none;
  std::string message;  // set when error != none
  body_format format = body_format::json;
  std::vector<log_record> records;
  std::vector<uint32_t> source_index;  // position of records[i] in the body
  std::vector<record_error> errors;
  size_t received = 0;
};

class body_decoder {
 public:
  body_decoder();
  ~body_decoder();
  body_decoder(const body_decoder&) = delete;
  body_decoder& operator=(const body_decoder&) = delete;

  // `single` requires exactly one JSON object.
  decode_result decode(std::string& body, media_type type, const decode_options& opt,
                       bool single = false);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace luffy
