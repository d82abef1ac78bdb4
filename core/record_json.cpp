#include "core/record_json.hpp"

#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "core/record_hash.hpp"

namespace luffy {

namespace {

void field(std::string& out, std::string_view key, const std::string& value) {
  if (value.empty()) {
    return;
  }
  out.push_back(',');
  append_json_key(out, key);
  append_json_string(out, value);
}

}  // namespace

void append_record_json(std::string& out, const log_record& r, const record_hash& h) {
  out += "{\"id\":\"";
  out += to_hex(h);
  out += "\",\"timestamp\":\"";
  out += format_time_iso8601(r.timestamp_us);
  out += "\",\"timestamp_us\":";
  append_json_int(out, r.timestamp_us);
  out += ",\"level\":";
  append_json_string(out, r.level);
  out += ",\"service_id\":";
  append_json_string(out, r.service_id);
  out += ",\"message\":";
  append_json_string(out, r.message);
  field(out, "logger", r.logger);
  field(out, "exception_type", r.exception_type);
  field(out, "exception_message", r.exception_message);
  field(out, "stack_trace", r.stack_trace);
  field(out, "service_name", r.service_name);
  field(out, "environment", r.environment);
  field(out, "hostname", r.hostname);
  field(out, "file_path", r.file_path);
  if (r.truncated) {
    out += ",\"truncated\":true";
  }
  if (r.metadata_json.size() > 2) {
    out += ",\"metadata\":";
    out += r.metadata_json;
  }
  out.push_back('}');
}

}  // namespace luffy
