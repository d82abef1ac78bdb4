// The msgpack half of body_decoder: Fluent Bit's native chunk format.
//
// A body is a concatenation of events. Fluent Bit >= 2.1 writes [[EventTime, {metadata}],
// {record}]; older agents [EventTime, {record}]. EventTime is msgpack ext type 0 (uint32 BE
// seconds, uint32 BE nanoseconds), or a plain integer / float of seconds. Integer widths differ
// between versions (v4.2.8 array32/map32 everywhere, v5.1.1 fixarray), which msgpack-cxx handles
// for us.
#include <msgpack.hpp>

#include <cstring>

#include "core/body_decoder.hpp"
#include "core/event_time.hpp"
#include "core/json_writer.hpp"
#include "core/utf8.hpp"

namespace luffy {

namespace {

// Hostile-input bounds for the unpacker: without them a 5-byte array32 header claiming 2^32
// elements makes msgpack-cxx try to allocate for all of them.
msgpack::unpack_limit limits_for(size_t body_size, size_t max_depth) {
  const size_t n = std::min<size_t>(body_size, 1u << 24);
  return msgpack::unpack_limit(n, n, n, n, n, max_depth);
}

// msgpack-cxx builds an event's objects in one zone (16-32 bytes a value), so an event of 16 M
// one-byte values would cost 512 MB. A first pass that allocates nothing counts an event's values
// and stops past this many; such an event is refused before it is unpacked. A Fluent Bit event
// with Kubernetes metadata has about 50.
constexpr size_t kMaxValuesPerEvent = 65536;

struct value_counter : msgpack::null_visitor {
  size_t values = 0;
  bool over = false;
  bool count() {
    over = ++values > kMaxValuesPerEvent;
    return !over;
  }
  bool visit_nil() { return count(); }
  bool visit_boolean(bool) { return count(); }
  bool visit_positive_integer(uint64_t) { return count(); }
  bool visit_negative_integer(int64_t) { return count(); }
  bool visit_float32(float) { return count(); }
  bool visit_float64(double) { return count(); }
  bool visit_str(const char*, uint32_t) { return count(); }
  bool visit_bin(const char*, uint32_t) { return count(); }
  bool visit_ext(const char*, uint32_t) { return count(); }
  bool start_array(uint32_t) { return count(); }
  bool start_map(uint32_t) { return count(); }
};

// True when the event at `offset` has more than kMaxValuesPerEvent values. Malformed or truncated
// events are left to the unpacker, whose errors name the problem.
bool too_many_values(std::string_view body, size_t offset) {
  value_counter counter;
  size_t off = offset;
  msgpack::parse(body.data(), body.size(), off, counter);
  return counter.over;
}

std::string safe_string(const char* p, size_t n) {
  std::string_view v(p, n);
  return is_valid_utf8(v) ? std::string(v) : repair_utf8(v);
}

void to_json(const msgpack::object& o, std::string& out, size_t depth) {
  if (depth > 64) {
    out += "null";
    return;
  }
  switch (o.type) {
    case msgpack::type::NIL:
      out += "null";
      break;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      break;
    case msgpack::type::POSITIVE_INTEGER:
      append_json_uint(out, o.via.u64);
      break;
    case msgpack::type::NEGATIVE_INTEGER:
      append_json_int(out, o.via.i64);
      break;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      append_json_double(out, o.via.f64);
      break;
    case msgpack::type::STR:
      append_json_string(out, safe_string(o.via.str.ptr, o.via.str.size));
      break;
    case msgpack::type::BIN:
      append_json_string(out, safe_string(o.via.bin.ptr, o.via.bin.size));
      break;
    case msgpack::type::EXT:
      out += "null";
      break;
    case msgpack::type::ARRAY:
      out.push_back('[');
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i)
          out.push_back(',');
        to_json(o.via.array.ptr[i], out, depth + 1);
      }
      out.push_back(']');
      break;
    case msgpack::type::MAP:
      out.push_back('{');
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        if (i)
          out.push_back(',');
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR) {
          append_json_string(out, safe_string(kv.key.via.str.ptr, kv.key.via.str.size));
        } else {
          std::string k;
          to_json(kv.key, k, depth + 1);
          append_json_string(out, k);
        }
        out.push_back(':');
        to_json(kv.val, out, depth + 1);
      }
      out.push_back('}');
      break;
  }
}

std::optional<int64_t> event_time(const msgpack::object& t) {
  switch (t.type) {
    case msgpack::type::EXT:
      if (t.via.ext.type() == 0 && t.via.ext.size == 8) {
        const auto* p = reinterpret_cast<const unsigned char*>(t.via.ext.data());
        const uint32_t sec =
            (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
        const uint32_t nsec =
            (uint32_t(p[4]) << 24) | (uint32_t(p[5]) << 16) | (uint32_t(p[6]) << 8) | p[7];
        return time_from_event_time(sec, nsec);
      }
      return std::nullopt;
    case msgpack::type::POSITIVE_INTEGER:
      return time_from_integer(static_cast<int64_t>(std::min<uint64_t>(t.via.u64, INT64_MAX)));
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return time_from_number(t.via.f64);
    default:
      return std::nullopt;
  }
}

// A map key as text: strings and bins as they are (repaired to UTF-8), anything else as JSON.
std::string_view key_text(const msgpack::object& k, std::string& storage) {
  std::string_view key;
  if (k.type == msgpack::type::STR) {
    key = std::string_view(k.via.str.ptr, k.via.str.size);
  } else if (k.type == msgpack::type::BIN) {
    key = std::string_view(k.via.bin.ptr, k.via.bin.size);
  } else {
    storage.clear();
    to_json(k, storage, 0);
    key = storage;
  }
  if (!is_valid_utf8(key)) {
    storage = repair_utf8(key);
    key = storage;
  }
  return key;
}

void add_map(const msgpack::object& map, std::optional<int64_t> agent_time, uint32_t index,
             record_builder& builder, decode_result& out) {
  builder.reset();
  if (agent_time) {
    builder.on_agent_time(*agent_time);
  }
  std::string scratch;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    std::string key_storage;
    const std::string_view key = key_text(kv.key, key_storage);
    const auto& v = kv.val;
    switch (v.type) {
      case msgpack::type::STR:
      case msgpack::type::BIN: {
        const char* p = v.type == msgpack::type::STR ? v.via.str.ptr : v.via.bin.ptr;
        const size_t n = v.type == msgpack::type::STR ? v.via.str.size : v.via.bin.size;
        std::string_view sv(p, n);
        if (is_valid_utf8(sv)) {
          builder.on_string(key, sv);
        } else {
          builder.on_string(key, repair_utf8(sv));
        }
        break;
      }
      case msgpack::type::POSITIVE_INTEGER:
        if (v.via.u64 <= static_cast<uint64_t>(INT64_MAX)) {
          builder.on_integer(key, static_cast<int64_t>(v.via.u64));
        } else {
          builder.on_double(key, static_cast<double>(v.via.u64));
        }
        break;
      case msgpack::type::NEGATIVE_INTEGER:
        builder.on_integer(key, v.via.i64);
        break;
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64:
        builder.on_double(key, v.via.f64);
        break;
      case msgpack::type::MAP:
        if (key == "metadata") {
          for (uint32_t j = 0; j < v.via.map.size; ++j) {
            std::string member_key;
            scratch.clear();
            to_json(v.via.map.ptr[j].val, scratch, 2);
            builder.on_metadata_field(key_text(v.via.map.ptr[j].key, member_key), scratch);
          }
        } else {
          scratch.clear();
          to_json(v, scratch, 1);
          builder.on_raw(key, scratch);
        }
        break;
      default:
        scratch.clear();
        to_json(v, scratch, 1);
        builder.on_raw(key, scratch);
    }
  }
  out.add_record(builder, index);
}

}  // namespace

void decode_msgpack_body(std::string_view body, const decode_options& opt, record_builder& builder,
                         decode_result& out) {
  if (body.empty()) {
    out.error = decode_error::malformed;
    out.message = "empty body";
    return;
  }
  const auto limit = limits_for(body.size(), opt.max_depth + 4);
  size_t offset = 0;
  uint32_t index = 0;
  while (offset < body.size()) {
    const size_t event_start = offset;
    msgpack::object_handle oh;
    if (too_many_values(body, offset)) {
      out = decode_result{};
      out.format = body_format::msgpack;
      out.error = decode_error::malformed;
      out.message = "msgpack event " + std::to_string(index) + " at byte " +
                    std::to_string(event_start) + " has more than " +
                    std::to_string(kMaxValuesPerEvent) + " values";
      return;
    }
    try {
      msgpack::unpack(oh, body.data(), body.size(), offset, nullptr, nullptr, limit);
    } catch (const msgpack::insufficient_bytes&) {
      out = decode_result{};
      out.format = body_format::msgpack;
      out.error = decode_error::malformed;
      out.message = "truncated msgpack: event " + std::to_string(index) + " at byte " +
                    std::to_string(event_start) + " ends past the body";
      return;
    } catch (const std::exception& e) {
      out = decode_result{};
      out.format = body_format::msgpack;
      out.error = decode_error::malformed;
      out.message = "invalid msgpack at byte " + std::to_string(event_start) + " (event " +
                    std::to_string(index) + "): " + e.what();
      return;
    }
    if (out.received >= opt.max_records) {
      out = decode_result{};
      out.format = body_format::msgpack;
      out.error = decode_error::too_many_records;
      out.message =
          "more than " + std::to_string(opt.max_records) + " records (ingest.max_records)";
      return;
    }
    const msgpack::object ev = oh.get();
    if (event_start == 0 && ev.type != msgpack::type::ARRAY) {
      // Not Fluent Bit events at all (a JSON body sent as application/msgpack starts with '['
      // or '{', which msgpack reads as a small integer): the whole body is refused, not each
      // "event" in it.
      out = decode_result{};
      out.format = body_format::msgpack;
      out.error = decode_error::malformed;
      out.message = "the body does not start with a msgpack event array [time, {record}]" +
                    std::string(body[0] == '[' || body[0] == '{'
                                    ? " (it looks like JSON: send Content-Type: application/json)"
                                    : "");
      return;
    }
    ++out.received;
    // [header, record] where header is [time, metadata] or time.
    if (ev.type != msgpack::type::ARRAY || ev.via.array.size < 2 ||
        ev.via.array.ptr[1].type != msgpack::type::MAP) {
      out.errors.push_back({index++, "event at byte " + std::to_string(event_start) +
                                         " is not [time, {record}] or [[time, {meta}], {record}]"});
      continue;
    }
    const msgpack::object& header = ev.via.array.ptr[0];
    std::optional<int64_t> t;
    if (header.type == msgpack::type::ARRAY && header.via.array.size >= 1) {
      t = event_time(header.via.array.ptr[0]);
    } else {
      t = event_time(header);
    }
    add_map(ev.via.array.ptr[1], t, index++, builder, out);
  }
}

}  // namespace luffy
