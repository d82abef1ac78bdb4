#include "core/json_writer.hpp"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("JSON strings are escaped at every position of the 8-byte fast path", "[json_writer]") {
  for (size_t pos = 0; pos < 20; ++pos) {
    for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
      std::string in(20, 'a');
      in[pos] = special;
      std::string out;
      luffy::append_json_string(out, in);
      std::string expected = "\"" + std::string(pos, 'a');
      switch (special) {
        case '"':
          expected += "\\\"";
          break;
        case '\\':
          expected += "\\\\";
          break;
        case '\n':
          expected += "\\n";
          break;
        case '\x01':
          expected += "\\u0001";
          break;
        default:
          expected += "\\u001f";
      }
      expected += std::string(19 - pos, 'a') + "\"";
      CHECK(out == expected);
    }
  }
  std::string out;
  luffy::append_json_string(out, "caf\xC3\xA9 \xE2\x82\xAC ~ \x7f");  // UTF-8 and DEL pass through
  CHECK(out == "\"caf\xC3\xA9 \xE2\x82\xAC ~ \x7f\"");
}

TEST_CASE("JSON text written in pieces is escaped as a whole string is", "[json_writer]") {
  const std::string text = "say \"hi\"\n\tC:\\x \x01";
  std::string whole;
  luffy::append_json_string(whole, text);
  std::string pieces = "\"";
  luffy::append_json_escaped(pieces, text.substr(0, 7));
  luffy::append_json_escaped(pieces, text.substr(7));
  pieces += '"';
  CHECK(pieces == whole);
  CHECK(whole == "\"say \\\"hi\\\"\\n\\tC:\\\\x \\u0001\"");
}
