#include "core/body_decoder.hpp"

#include <catch2/catch.hpp>

#include "core/event_time.hpp"
#include "core/gzip.hpp"
#include "fixture_files.hpp"

using namespace luffy;

namespace {

decode_result decode_capture(const std::filesystem::path& p) {
  std::string body = test::read_file(p);
  if (test::capture_header(p, "Content-Encoding") == "gzip") {
    std::string inflated;
    REQUIRE(inflate_gzip(body, 64 << 20, inflated).status == inflate_status::ok);
    body = std::move(inflated);
  }
  auto type = media_type_from_content_type(test::capture_header(p, "Content-Type"));
  REQUIRE(type.has_value());
  body_decoder dec;
  decode_options opt;
  opt.now_us = 1;
  return dec.decode(body, *type, opt);
}

decode_result decode_text(std::string body, media_type type = media_type::json,
                          bool single = false) {
  body_decoder dec;
  decode_options opt;
  opt.now_us = 42;
  return dec.decode(body, type, opt, single);
}

}  // namespace

TEST_CASE("every real Fluent Bit capture decodes completely", "[decoder][fixtures]") {
  const auto bodies = test::capture_bodies();
  REQUIRE(bodies.size() == 56);
  for (const auto& p : bodies) {
    INFO(p.string());
    const auto r = decode_capture(p);
    REQUIRE(r.error == decode_error::none);
    CHECK(r.errors.empty());
    const bool tail = p.filename().string().find(".tail.") != std::string::npos;
    CHECK(r.received == (tail ? 29u : 3u));
    CHECK(r.records.size() == r.received);
    for (const auto& rec : r.records) {
      CHECK_FALSE(rec.message.empty());
      CHECK(rec.timestamp_us > 1700000000LL * 1000000);  // a real 2020s date, not "now" (1)
    }
    if (tail) {
      // The app's own timestamp wins over Fluent Bit's read time.
      CHECK(r.records[1].timestamp_us == *parse_time_string("2026-08-21T10:15:01.202Z"));
      CHECK(r.records[1].level == "ERROR");
      CHECK(r.records[1].service_id == "order-api");
      CHECK(r.records[1].file_path == "/var/log/app/sample-app.log");
      CHECK(r.records[2].message ==
            "java.lang.IllegalStateException: Order 42 not found in repository");
      CHECK(r.records[2].level == "UNKNOWN");
      CHECK(r.records[3].message ==
            "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)");
    } else {
      CHECK(r.records[0].service_id == "dummy-svc");
      CHECK(r.records[0].message == "dummy error event");
      CHECK(r.records[0].metadata_json == "{\"attempt\":1}");
    }
  }
}

TEST_CASE("the format is told from the first byte and the media type", "[decoder]") {
  CHECK(decode_text(R"([{"message":"a"}])").format == body_format::json);
  CHECK(decode_text(R"({"message":"a"}{"message":"b"})").format == body_format::json_stream);
  CHECK(decode_text(R"({"logs":[{"message":"a"},{"message":"b"}]})").format ==
        body_format::envelope);
  CHECK(decode_text("{\"message\":\"a\"}\n{\"message\":\"b\"}\n", media_type::ndjson).format ==
        body_format::json_lines);
  const auto r = decode_text(R"({"message":"a"}{"message":"b"}{"message":"c"})");
  CHECK(r.records.size() == 3);
}

TEST_CASE("invalid records are skipped and named, the rest kept", "[decoder]") {
  const auto r = decode_text(
      R"([{"message":"ok"}, 5, {"level":"ERROR"}, {"message":"x","timestamp":"yesterday"}])");
  REQUIRE(r.error == decode_error::none);
  CHECK(r.received == 4);
  REQUIRE(r.records.size() == 1);
  CHECK(r.source_index[0] == 0);
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].index == 1);
  CHECK(r.errors[0].reason == "record is not a JSON object");
  CHECK(r.errors[1].reason.find("no message") != std::string::npos);
  CHECK(r.errors[2].reason.find("unparseable timestamp") != std::string::npos);
}

TEST_CASE("an undecodable body says where it broke", "[decoder]") {
  auto r = decode_text(R"([{"message":"a"},{"message":"b",}])");
  CHECK(r.error == decode_error::malformed);
  CHECK(r.message.find("byte") != std::string::npos);
  r = decode_text("hello");
  CHECK(r.error == decode_error::malformed);
  CHECK(r.message.find("byte 0") != std::string::npos);
  r = decode_text("{\"message\":\"a\"}\n{oops\n", media_type::ndjson);
  CHECK(r.error == decode_error::none);
  CHECK(r.records.size() == 1);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].reason.find("line 2") != std::string::npos);
  r = decode_text("{nope\n", media_type::ndjson);
  CHECK(r.error == decode_error::malformed);
  CHECK(r.message.find("line 1") != std::string::npos);
  r = decode_text(R"({"message":"a"}{"message":)");
  CHECK(r.error == decode_error::malformed);
  CHECK(decode_text("").error == decode_error::malformed);
  CHECK(decode_text("   ").message == "empty body");
}

TEST_CASE("field mapping follows the documented precedence", "[decoder]") {
  auto r = decode_text(
      R"([{"date":1795509866.5,"timestamp":"2026-08-21T10:15:01.202Z","log":"raw","msg":"m","message":"main","level":"warning","service":"svc-a","metadata":{"k":"v"},"extra":[1,2],"flag":true}])");
  REQUIRE(r.records.size() == 1);
  const auto& rec = r.records[0];
  CHECK(rec.message == "main");
  CHECK(rec.level == "WARN");
  CHECK(rec.service_id == "svc-a");
  CHECK(rec.timestamp_us == *parse_time_string("2026-08-21T10:15:01.202Z"));
  CHECK(rec.metadata_json == R"({"k":"v","extra":[1,2],"flag":true,"log":"raw","msg":"m"})");

  r = decode_text(R"([{"date":1795509866.5,"log":"raw line"}])");
  CHECK(r.records[0].message == "raw line");
  CHECK(r.records[0].timestamp_us == 1795509866500000);
  CHECK(r.records[0].level == "UNKNOWN");

  r = decode_text(R"([{"msg":"only msg","service_id":"a","service":"b"}])");
  CHECK(r.records[0].message == "only msg");
  CHECK(r.records[0].service_id == "a");
  CHECK(r.records[0].timestamp_us == 42);  // receive time
}

TEST_CASE("limits: record count, long messages, invalid UTF-8", "[decoder]") {
  body_decoder dec;
  decode_options opt;
  opt.max_records = 2;
  std::string body = R"([{"message":"a"},{"message":"b"},{"message":"c"}])";
  CHECK(dec.decode(body, media_type::json, opt).error == decode_error::too_many_records);
  body = "{\"message\":\"a\"}\n{\"message\":\"b\"}\n{\"message\":\"c\"}\n";
  CHECK(dec.decode(body, media_type::ndjson, opt).error == decode_error::too_many_records);

  opt = decode_options{};
  opt.max_message_bytes = 300;
  body = "[{\"message\":\"" + std::string(299, 'x') + "\xC3\xA9" + "tail\"}]";
  auto r = dec.decode(body, media_type::json, opt);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].message.size() == 299);
  CHECK(r.records[0].truncated);

  body = "[{\"message\":\"bad \xFF\xFE byte\"}]";
  r = dec.decode(body, media_type::json, opt);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].message == "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
}

TEST_CASE("single requires exactly one object", "[decoder]") {
  CHECK(decode_text(R"({"message":"a"})", media_type::json, true).records.size() == 1);
  CHECK(decode_text(R"({"message":"a"}{"message":"b"})", media_type::json, true).error ==
        decode_error::malformed);
  CHECK(decode_text(R"([{"message":"a"}])", media_type::json, true).error ==
        decode_error::malformed);
}

TEST_CASE("msgpack: old [time, record] events, hostile headers, truncation", "[decoder][msgpack]") {
  body_decoder dec;
  decode_options opt;
  // [1795509866, {"message": "hi"}] as fixarray(2), uint32, fixmap(1)
  std::string body = "\x92\xce\x6b\x05\x4e\x6a\x81\xa7message\xa2hi";
  auto r = dec.decode(body, media_type::msgpack, opt);
  REQUIRE(r.error == decode_error::none);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].timestamp_us == 1795509866LL * 1000000);
  CHECK(r.records[0].message == "hi");
  // array32 claiming 4 billion elements: refused, not allocated.
  body = std::string("\xdd\xff\xff\xff\xff", 5);
  r = dec.decode(body, media_type::msgpack, opt);
  CHECK(r.error == decode_error::malformed);
  // a real capture cut in half
  std::string real = test::read_file(test::fixtures_dir() / "captures" / "msgpack.dummy.body");
  body = real.substr(0, real.size() / 2);
  r = dec.decode(body, media_type::msgpack, opt);
  CHECK(r.error == decode_error::malformed);
  CHECK(r.message.find("truncated") != std::string::npos);
  // an event that is not [header, map]
  body = "\x92\x01\x02";
  r = dec.decode(body, media_type::msgpack, opt);
  CHECK(r.error == decode_error::none);
  CHECK(r.errors.size() == 1);
}

TEST_CASE("content types map to media types", "[decoder]") {
  CHECK(media_type_from_content_type("application/json") == media_type::json);
  CHECK(media_type_from_content_type("application/json; charset=utf-8") == media_type::json);
  CHECK(media_type_from_content_type("") == media_type::json);
  CHECK(media_type_from_content_type("application/x-ndjson") == media_type::ndjson);
  CHECK(media_type_from_content_type("Application/MsgPack") == media_type::msgpack);
  CHECK_FALSE(media_type_from_content_type("text/xml").has_value());
}

TEST_CASE("a number beyond 64 bits in an extra field is kept as JSON a parser reads back",
          "[decoder]") {
  // fuzz: tests/fuzz/regressions/decode_ndjson/double-beyond-int64.ndjson
  luffy::body_decoder d;
  std::string body = R"({"":35910199341795509967.9,"big":1e300,"log":"p"})";
  auto r = d.decode(body, luffy::media_type::ndjson, luffy::decode_options{});
  REQUIRE(r.records.size() == 1);
  const std::string meta = r.records[0].metadata_json;
  CHECK(meta.find("e+19") != std::string::npos);
  CHECK(meta.find("e+300") != std::string::npos);
  // What the journal holds must decode again (the sweep reads records back from it).
  std::string again = R"({"log":"p","meta":)" + meta + "}";
  CHECK(d.decode(again, luffy::media_type::ndjson, luffy::decode_options{}).records.size() == 1);
}
