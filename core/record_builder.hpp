#pragma once
// Maps one decoded record's fields (from JSON or msgpack) onto log_record.
//
// Field rules (docs/CONFIGURATION.md "Record fields"):
//  - message: `message`, else `log` (Fluent Bit's key for raw lines), else `msg`; the losers are
//    kept in metadata. A record with none of them is invalid ("no message").
//  - event time: the record's own `timestamp` wins over the agent's date key (`date` by default,
//    which Fluent Bit often fills with the read time); with neither, the receive time. An
//    unparseable `timestamp` makes the record invalid; an unparseable date key is ignored.
//  - service: `service_id`, else `service`; the caller applies the token's default afterwards.
//  - level is upper-cased (WARNING -> WARN); absent means UNKNOWN.
//  - `metadata` (an object) and every unknown field go to metadata_json: at most max_fields of
//    them (the rest are dropped, setting `truncated`; the known fields above are read wherever
//    they come), each name cut to max_key_bytes on a UTF-8 boundary.
//  - a `timestamp` that is neither a string nor a number (true, an object...) is unparseable;
//    null counts as absent.
//  - message and stack_trace are cut at their limits on a UTF-8 boundary, setting `truncated`.
// Values that are not strings where strings are expected are rendered as JSON text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/record.hpp"

namespace luffy {

struct decode_options {
  std::string date_key = "date";
  size_t max_records = 100000;
  size_t max_message_bytes = 64 * 1024;
  size_t max_stack_trace_bytes = 256 * 1024;
  size_t max_field_bytes = 16 * 1024;  // any other string field
  size_t max_fields = 512;             // metadata fields per record (more are dropped)
  size_t max_key_bytes = 256;          // a metadata field name (longer ones are cut)
  // All metadata of one record, as stored: fields past it are dropped (the record is marked
  // truncated), so one record stores at most max_message_bytes + max_stack_trace_bytes + this +
  // its known fields (service, level, host, ... each cut at 256 bytes).
  size_t max_metadata_bytes = 64 * 1024;
  size_t max_depth = 32;  // nesting inside metadata values
  int64_t now_us = 0;     // receive time, used when a record carries no time
};

class record_builder {
 public:
  explicit record_builder(const decode_options& opt) : opt_(opt) {}

  void reset();
  // A string value. `key` is the field name.
  void on_string(std::string_view key, std::string_view value);
  // A number (JSON number or msgpack int/float).
  void on_double(std::string_view key, double value);
  void on_integer(std::string_view key, int64_t value);
  // EventTime from the msgpack header (lower priority than `timestamp`, like the date key).
  void on_agent_time(int64_t us) { agent_time_us_ = us; }
  // Any other value already rendered as JSON text (objects, arrays, bools, null).
  void on_raw(std::string_view key, std::string_view raw_json);
  // One member of the record's "metadata" object, rendered as JSON: merged into the record's
  // metadata under its own name, never read as a known field. Bounded like any other field: the
  // name is cut at max_key_bytes, it counts toward max_fields, a value over 4 x max_field_bytes
  // is replaced by a marker.
  void on_metadata_field(std::string_view key, std::string_view raw_json);

  // Finishes the record. Returns the reason when the record is invalid.
  std::optional<std::string> finish(log_record& out);

 private:
  void add_metadata(std::string_view key, std::string_view raw_json);
  void add_metadata_string(std::string_view key, std::string_view value);
  void set_text(std::string& field, std::string_view value, size_t limit);

  const decode_options& opt_;
  log_record rec_;
  std::string metadata_;
  std::string log_, msg_;
  bool has_message_ = false, has_log_ = false, has_msg_ = false;
  std::optional<int64_t> timestamp_us_, date_us_, agent_time_us_;
  bool timestamp_invalid_ = false;
  std::string bad_timestamp_;
  bool has_service_id_ = false;
  std::string service_;
  size_t fields_ = 0;  // metadata fields seen
};

}  // namespace luffy
