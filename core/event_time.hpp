#pragma once
// Event-time parsing for every date shape Fluent Bit and applications send.
//
// Strings: ISO 8601 / RFC 3339 ("2026-11-24T08:45:13.925911Z", "+02:00" offsets, "T" or " " as
// separator, 0-9 fractional digits; no zone means UTC, which is what Fluent Bit's
// java_sql_timestamp "2026-11-24 08:45:31.865585" means), and numeric strings (treated like
// numbers). Numbers: Unix time whose unit is chosen by magnitude so that `double` (seconds with
// a fraction), `epoch` (s), `epoch_ms` and microsecond/nanosecond stamps all work: below 1e11 is
// seconds (up to year 5138), below 1e14 ms, below 1e17 us, else ns.
// All results are microseconds since the Unix epoch, UTC, within [min_event_time_us,
// max_event_time_us] (years 0000 to 9999, what RFC 3339 can write, so that every accepted time
// survives the journal's text form); numbers give no time before 1970. nullopt means "not a date".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luffy {

inline constexpr int64_t min_event_time_us = -62167219200000000;  // 0000-01-01T00:00:00Z
inline constexpr int64_t max_event_time_us = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

std::optional<int64_t> parse_time_string(std::string_view s);
std::optional<int64_t> time_from_number(double v);
std::optional<int64_t> time_from_integer(int64_t v);

// Fluent Bit's msgpack EventTime (ext type 0): seconds and nanoseconds.
inline int64_t time_from_event_time(uint32_t sec, uint32_t nsec) {
  return static_cast<int64_t>(sec) * 1000000 + nsec / 1000;
}

// "2026-11-24T08:45:13.925911Z" (UTC, microseconds).
std::string format_time_iso8601(int64_t us);

}  // namespace luffy
