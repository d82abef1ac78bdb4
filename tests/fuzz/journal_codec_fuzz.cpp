// libFuzzer harness: the journal payload codec. The input is read three ways: as a stored zstd
// payload (decode_payload with a small max_bytes), as a stored json payload, and as text to
// encode (zstd round trip must give it back). A decoded payload then goes through the cluster
// shard's reader (ndjson decoder), as in actors/cluster_shard.cpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/journal_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

void read_back(std::string text) {
  static luffy::body_decoder decoder;
  luffy::decode_options opt = luffy::fuzz::small_limits();
  opt.max_message_bytes = opt.max_stack_trace_bytes = size_t{1} << 30;
  const luffy::decode_result r = decoder.decode(text, luffy::media_type::ndjson, opt);
  LUFFY_FUZZ_CHECK(r.error != luffy::decode_error::none ||
                   r.records.size() + r.errors.size() == r.received);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using luffy::journal_encoding;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr size_t k_max = size_t{1} << 20;

  const std::optional<std::string> z = luffy::decode_payload(in, journal_encoding::zstd, k_max);
  if (z) {
    LUFFY_FUZZ_CHECK(z->size() <= k_max);
    // A decoded payload encodes and decodes back to itself.
    const std::string again = luffy::encode_payload(*z, journal_encoding::zstd);
    const auto back = luffy::decode_payload(again, journal_encoding::zstd, k_max);
    LUFFY_FUZZ_CHECK(back && *back == *z);
    read_back(*z);
  }

  const std::optional<std::string> j = luffy::decode_payload(in, journal_encoding::json, k_max);
  LUFFY_FUZZ_CHECK(j && *j == in);

  const std::string enc = luffy::encode_payload(in, journal_encoding::zstd);
  LUFFY_FUZZ_CHECK(!enc.empty());
  const auto dec = luffy::decode_payload(enc, journal_encoding::zstd, k_max);
  LUFFY_FUZZ_CHECK(dec && *dec == in);
  if (size > 0) {
    // One byte under the decoded size is refused, never cut short.
    LUFFY_FUZZ_CHECK(!luffy::decode_payload(enc, journal_encoding::zstd, size - 1));
  }
  read_back(std::string(in));
  return 0;
}
