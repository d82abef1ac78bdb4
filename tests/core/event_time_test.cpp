#include "core/event_time.hpp"

#include <catch2/catch.hpp>

using namespace luffy;

TEST_CASE("every Fluent Bit json_date_format parses to the same instant", "[time]") {
  const int64_t us = 1795509913925911;                            // 2026-11-24T08:45:13.925911Z
  CHECK(parse_time_string("2026-11-24T08:45:13.925911Z") == us);  // iso8601
  CHECK(parse_time_string("2026-11-24 08:45:13.925911") == us);   // java_sql_timestamp
  CHECK(time_from_number(1795509913.925911) == us);               // double
  CHECK(time_from_integer(1795509913) == us - 925911);            // epoch
  CHECK(time_from_integer(1795509913925) == us - 911);            // epoch_ms
  CHECK(parse_time_string("1795509913.925911") == us);            // numeric string
  CHECK(time_from_event_time(1795509913, 925911000) == us);
}

TEST_CASE("ISO 8601 variants", "[time]") {
  CHECK(parse_time_string("2026-08-21T10:15:01.202Z") == 1787307301202000);
  CHECK(parse_time_string("2026-08-21T12:15:01.202+02:00") == 1787307301202000);
  CHECK(parse_time_string("2026-08-21T05:15:01.202-0500") == 1787307301202000);
  CHECK(parse_time_string("2026-08-21T10:15:01Z") == 1787307301000000);
  CHECK(parse_time_string("2026-08-21T10:15:01.202123456Z") == 1787307301202123);
  CHECK(parse_time_string("2026-08-21") == 1787270400000000);
  CHECK(parse_time_string("1970-01-01T00:00:00Z") == 0);
}

TEST_CASE("things that are not dates", "[time]") {
  CHECK_FALSE(parse_time_string("yesterday").has_value());
  CHECK_FALSE(parse_time_string("2026-13-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_time_string("2026-08-21T25:00:00Z").has_value());
  CHECK_FALSE(parse_time_string("2026-08-21T10:15:01.Z").has_value());
  CHECK_FALSE(parse_time_string("2026-08-21T10:15:01Zjunk").has_value());
  CHECK_FALSE(parse_time_string("").has_value());
  CHECK_FALSE(time_from_number(-1).has_value());
}

TEST_CASE("format_time_iso8601 round-trips", "[time]") {
  for (int64_t us : {0LL, 1787307301202000LL, 1795509913925911LL, 951782400000001LL}) {
    CHECK(parse_time_string(format_time_iso8601(us)) == us);
  }
  CHECK(format_time_iso8601(1787307301202000) == "2026-08-21T10:15:01.202000Z");
}

TEST_CASE("every accepted time survives the journal's text form: years 0000 to 9999", "[time]") {
  CHECK(format_time_iso8601(max_event_time_us) == "9999-12-31T23:59:59.999999Z");
  CHECK(format_time_iso8601(min_event_time_us) == "0000-01-01T00:00:00.000000Z");
  for (int64_t us : {min_event_time_us, max_event_time_us, int64_t{100000000000000000}, int64_t{-1},
                     int64_t{253402300799000000}}) {
    CHECK(parse_time_string(format_time_iso8601(us)) == us);
  }
  // fuzz (decode_ndjson): a double in the nanosecond band gave year 25,900, which the journal
  // wrote as a clamped year and read back as another instant.
  CHECK_FALSE(time_from_number(755099650996745099e3).has_value());
  CHECK_FALSE(time_from_number(3e20).has_value());
  CHECK(time_from_number(2.5e20) == int64_t{250000000000000000});
  // Integers never get that far: nanoseconds stop at 2262.
  CHECK(time_from_integer(INT64_MAX) == INT64_MAX / 1000);
  // Strings: an offset or a leap second past the ends is not a date.
  CHECK_FALSE(parse_time_string("9999-12-31T23:59:60Z").has_value());
  CHECK_FALSE(parse_time_string("9999-12-31T23:30:00-01:00").has_value());
  CHECK_FALSE(parse_time_string("0000-01-01T00:30:00+01:00").has_value());
  CHECK(parse_time_string("9999-12-31T23:59:59.999999Z") == max_event_time_us);
  CHECK(parse_time_string("0000-01-01T00:00:00Z") == min_event_time_us);
}
