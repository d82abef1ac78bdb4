#pragma once
// Content hash of a record, the identity used by deduplication.
//
// Contract: two records hash equal exactly when their canonical content is equal: service_id,
// hostname, timestamp_us, logger, message, exception_type, exception_message, stack_trace and
// file_path. Level and metadata are left out on purpose: an agent retry or a re-read of the same
// file line differs at most in fields the agent adds (read time lives in metadata), never in these.
// The hash is xxh3-128 with the default seed, so it is stable across processes and restarts.
#include <string>

#include "core/record.hpp"

namespace luffy {

record_hash hash_record(const log_record& r);

// The identity of the n-th (n >= 1) repeat of the same content inside one request. A request
// never repeats a record because of a retry (Fluent Bit resends whole chunks), so identical
// records inside one body are distinct events (e.g. three `epoch` dates in the same second) and
// must all be kept, while a resend of the whole body must still map onto the same identities.
record_hash hash_occurrence(const record_hash& h, uint32_t ordinal);

// 32 lowercase hex digits, high word first.
std::string to_hex(const record_hash& h);

// 16 raw bytes, big-endian, high word first: the compact form stored in Redis.
std::string to_bytes(const record_hash& h);

}  // namespace luffy
