#pragma once
// The record model: one log record as the pipeline sees it after decoding.
//
// Contract: every string is valid UTF-8 (decoders replace invalid sequences), `message` is never
// empty for a record that reached the pipeline, and `timestamp_us` is the event time in
// microseconds since the Unix epoch (UTC). Fields the design does not name are kept, as a JSON
// object text, in `metadata_json` ("{}" when there are none) so nothing the agent sent is lost.
#include <cstdint>
#include <string>
#include <vector>

namespace luffy {

struct log_record {
  int64_t timestamp_us = 0;  // event time: the record's own `timestamp`, else the agent's date key
  std::string level = "UNKNOWN";  // upper-cased (ERROR, FATAL, WARN, ...); UNKNOWN when absent
  std::string logger;
  std::string message;  // `message`, else `log` (Fluent Bit raw line), else `msg`
  std::string exception_type;
  std::string exception_message;
  std::string stack_trace;
  std::string service_id;  // record's `service_id`, else `service`, else the token's default
  std::string service_name;
  std::string environment;
  std::string hostname;
  std::string file_path;
  std::string metadata_json = "{}";  // every other field of the record, as a JSON object
  bool truncated = false;            // message or stack trace was cut at its documented limit
};

// A 128-bit content hash (xxh3-128) used for deduplication and journal identity.
struct record_hash {
  uint64_t high = 0;
  uint64_t low = 0;
  friend bool operator==(const record_hash&, const record_hash&) = default;
};

}  // namespace luffy
