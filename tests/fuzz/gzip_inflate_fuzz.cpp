// libFuzzer harness: inflate_gzip (Content-Encoding: gzip bodies) with a generous and a tiny
// output limit. Checks that the limit holds and that both limits agree: a body that fits the
// small limit inflates to the same bytes under both, one that does not is `too_large` under it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/gzip.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using luffy::inflate_status;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr size_t k_large = size_t{1} << 20;
  constexpr size_t k_small = 97;  // odd, below the 4096-byte first guess: the probe path

  std::string large;
  const luffy::inflate_result rl = luffy::inflate_gzip(in, k_large, large, 64);
  LUFFY_FUZZ_CHECK(large.size() <= k_large);
  LUFFY_FUZZ_CHECK(rl.status == inflate_status::ok || !rl.message.empty());
  if (rl.status == inflate_status::ok) {
    LUFFY_FUZZ_CHECK(large.capacity() >= large.size() + 64);
  }

  std::string small;
  const luffy::inflate_result rs = luffy::inflate_gzip(in, k_small, small, 0);
  LUFFY_FUZZ_CHECK(small.size() <= k_small);
  if (rs.status == inflate_status::ok) {
    LUFFY_FUZZ_CHECK(rl.status == inflate_status::ok);
    LUFFY_FUZZ_CHECK(small == large);
  }
  if (rl.status == inflate_status::ok) {
    LUFFY_FUZZ_CHECK(rs.status ==
                     (large.size() <= k_small ? inflate_status::ok : inflate_status::too_large));
    // What was produced before the limit stopped it is the start of the real body.
    LUFFY_FUZZ_CHECK(large.compare(0, small.size(), small) == 0);
  }
  return 0;
}
