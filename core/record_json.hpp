#pragma once
// The journal's record encoding: one JSON object per record, the ingest record shape
// (timestamp as ISO 8601 UTC plus timestamp_us, metadata as an object). Consumers (cluster
// shards, `luffy-ingest cluster --input-format jsonl`) read the same shape.
#include <string>

#include "core/record.hpp"

namespace luffy {

void append_record_json(std::string& out, const log_record& r, const record_hash& h);

}  // namespace luffy
