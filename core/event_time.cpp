#include "core/event_time.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace luffy {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_digits(std::string_view s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    const char c = s[i + k];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  out = v;
  i += n;
  return true;
}

bool is_numeric(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  bool digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '-' || c == '+') {
      // A sign only leads the number or its exponent: "2026-08-21" is a date.
      if (i != 0 && s[i - 1] != 'e' && s[i - 1] != 'E') {
        return false;
      }
    } else if (c != '.' && c != 'e' && c != 'E') {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::optional<int64_t> time_from_number(double v) {
  if (!std::isfinite(v) || v < 0) {
    return std::nullopt;
  }
  double us;
  if (v < 1e11) {
    us = v * 1e6;
  } else if (v < 1e14) {
    us = v * 1e3;
  } else if (v < 1e17) {
    us = v;
  } else {
    us = v / 1e3;
  }
  // Only the nanosecond band of a double can go past 9999-12-31 (integers stop near 2262): a
  // five-digit year could not be written as RFC 3339 and read back from the journal.
  if (us > static_cast<double>(max_event_time_us)) {
    return std::nullopt;
  }
  return std::min(static_cast<int64_t>(std::llround(us)), max_event_time_us);
}

std::optional<int64_t> time_from_integer(int64_t v) {
  if (v < 0) {
    return std::nullopt;
  }
  if (v < 100000000000LL) {
    return v * 1000000;
  }
  if (v < 100000000000000LL) {
    return v * 1000;
  }
  if (v < 100000000000000000LL) {
    return v;
  }
  return v / 1000;
}

std::optional<int64_t> parse_time_string(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  if (is_numeric(s)) {
    double v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      return std::nullopt;
    }
    if (s.find_first_of(".eE") == std::string_view::npos) {
      int64_t iv = 0;
      auto ri = std::from_chars(s.data(), s.data() + s.size(), iv);
      if (ri.ec == std::errc() && ri.ptr == s.data() + s.size()) {
        return time_from_integer(iv);
      }
    }
    return time_from_number(v);
  }
  size_t i = 0;
  int year, mon, day, hour = 0, min = 0, sec = 0;
  if (!read_digits(s, i, 4, year) || i >= s.size() || s[i++] != '-' || !read_digits(s, i, 2, mon) ||
      i >= s.size() || s[i++] != '-' || !read_digits(s, i, 2, day)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  int64_t frac_us = 0;
  int64_t offset_s = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
      return std::nullopt;
    }
    ++i;
    if (!read_digits(s, i, 2, hour) || i >= s.size() || s[i++] != ':' ||
        !read_digits(s, i, 2, min)) {
      return std::nullopt;
    }
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!read_digits(s, i, 2, sec)) {
        return std::nullopt;
      }
    }
    if (hour > 23 || min > 59 || sec > 60) {
      return std::nullopt;
    }
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      int64_t scale = 100000;
      size_t digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale > 0) {
          frac_us += (s[i] - '0') * scale;
          scale /= 10;
        }
        ++i;
        ++digits;
      }
      if (digits == 0) {
        return std::nullopt;
      }
    }
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!read_digits(s, i, 2, oh)) {
          return std::nullopt;
        }
        if (i < s.size() && s[i] == ':') {
          ++i;
        }
        if (i < s.size() && !read_digits(s, i, 2, om)) {
          return std::nullopt;
        }
        offset_s = sign * (oh * 3600 + om * 60);
      }
    }
    if (i != s.size()) {
      return std::nullopt;
    }
  }
  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
  const int64_t us = secs * 1000000 + frac_us;
  if (us < min_event_time_us || us > max_event_time_us) {
    return std::nullopt;  // an offset or a leap second pushed it past year 0000 or 9999
  }
  return us;
}

std::string format_time_iso8601(int64_t us) {
  int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  const int64_t frac = us - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  // civil_from_days (H. Hinnant).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  // Hand-formatted: this runs for every journaled record, and snprintf was a visible cost.
  char buf[32];
  auto put = [&buf](int pos, int64_t v, int width) {
    for (int k = width - 1; k >= 0; --k) {
      buf[pos + k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  if (y < 0 || y > 9999) {
    y = y < 0 ? 0 : 9999;
  }
  put(0, y, 4);
  buf[4] = '-';
  put(5, m, 2);
  buf[7] = '-';
  put(8, d, 2);
  buf[10] = 'T';
  put(11, rem / 3600, 2);
  buf[13] = ':';
  put(14, rem % 3600 / 60, 2);
  buf[16] = ':';
  put(17, rem % 60, 2);
  buf[19] = '.';
  put(20, frac, 6);
  buf[26] = 'Z';
  return std::string(buf, 27);
}

}  // namespace luffy
