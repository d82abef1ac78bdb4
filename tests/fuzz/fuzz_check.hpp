#pragma once
// Shared by the libFuzzer harnesses (tests/fuzz/*_fuzz.cpp) and their replay test: invariant
// checks that abort with a message, so a violated contract is a crash the fuzzer reports, and
// the decoder + pipeline driver used by the three body-decoder harnesses.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "core/body_decoder.hpp"
#include "core/continuation_merge.hpp"
#include "core/record_hash.hpp"
#include "core/record_json.hpp"
#include "core/utf8.hpp"

namespace luffy::fuzz {

[[noreturn]] inline void fail_check(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, file, line);
  std::abort();
}

#define LUFFY_FUZZ_CHECK(cond)                              \
  do {                                                      \
    if (!(cond)) {                                          \
      ::luffy::fuzz::fail_check(#cond, __FILE__, __LINE__); \
    }                                                       \
  } while (0)

// Small limits: every limit is reachable by a short input, and no input makes a run slow.
inline decode_options small_limits() {
  decode_options opt;
  opt.max_records = 1000;
  opt.max_message_bytes = 512;
  opt.max_stack_trace_bytes = 2048;
  opt.max_field_bytes = 256;
  opt.max_fields = 32;
  opt.max_depth = 8;
  opt.now_us = 1795509866565273;  // fixed: runs are reproducible
  return opt;
}

// True when `text` is one JSON value of the given type (object when `object` is set).
inline bool is_json(std::string_view text, bool object) {
  static simdjson::dom::parser parser;
  simdjson::padded_string copy(text);
  simdjson::dom::element el;
  if (parser.parse(copy).get(el) != simdjson::SUCCESS) {
    return false;
  }
  return !object || el.type() == simdjson::dom::element_type::OBJECT;
}

inline void check_record(const log_record& r, const decode_options& opt) {
  LUFFY_FUZZ_CHECK(!r.message.empty());
  LUFFY_FUZZ_CHECK(r.message.size() <= opt.max_message_bytes);
  LUFFY_FUZZ_CHECK(r.stack_trace.size() <= opt.max_stack_trace_bytes);
  const std::pair<const char*, const std::string*> fields[] = {
      {"level", &r.level},
      {"logger", &r.logger},
      {"message", &r.message},
      {"exception_type", &r.exception_type},
      {"exception_message", &r.exception_message},
      {"stack_trace", &r.stack_trace},
      {"service_id", &r.service_id},
      {"service_name", &r.service_name},
      {"environment", &r.environment},
      {"hostname", &r.hostname},
      {"file_path", &r.file_path},
      {"metadata_json", &r.metadata_json}};
  for (const auto& [name, value] : fields) {
    if (!is_valid_utf8(*value)) {
      std::fprintf(stderr, "record field %s is not valid UTF-8\n", name);
    }
    LUFFY_FUZZ_CHECK(is_valid_utf8(*value));
  }
  LUFFY_FUZZ_CHECK(is_json(r.metadata_json, true));
}

// Decodes `data` as the server does (one decoder reused across calls, the body copied into a
// std::string the decoder may pad and repair), checks decode_result's contract, then runs the
// records through the continuation merge and the journal encoding and checks those too.
inline void decode_and_check(const uint8_t* data, size_t size, media_type type, bool single) {
  static body_decoder decoder;
  const decode_options opt = small_limits();
  std::string body(reinterpret_cast<const char*>(data), size);
  decode_result r = decoder.decode(body, type, opt, single);
  // Messages and reasons go into the 400 body (JSON) and the log: valid UTF-8 like the records.
  LUFFY_FUZZ_CHECK(is_valid_utf8(r.message));
  if (r.error != decode_error::none) {
    LUFFY_FUZZ_CHECK(!r.message.empty());
    LUFFY_FUZZ_CHECK(r.records.empty() && r.errors.empty() && r.source_index.empty());
    return;
  }
  LUFFY_FUZZ_CHECK(r.records.size() == r.source_index.size());
  LUFFY_FUZZ_CHECK(r.records.size() + r.errors.size() == r.received);
  LUFFY_FUZZ_CHECK(r.received <= opt.max_records);
  LUFFY_FUZZ_CHECK(!single || r.received == 1);
  for (size_t i = 0; i < r.records.size(); ++i) {
    LUFFY_FUZZ_CHECK(r.source_index[i] < r.received);
    LUFFY_FUZZ_CHECK(i == 0 || r.source_index[i - 1] < r.source_index[i]);
    check_record(r.records[i], opt);
  }
  for (const record_error& e : r.errors) {
    LUFFY_FUZZ_CHECK(e.index < r.received);
    LUFFY_FUZZ_CHECK(!e.reason.empty());
    LUFFY_FUZZ_CHECK(is_valid_utf8(e.reason));
  }

  const size_t before = r.records.size();
  const size_t merged = merge_continuations(r.records, &r.source_index);
  LUFFY_FUZZ_CHECK(r.records.size() + merged == before);
  LUFFY_FUZZ_CHECK(r.records.size() == r.source_index.size());

  // What the journal writer stores: one JSON object per record, every one parseable.
  std::string journal;
  for (const log_record& rec : r.records) {
    std::string line;
    append_record_json(line, rec, hash_record(rec));
    LUFFY_FUZZ_CHECK(is_valid_utf8(line));
    LUFFY_FUZZ_CHECK(is_json(line, true));
    LUFFY_FUZZ_CHECK(line.find('\n') == std::string::npos);
    journal += line;
    journal.push_back('\n');
  }
  if (journal.empty()) {
    return;
  }
  // What a cluster shard reads back (actors/cluster_shard.cpp decode_entry): the same records.
  static body_decoder shard_decoder;
  decode_options shard_opt;
  shard_opt.max_records = r.records.size() + 1;
  shard_opt.max_message_bytes = shard_opt.max_stack_trace_bytes = size_t{1} << 30;
  decode_result back = shard_decoder.decode(journal, media_type::ndjson, shard_opt);
  LUFFY_FUZZ_CHECK(back.error == decode_error::none);
  LUFFY_FUZZ_CHECK(back.records.size() == r.records.size());
  for (size_t i = 0; i < back.records.size(); ++i) {
    LUFFY_FUZZ_CHECK(back.records[i].message == r.records[i].message);
    LUFFY_FUZZ_CHECK(back.records[i].stack_trace == r.records[i].stack_trace);
    LUFFY_FUZZ_CHECK(back.records[i].service_id == r.records[i].service_id);
    LUFFY_FUZZ_CHECK(back.records[i].timestamp_us == r.records[i].timestamp_us);
  }
}

}  // namespace luffy::fuzz
