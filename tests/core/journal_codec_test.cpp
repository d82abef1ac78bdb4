#include "core/journal_codec.hpp"

#include <catch2/catch.hpp>

using namespace luffy;

TEST_CASE("journal payloads round-trip in both encodings", "[journal_codec]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += R"({"message":"java.lang.IllegalStateException: order )" + std::to_string(i) +
            R"( not found","service_id":"orders"})" + "\n";
  }
  for (auto e : {journal_encoding::json, journal_encoding::zstd}) {
    const auto enc = encode_payload(text, e);
    CHECK(decode_payload(enc, e) == text);
  }
  CHECK(encode_payload(text, journal_encoding::zstd).size() * 4 < text.size());
  CHECK_FALSE(decode_payload("not zstd", journal_encoding::zstd).has_value());
  CHECK_FALSE(
      decode_payload(encode_payload(text, journal_encoding::zstd), journal_encoding::zstd, 100)
          .has_value());
  CHECK(journal_encoding_from("zstd") == journal_encoding::zstd);
  CHECK_FALSE(journal_encoding_from("lz4").has_value());
}
