#include "core/record_json.hpp"

#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "core/record_hash.hpp"

namespace luffy {

namespace {

// Optional fields are left out when empty.
void field(json_object_writer& o, std::string_view key, const std::string& value) {
  if (!value.empty()) {
    o.string(key, value);
  }
}

}  // namespace

void append_record_json(std::string& out, const log_record& r, const record_hash& h) {
  json_object_writer o(out);
  o.string("id", to_hex(h))
      .string("timestamp", format_time_iso8601(r.timestamp_us))
      .integer("timestamp_us", r.timestamp_us)
      .string("level", r.level)
      .string("service_id", r.service_id)
      .string("message", r.message);
  field(o, "logger", r.logger);
  field(o, "exception_type", r.exception_type);
  field(o, "exception_message", r.exception_message);
  field(o, "stack_trace", r.stack_trace);
  field(o, "service_name", r.service_name);
  field(o, "environment", r.environment);
  field(o, "hostname", r.hostname);
  field(o, "file_path", r.file_path);
  if (r.truncated) {
    o.boolean("truncated", true);
  }
  if (r.metadata_json.size() > 2) {
    o.raw("metadata", r.metadata_json);
  }
  o.close();
}

}  // namespace luffy
