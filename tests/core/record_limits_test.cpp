// Hostile records (the edge-hardening issue, items 4 and 6): field names are bounded, records
// with many fields keep their known fields, a non-time `timestamp` rejects its record, and a
// JSON body sent as msgpack is refused whole.
#include <catch2/catch.hpp>
#include <string>

#include "core/body_decoder.hpp"

using namespace luffy;

namespace {

decode_result decode(std::string body, media_type type = media_type::json) {
  body_decoder dec;
  decode_options opt;
  opt.now_us = 1;
  return dec.decode(body, type, opt);
}

}  // namespace

TEST_CASE("records: metadata field names are cut to max_key_bytes", "[records][limits]") {
  const std::string key(100000, 'k');
  const auto r = decode(R"([{"message":"m",")" + key + R"(":1}])");
  REQUIRE(r.error == decode_error::none);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].truncated);
  CHECK(r.records[0].metadata_json.size() < 400);
  CHECK(r.records[0].metadata_json.find(std::string(256, 'k')) != std::string::npos);
  CHECK(r.records[0].metadata_json.find(std::string(257, 'k')) == std::string::npos);
}

TEST_CASE("records: names and values inside a metadata object are bounded too",
          "[records][limits]") {
  // JSON: {"metadata": {<100 KB name>: 1, "nested": {<100 KB name>: 2}, "big": "<1 MB>"}}
  const std::string key(100000, 'k');
  const std::string big(1 << 20, 'v');
  const auto r = decode(R"([{"message":"m","metadata":{")" + key + R"(":1,"nested":{")" + key +
                        R"(":2},"big":")" + big + R"(","pod":"api-1"}}])");
  REQUIRE(r.error == decode_error::none);
  REQUIRE(r.records.size() == 1);
  const std::string& meta = r.records[0].metadata_json;
  CHECK(r.records[0].truncated);
  CHECK(meta.size() < 4000);
  CHECK(meta.find(std::string(257, 'k')) == std::string::npos);
  CHECK(meta.find("\"pod\":\"api-1\"") != std::string::npos);
  CHECK(meta.find("\"big\":\"<truncated>\"") != std::string::npos);
  // A "message" inside metadata stays metadata.
  const auto m = decode(R"([{"message":"top","metadata":{"message":"inner"}}])");
  REQUIRE(m.records.size() == 1);
  CHECK(m.records[0].message == "top");
  CHECK(m.records[0].metadata_json.find("\"message\":\"inner\"") != std::string::npos);

  // msgpack: [1, {"message": "m", "metadata": {<100 KB name>: 1, "pod": "api-1"}}]
  std::string mp = "\x92\x01\x82\xa7message\xa1m\xa8metadata\x82\xda";
  mp += static_cast<char>(0xff);
  mp += static_cast<char>(0xff);
  mp += std::string(0xffff, 'k');
  mp +=
      "\x01\xa3pod\xa5"
      "api-1";
  const auto p = decode(mp, media_type::msgpack);
  REQUIRE(p.error == decode_error::none);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].metadata_json.size() < 400);
  CHECK(p.records[0].metadata_json.find(std::string(257, 'k')) == std::string::npos);
  CHECK(p.records[0].metadata_json.find("\"pod\":\"api-1\"") != std::string::npos);
}

TEST_CASE("records: a record's metadata is bounded in bytes as a whole", "[records][limits]") {
  // 500 fields of 16 KiB each (8 MB) stay within max_fields and max_field_bytes one by one.
  std::string body = "[{";
  for (int i = 0; i < 500; ++i) {
    body += "\"f" + std::to_string(i) + "\":\"" + std::string(16 * 1024, 'v') + "\",";
  }
  body += R"("message":"kept","service":"billing"}])";
  const auto r = decode(body);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].message == "kept");
  CHECK(r.records[0].truncated);
  CHECK(r.records[0].metadata_json.size() <= 64 * 1024);
  CHECK(r.records[0].metadata_json.find("\"f2\"") != std::string::npos);
}

TEST_CASE("records: a record with more than max_fields fields keeps its message",
          "[records][limits]") {
  std::string body = "[{";
  for (int i = 0; i < 2000; ++i) {
    body += "\"f" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  body += R"("message":"still here","level":"error"}])";
  const auto r = decode(body);
  REQUIRE(r.error == decode_error::none);
  REQUIRE(r.records.size() == 1);
  CHECK(r.errors.empty());
  CHECK(r.records[0].message == "still here");
  CHECK(r.records[0].level == "ERROR");
  CHECK(r.records[0].truncated);
  CHECK(r.records[0].metadata_json.find("\"f511\"") != std::string::npos);
  CHECK(r.records[0].metadata_json.find("\"f512\"") == std::string::npos);
}

TEST_CASE("records: a timestamp that is not a time rejects its record", "[records][limits]") {
  for (const std::string v : {"true", "false", "{}", "[1]", R"({"a":1})"}) {
    INFO(v);
    const auto r = decode(R"([{"message":"m","timestamp":)" + v + R"(},{"message":"ok"}])");
    REQUIRE(r.error == decode_error::none);
    CHECK(r.records.size() == 1);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].index == 0);
    CHECK(r.errors[0].reason.find("unparseable timestamp") != std::string::npos);
  }
  // null is no timestamp; an unusable date is ignored.
  const auto r = decode(R"([{"message":"m","timestamp":null},{"message":"d","date":true}])");
  CHECK(r.records.size() == 2);
  CHECK(r.errors.empty());
}

TEST_CASE("records: a JSON body sent as msgpack is refused whole", "[records][limits]") {
  for (const std::string body : {R"([{"message":"m"}])", R"({"message":"m"})", "\x05\x92"}) {
    const auto r = decode(body, media_type::msgpack);
    CHECK(r.error == decode_error::malformed);
    CHECK(!r.message.empty());
  }
}
