#pragma once
// Batch bodies for luffy-loadgen: realistic error-log records rendered the way Fluent Bit's `http`
// output sends them (Format json: a JSON array of flat records with a leading "date" key; Format
// msgpack: concatenated [[EventTime ext 0, {}], {record}] events).
//
// Design: generating 1000 stack-trace records per request would make the load generator, not the
// server, the bottleneck. So a small pool of batch bodies is rendered once before the run. Every
// record's variable fields (event time, ISO timestamp, a 12-digit global sequence number inside
// the message) are rendered at fixed width, and their offsets are kept as "slots". Per request the
// sender copies a template and rewrites only the slots, so each request carries new, never
// repeated records (the run id + sequence number make every message unique across the run) at the
// cost of a memcpy and ~3 small writes per record. The gzip variant is in loadgen_gzip.hpp.
//
// Thread safety: a body_template is immutable after build_pool(); patch_* functions write only to
// the caller's buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loadgen {

enum class body_format { json, msgpack };

enum class slot_kind : uint8_t {
  json_date,      // 17 chars "ssssssssss.uuuuuu" (Fluent Bit json_date_format double)
  event_time,     // 8 bytes: u32 BE seconds + u32 BE nanoseconds (msgpack ext type 0 body)
  iso_timestamp,  // 24 chars "YYYY-MM-DDTHH:MM:SS.mmmZ"
  sequence,       // 12 decimal digits
  word_sequence,  // 20 chars: three 6-letter words (letters g-z) derived from the sequence number,
                  // so every record's message is distinct and nothing in it parameterises
};

size_t slot_width(slot_kind k);

// One variable field of one record, at a fixed offset of the rendered body.
struct slot {
  size_t offset = 0;
  uint32_t record = 0;  // index of the record inside the batch
  slot_kind kind = slot_kind::sequence;
};

struct body_template {
  std::string body;         // rendered with valid placeholder values (a complete, valid body)
  std::vector<slot> slots;  // sorted by offset, non-overlapping
  uint32_t records = 0;
};

struct pool_options {
  body_format format = body_format::json;
  uint32_t batch = 1000;   // records per body
  uint32_t services = 4;   // service ids "svc-0".."svc-(services-1)"
  uint32_t pool_size = 8;  // distinct bodies
  uint64_t seed = 1;
  uint32_t problems = 0;  // distinct error contents (stack traces) reused across records; 0 = all
                          // different (near one cluster per record: the clustering worst case)
  uint32_t flood_services = 0;  // services svc-0..svc-(n-1) send only distinct plain messages
                                // (no trace, no parameterisable token: a cluster explosion)
  std::string run_id;           // 6 lowercase hex chars, embedded in every message
};

// Renders `pool_size` bodies. Template t holds sequence numbers t*batch .. t*batch+batch-1 and the
// time `base_us`, so that bodies sent unpatched (--no-unique) are distinct within the pool.
std::vector<body_template> build_pool(const pool_options& o, int64_t base_us);

// Writes record values into a copy of `t.body` at `buf` (same size as t.body): record r gets the
// sequence number `first_seq + r` and the event time `time_us - (records-1-r) * 50` µs.
void patch_plain(const body_template& t, char* buf, uint64_t first_seq, int64_t time_us);

// Writes the value of one slot for record `r` at `out` (slot_width(kind) bytes).
void write_slot(slot_kind kind, char* out, uint64_t seq, int64_t time_us);

// Event time of record r of a batch whose newest record is at time_us.
inline int64_t record_time_us(int64_t time_us, uint32_t records, uint32_t r) {
  return time_us - static_cast<int64_t>(records - 1 - r) * 50;
}

}  // namespace loadgen
