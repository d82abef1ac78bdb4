#include "core/glob.hpp"

namespace luffy {

namespace {

// Length of the class starting at pattern[i] == '[' (up to and including ']'), or 0 when it is
// not terminated.
size_t class_length(std::string_view p, size_t i) {
  size_t j = i + 1;
  if (j < p.size() && p[j] == '!') {
    ++j;
  }
  if (j < p.size() && p[j] == ']') {
    ++j;  // a leading ']' is a member
  }
  while (j < p.size() && p[j] != ']') {
    if (p[j] == '\\') {
      ++j;
    }
    ++j;
  }
  return j < p.size() ? j - i + 1 : 0;
}

bool class_matches(std::string_view cls, char c) {
  // cls is "[...]" including the brackets
  size_t j = 1;
  bool negate = false;
  if (cls[j] == '!') {
    negate = true;
    ++j;
  }
  bool hit = false;
  const size_t end = cls.size() - 1;
  bool first = true;
  while (j < end) {
    char lo = cls[j];
    if (lo == '\\' && j + 1 < end) {
      lo = cls[++j];
    } else if (lo == ']' && !first) {
      break;
    }
    first = false;
    char hi = lo;
    if (j + 2 < end && cls[j + 1] == '-') {
      hi = cls[j + 2];
      if (hi == '\\' && j + 3 < end) {
        hi = cls[j + 3];
        ++j;
      }
      j += 2;
    }
    if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
        static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi)) {
      hit = true;
    }
    ++j;
  }
  return hit != negate;
}

// Matches one pattern element at p[i] against c; sets `width` to the element's length.
bool element_matches(std::string_view p, size_t i, char c, size_t& width) {
  if (p[i] == '?') {
    width = 1;
    return true;
  }
  if (p[i] == '[') {
    width = class_length(p, i);
    return width > 0 && class_matches(p.substr(i, width), c);
  }
  if (p[i] == '\\' && i + 1 < p.size()) {
    width = 2;
    return p[i + 1] == c;
  }
  width = 1;
  return p[i] == c;
}

}  // namespace

std::optional<std::string> glob_error(std::string_view p) {
  if (p.empty()) {
    return "empty pattern";
  }
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (i + 1 == p.size()) {
        return "trailing \\ escapes nothing";
      }
      ++i;
    } else if (p[i] == '[') {
      const size_t n = class_length(p, i);
      if (n == 0) {
        return "unterminated [ (write \\[ for a literal bracket)";
      }
      if (n == 2 || (n == 3 && p[i + 1] == '!')) {
        return "empty character class";
      }
      i += n - 1;
    }
  }
  return std::nullopt;
}

bool glob_match(std::string_view p, std::string_view t) {
  if (glob_error(p)) {
    return false;
  }
  // Iterative matching with one backtrack point (the last '*'): linear per star, no recursion.
  size_t pi = 0, ti = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    size_t width = 0;
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_t = ti;
      continue;
    }
    if (pi < p.size() && element_matches(p, pi, t[ti], width)) {
      pi += width;
      ++ti;
      continue;
    }
    if (star_p == std::string_view::npos) {
      return false;
    }
    pi = star_p;
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') {
    ++pi;
  }
  return pi == p.size();
}

size_t glob_specificity(std::string_view p) {
  size_t n = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '*' || p[i] == '?') {
      continue;
    }
    if (p[i] == '[') {
      const size_t w = class_length(p, i);
      if (w > 0) {
        i += w - 1;
      }
    } else if (p[i] == '\\') {
      ++i;
    }
    ++n;
  }
  return n;
}

bool is_glob(std::string_view text) {
  return text.find_first_of("*?[\\") != std::string_view::npos;
}

}  // namespace luffy
