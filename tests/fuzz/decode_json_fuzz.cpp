// libFuzzer harness: body_decoder on a request body sent as
// application/json: a JSON array (Format json), objects back to back (json_stream), the
// {"logs": [...]} envelope, and (second pass) the single-record route.
// Checks decode_result's contract and the records' path to the journal (tests/fuzz/fuzz_check.hpp).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  luffy::fuzz::decode_and_check(data, size, luffy::media_type::json, false);
  // The same bytes as POST /api/v1/ingest/logs/single: exactly one object.
  luffy::fuzz::decode_and_check(data, size, luffy::media_type::json, true);
  return 0;
}
