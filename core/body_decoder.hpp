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

// The most memory decoding `body` can take, the body included: what a request charges to the
// in-flight budget (server.max_in_flight_bytes) before it is decoded. For JSON it counts the
// values (the bytes , : [ {, an upper bound of one each): simdjson needs up to 28 bytes per value
// (index and tape), and the string buffer and the records built from it are up to one more copy of
// the body; so log-shaped JSON (a value per ~50 bytes) costs ~2.6x its size, while dense JSON
// ([0,0,0,...]) costs 14x and is refused whole when it cannot fit. msgpack is decoded one event
// at a time with a bounded number of values per event (core/msgpack_decoder.cpp), so it costs the
// body, the records, and one event's objects. One pass over the body, vectorised.
size_t decode_memory_bound(std::string_view body, media_type type);

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

  // Ends a record: the builder's finished record at body position `index` goes to `records`, or
  // the reason finish() rejected it to `errors`. The JSON and msgpack decoders both end here.
  void add_record(record_builder& builder, uint32_t index);
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

  // simdjson keeps its buffers at the largest document it has parsed (about 14x the body in
  // address space, most of it touched for dense JSON). After a body larger than this the decoder
  // gives them back, so one 60 MB body does not pin hundreds of MB per parser actor for good;
  // bodies up to it (Fluent Bit sends ~2 MB) reuse the buffers as before.
  static constexpr size_t keep_buffers_up_to = 8u << 20;

 private:
  decode_result decode_body(std::string& body, media_type type, const decode_options& opt,
                            bool single);
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace luffy
