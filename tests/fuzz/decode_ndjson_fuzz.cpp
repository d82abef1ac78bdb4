// libFuzzer harness: body_decoder on a request body sent as
// application/x-ndjson: one object per line (Format json_lines).
// Checks decode_result's contract and the records' path to the journal (tests/fuzz/fuzz_check.hpp).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  luffy::fuzz::decode_and_check(data, size, luffy::media_type::ndjson, false);
  return 0;
}
