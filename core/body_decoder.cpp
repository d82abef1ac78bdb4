#include "core/body_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/utf8.hpp"

namespace luffy {

// Defined in msgpack_decoder.cpp: the msgpack half of the decoder.
void decode_msgpack_body(std::string_view body, const decode_options& opt, record_builder& builder,
                         decode_result& out);

void decode_result::add_record(record_builder& builder, uint32_t index) {
  log_record rec;
  if (auto err = builder.finish(rec)) {
    errors.push_back({index, std::move(*err)});
    return;
  }
  records.push_back(std::move(rec));
  source_index.push_back(index);
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Feeds one JSON object's fields to the builder and finishes the record.
void add_object(const object& obj, uint32_t index, record_builder& builder, decode_result& out) {
  builder.reset();
  for (auto field : obj) {
    const std::string_view key = field.key;
    const element value = field.value;
    switch (value.type()) {
      case element_type::STRING:
        builder.on_string(key, value.get_string().value_unsafe());
        break;
      case element_type::INT64:
        builder.on_integer(key, value.get_int64().value_unsafe());
        break;
      case element_type::UINT64:
        builder.on_double(key, static_cast<double>(value.get_uint64().value_unsafe()));
        break;
      case element_type::DOUBLE:
        builder.on_double(key, value.get_double().value_unsafe());
        break;
      case element_type::OBJECT:
        if (key == "metadata") {
          const simdjson::dom::object meta = value.get_object().value_unsafe();
          for (auto member : meta) {
            builder.on_metadata_field(member.key, simdjson::minify(member.value));
          }
          break;
        }
        builder.on_raw(key, simdjson::minify(value));
        break;
      default:
        builder.on_raw(key, simdjson::minify(value));
    }
  }
  out.add_record(builder, index);
}

void add_element(const element& el, uint32_t index, record_builder& builder, decode_result& out) {
  ++out.received;
  object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) {
    out.errors.push_back({index, "record is not a JSON object"});
    return;
  }
  add_object(obj, index, builder, out);
}

void fail(decode_result& out, decode_error e, std::string msg) {
  out.error = e;
  out.message = std::move(msg);
  out.records.clear();
  out.source_index.clear();
  out.errors.clear();
}

// Finds the byte offset where a JSON text stops being valid, for the 400 message. Only runs on
// the error path: the on-demand parser stops at the first bad token and reports its position.
std::string locate_json_error(const std::string& body, simdjson::error_code code) {
  std::string msg = std::string("invalid JSON: ") + simdjson::error_message(code);
  simdjson::ondemand::parser p;
  simdjson::padded_string copy(body);
  simdjson::ondemand::document doc;
  if (p.iterate(copy).get(doc) != simdjson::SUCCESS) {
    return msg + " at byte 0";
  }
  size_t index = 0;
  auto fail_at = [&](const char* what) {
    const char* loc = nullptr;
    if (doc.current_location().get(loc) == simdjson::SUCCESS && loc != nullptr) {
      return msg + " near byte " + std::to_string(loc - copy.data()) + " (" + what + " " +
             std::to_string(index) + ")";
    }
    return msg + " (" + what + " " + std::to_string(index) + ")";
  };
  simdjson::ondemand::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) {
    return msg + " at byte 0";
  }
  for (auto item : arr) {
    simdjson::ondemand::value v;
    if (item.get(v) != simdjson::SUCCESS) {
      return fail_at("in record");
    }
    simdjson::ondemand::object o;
    if (v.get_object().get(o) == simdjson::SUCCESS) {
      for (auto f : o) {
        simdjson::ondemand::value fv;
        simdjson::ondemand::json_type t;
        if (f.value().get(fv) != simdjson::SUCCESS || fv.type().get(t) != simdjson::SUCCESS) {
          return fail_at("in record");
        }
        if (t == simdjson::ondemand::json_type::string && fv.get_string().error()) {
          return fail_at("in record");
        }
      }
    }
    ++index;
  }
  return fail_at("after record");
}

}  // namespace

std::optional<media_type> media_type_from_content_type(std::string_view ct) {
  const auto semi = ct.find(';');
  if (semi != std::string_view::npos) {
    ct = ct.substr(0, semi);
  }
  ct = trim_ws(ct);
  std::string lower(ct);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "application/json" || lower == "text/json") {
    return media_type::json;
  }
  if (lower == "application/x-ndjson" || lower == "application/ndjson" ||
      lower == "application/jsonlines" || lower == "application/x-jsonlines" ||
      lower == "application/json-lines" || lower == "application/jsonl") {
    return media_type::ndjson;
  }
  if (lower == "application/msgpack" || lower == "application/x-msgpack" ||
      lower == "application/vnd.msgpack") {
    return media_type::msgpack;
  }
  return std::nullopt;
}

const char* to_string(body_format f) {
  switch (f) {
    case body_format::json:
      return "json";
    case body_format::json_lines:
      return "json_lines";
    case body_format::json_stream:
      return "json_stream";
    case body_format::envelope:
      return "envelope";
    case body_format::single:
      return "single";
    case body_format::msgpack:
      return "msgpack";
  }
  return "unknown";
}

size_t decode_memory_bound(std::string_view body, media_type type) {
  if (type == media_type::msgpack) {
    return 2 * body.size() + (4u << 20);
  }
  size_t values = 0;
  for (const char c : body) {
    values += static_cast<size_t>((c == ',') | (c == ':') | (c == '[') | (c == '{'));
  }
  return 2 * body.size() + 28 * (values + 1) + simdjson::SIMDJSON_PADDING;
}

struct body_decoder::impl {
  simdjson::dom::parser parser;
};

body_decoder::body_decoder() : impl_(std::make_unique<impl>()) {}
body_decoder::~body_decoder() = default;

decode_result body_decoder::decode(std::string& body, media_type type, const decode_options& opt,
                                   bool single) {
  decode_result out = decode_body(body, type, opt, single);
  if (impl_->parser.capacity() > keep_buffers_up_to) {
    impl_->parser = simdjson::dom::parser{};
  }
  return out;
}

decode_result body_decoder::decode_body(std::string& body, media_type type,
                                        const decode_options& opt, bool single) {
  decode_result out;
  record_builder builder(opt);
  if (type == media_type::msgpack) {
    out.format = body_format::msgpack;
    decode_msgpack_body(body, opt, builder, out);
    return out;
  }
  if (!is_valid_utf8(body)) {
    body = repair_utf8(body);
  }
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  auto& parser = impl_->parser;
  const std::string_view text = trim_ws(body);
  if (text.empty()) {
    fail(out, decode_error::malformed, "empty body");
    return out;
  }

  if (type == media_type::ndjson && !single) {
    out.format = body_format::json_lines;
    size_t pos = 0;
    size_t line_no = 0;
    uint32_t index = 0;
    std::string first_error;
    while (pos < body.size()) {
      size_t end = body.find('\n', pos);
      if (end == std::string::npos) {
        end = body.size();
      }
      ++line_no;
      const std::string_view line = trim_ws(std::string_view(body).substr(pos, end - pos));
      const size_t line_start = pos;
      pos = end + 1;
      if (line.empty()) {
        continue;
      }
      if (out.received >= opt.max_records) {
        fail(out, decode_error::too_many_records,
             "more than " + std::to_string(opt.max_records) + " records (ingest.max_records)");
        return out;
      }
      element el;
      const auto err = parser.parse(line.data(), line.size(), false).get(el);
      if (err != simdjson::SUCCESS) {
        ++out.received;
        std::string reason = "line " + std::to_string(line_no) + " (byte " +
                             std::to_string(line_start) +
                             "): invalid JSON: " + simdjson::error_message(err);
        if (first_error.empty()) {
          first_error = reason;
        }
        out.errors.push_back({index++, std::move(reason)});
        continue;
      }
      add_element(el, index++, builder, out);
    }
    if (out.records.empty() && !first_error.empty() && out.errors.size() == out.received) {
      fail(out, decode_error::malformed, "no line is valid JSON; first: " + first_error);
    }
    return out;
  }

  if (text.front() == '[' && !single) {
    out.format = body_format::json;
    element doc;
    const auto err = parser.parse(body.data(), body.size(), false).get(doc);
    if (err != simdjson::SUCCESS) {
      fail(out, decode_error::malformed, locate_json_error(body, err));
      return out;
    }
    simdjson::dom::array arr = doc.get_array().value_unsafe();
    if (arr.size() > opt.max_records) {
      fail(out, decode_error::too_many_records,
           "body has " + std::to_string(arr.size()) + " records, more than " +
               std::to_string(opt.max_records) + " (ingest.max_records)");
      return out;
    }
    out.records.reserve(arr.size());
    uint32_t index = 0;
    for (element el : arr) {
      add_element(el, index++, builder, out);
    }
    return out;
  }

  if (text.front() != '{') {
    // Quote the byte only when it is printable ASCII: half a UTF-8 sequence is not valid text.
    const auto c = static_cast<unsigned char>(text.front());
    char found[16];
    std::snprintf(found, sizeof found, c >= 0x20 && c < 0x7f ? "'%c'" : "byte 0x%02X", c);
    fail(out, decode_error::malformed,
         std::string("body must start with '[' or '{' (JSON), found ") + found + " at byte " +
             std::to_string(text.data() - body.data()));
    return out;
  }

  // One object (single record or envelope) or objects back to back (json_stream).
  simdjson::dom::document_stream stream;
  const size_t batch = std::max<size_t>(body.size() + 1, 1 << 16);
  auto err = parser.parse_many(body.data(), body.size(), batch).get(stream);
  if (err != simdjson::SUCCESS) {
    fail(out, decode_error::malformed,
         std::string("invalid JSON: ") + simdjson::error_message(err));
    return out;
  }
  uint32_t index = 0;
  out.format = single ? body_format::single : body_format::json_stream;
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    element el;
    err = (*it).get(el);
    if (err != simdjson::SUCCESS) {
      fail(out, decode_error::malformed,
           std::string("invalid JSON: ") + simdjson::error_message(err) +
               " in the object at byte " + std::to_string(it.current_index()) + " (record " +
               std::to_string(index) + ")");
      return out;
    }
    if (index == 0 && !single) {
      simdjson::dom::array logs;
      if (el.type() == element_type::OBJECT &&
          el["logs"].get_array().get(logs) == simdjson::SUCCESS) {
        out.format = body_format::envelope;
        if (logs.size() > opt.max_records) {
          fail(out, decode_error::too_many_records,
               "envelope has " + std::to_string(logs.size()) + " records, more than " +
                   std::to_string(opt.max_records) + " (ingest.max_records)");
          return out;
        }
        for (element rec : logs) {
          add_element(rec, index++, builder, out);
        }
        auto next = it;
        ++next;
        if (next != stream.end()) {
          fail(out, decode_error::malformed,
               "unexpected data after the envelope object at byte " +
                   std::to_string(next.current_index()));
        }
        return out;
      }
    }
    if (single && index > 0) {
      fail(out, decode_error::malformed,
           "expected exactly one JSON object, found more at byte " +
               std::to_string(it.current_index()));
      return out;
    }
    if (out.received >= opt.max_records) {
      fail(out, decode_error::too_many_records,
           "more than " + std::to_string(opt.max_records) + " records (ingest.max_records)");
      return out;
    }
    add_element(el, index++, builder, out);
  }
  if (stream.truncated_bytes() > 0) {
    fail(out, decode_error::malformed,
         "truncated JSON: the last " + std::to_string(stream.truncated_bytes()) +
             " bytes are an incomplete object");
    return out;
  }
  if (out.received == 0) {
    fail(out, decode_error::malformed, "no JSON object found");
  }
  return out;
}

}  // namespace luffy
