#include "core/record_builder.hpp"

#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "core/utf8.hpp"

namespace luffy {

namespace {

std::string upper_level(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  if (out == "WARNING") {
    return "WARN";
  }
  if (out == "ERR") {
    return "ERROR";
  }
  if (out == "CRITICAL" || out == "CRIT") {
    return "FATAL";
  }
  if (out.empty()) {
    return "UNKNOWN";
  }
  return out;
}

}  // namespace

void record_builder::reset() {
  rec_ = log_record{};
  metadata_.clear();
  log_.clear();
  msg_.clear();
  has_message_ = has_log_ = has_msg_ = false;
  timestamp_us_.reset();
  date_us_.reset();
  agent_time_us_.reset();
  timestamp_invalid_ = false;
  bad_timestamp_.clear();
  has_service_id_ = false;
  service_.clear();
  fields_ = 0;
}

void record_builder::set_text(std::string& field, std::string_view value, size_t limit) {
  if (value.size() > limit) {
    value = value.substr(0, utf8_truncation_point(value, limit));
    rec_.truncated = true;
  }
  field.assign(value);
}

void record_builder::add_metadata(std::string_view key, std::string_view raw_json) {
  if (++fields_ > opt_.max_fields) {
    rec_.truncated = true;  // the record keeps its known fields, without the extra metadata
    return;
  }
  if (key.size() > opt_.max_key_bytes) {
    key = key.substr(0, utf8_truncation_point(key, opt_.max_key_bytes));
    rec_.truncated = true;
  }
  // 6 = the quotes and colon of the key, a comma, the braces.
  if (metadata_.size() + key.size() + raw_json.size() + 6 > opt_.max_metadata_bytes) {
    rec_.truncated = true;
    return;
  }
  if (metadata_.size() > 1) {
    metadata_.push_back(',');
  } else if (metadata_.empty()) {
    metadata_.push_back('{');
  }
  append_json_key(metadata_, key);
  metadata_.append(raw_json);
}

void record_builder::add_metadata_string(std::string_view key, std::string_view value) {
  std::string tmp;
  if (value.size() > opt_.max_field_bytes) {
    value = value.substr(0, utf8_truncation_point(value, opt_.max_field_bytes));
    rec_.truncated = true;
  }
  append_json_string(tmp, value);
  add_metadata(key, tmp);
}

void record_builder::on_string(std::string_view key, std::string_view value) {
  if (key == "message") {
    set_text(rec_.message, value, opt_.max_message_bytes);
    has_message_ = true;
  } else if (key == "log") {
    set_text(log_, value, opt_.max_message_bytes);
    has_log_ = true;
  } else if (key == "msg") {
    set_text(msg_, value, opt_.max_message_bytes);
    has_msg_ = true;
  } else if (key == "timestamp") {
    timestamp_us_ = parse_time_string(value);
    if (!timestamp_us_) {
      timestamp_invalid_ = true;
      bad_timestamp_.assign(value.substr(0, utf8_truncation_point(value, 64)));
    }
  } else if (key == opt_.date_key) {
    date_us_ = parse_time_string(value);
  } else if (key == "level" || key == "severity") {
    rec_.level = upper_level(value.substr(0, utf8_truncation_point(value, 32)));
  } else if (key == "stack_trace") {
    set_text(rec_.stack_trace, value, opt_.max_stack_trace_bytes);
  } else if (key == "service_id") {
    set_text(rec_.service_id, value, 256);
    has_service_id_ = true;
  } else if (key == "service") {
    set_text(service_, value, 256);
  } else if (key == "logger") {
    set_text(rec_.logger, value, opt_.max_field_bytes);
  } else if (key == "exception_type") {
    set_text(rec_.exception_type, value, opt_.max_field_bytes);
  } else if (key == "exception_message") {
    set_text(rec_.exception_message, value, opt_.max_message_bytes);
  } else if (key == "service_name") {
    set_text(rec_.service_name, value, 256);
  } else if (key == "environment") {
    set_text(rec_.environment, value, 256);
  } else if (key == "hostname") {
    set_text(rec_.hostname, value, 256);
  } else if (key == "file_path") {
    set_text(rec_.file_path, value, 4096);
  } else {
    add_metadata_string(key, value);
  }
}

void record_builder::on_double(std::string_view key, double value) {
  if (key == "timestamp") {
    timestamp_us_ = time_from_number(value);
    timestamp_invalid_ = !timestamp_us_;
    if (timestamp_invalid_) {
      bad_timestamp_ = "a negative, non-finite or after-9999 number";
    }
    return;
  }
  if (key == opt_.date_key) {
    date_us_ = time_from_number(value);
    return;
  }
  std::string tmp;
  append_json_double(tmp, value);
  add_metadata(key, tmp);
}

void record_builder::on_integer(std::string_view key, int64_t value) {
  if (key == "timestamp") {
    timestamp_us_ = time_from_integer(value);
    timestamp_invalid_ = !timestamp_us_;
    if (timestamp_invalid_) {
      bad_timestamp_ = "a negative number";
    }
    return;
  }
  if (key == opt_.date_key) {
    date_us_ = time_from_integer(value);
    return;
  }
  std::string tmp;
  append_json_int(tmp, value);
  add_metadata(key, tmp);
}

void record_builder::on_raw(std::string_view key, std::string_view raw_json) {
  if (key == "timestamp") {
    if (raw_json != "null") {
      timestamp_invalid_ = true;  // true, [..], {..}: not a time
      bad_timestamp_.assign(raw_json.substr(0, utf8_truncation_point(raw_json, 64)));
    }
    return;
  }
  if (key == opt_.date_key) {
    return;  // an unusable date key is ignored, as an unparseable one is
  }
  if (raw_json.size() > opt_.max_field_bytes * 4) {
    // A huge nested value: keep a marker rather than the value.
    rec_.truncated = true;
    add_metadata(key, "\"<truncated>\"");
    return;
  }
  add_metadata(key, raw_json);
}

void record_builder::on_metadata_field(std::string_view key, std::string_view raw_json) {
  if (raw_json.size() > opt_.max_field_bytes * 4) {
    rec_.truncated = true;
    add_metadata(key, "\"<truncated>\"");
    return;
  }
  add_metadata(key, raw_json);
}

std::optional<std::string> record_builder::finish(log_record& out) {
  if (fields_ > opt_.max_fields) {
    rec_.truncated = true;
  }
  if (timestamp_invalid_) {
    return "unparseable timestamp \"" + bad_timestamp_ + "\"";
  }
  if (has_message_) {
    if (has_log_) {
      add_metadata_string("log", log_);
    }
    if (has_msg_) {
      add_metadata_string("msg", msg_);
    }
  } else if (has_log_) {
    rec_.message = std::move(log_);
    if (has_msg_) {
      add_metadata_string("msg", msg_);
    }
  } else if (has_msg_) {
    rec_.message = std::move(msg_);
  }
  if (rec_.message.empty()) {
    return std::string("no message (expected a non-empty \"message\", \"log\" or \"msg\" field)");
  }
  if (!has_service_id_ && !service_.empty()) {
    rec_.service_id = service_;
  } else if (!service_.empty()) {
    add_metadata_string("service", service_);
  }
  if (timestamp_us_) {
    rec_.timestamp_us = *timestamp_us_;
  } else if (date_us_) {
    rec_.timestamp_us = *date_us_;
  } else if (agent_time_us_) {
    rec_.timestamp_us = *agent_time_us_;
  } else {
    rec_.timestamp_us = opt_.now_us;
  }
  if (metadata_.empty()) {
    rec_.metadata_json = "{}";
  } else {
    metadata_.push_back('}');
    rec_.metadata_json = std::move(metadata_);
  }
  out = std::move(rec_);
  return std::nullopt;
}

}  // namespace luffy
