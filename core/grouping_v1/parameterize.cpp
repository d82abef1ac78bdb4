// grouping_v1: frozen copy of core/parameterize.cpp at fd2f299. Never edit (see README.md).
// Hand-written scanners for parameterize(); see the header for the placeholder set and order.
#include "core/grouping_v1/parameterize.hpp"

#include <array>
#include <optional>

namespace luffy::grouping_v1 {

namespace {

// ---------------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------------

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_alpha(char c) {
  return is_lower(c) || is_upper(c);
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_word(char c) {
  return is_alpha(c) || is_digit(c) || c == '_';
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!pred(c)) {
      return false;
    }
  }
  return true;
}

// Consumes [0-9]+ at s[i]; returns the count.
size_t digits_at(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) {
    ++j;
  }
  return j - i;
}

// ---------------------------------------------------------------------------------------------
// Whole-token matchers: each tests a complete token, no partial matches
// ---------------------------------------------------------------------------------------------

bool is_url(std::string_view t) {
  const size_t p = t.find("://");
  if (p == std::string_view::npos || p == 0 || !is_alpha(t[0]) || p + 3 >= t.size()) {
    return false;
  }
  for (size_t i = 0; i < p; ++i) {
    const char c = t[i];
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '.' || c == '-' || c == ':')) {
      return false;
    }
  }
  return true;
}

bool is_host_label_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-';
}

bool is_email(std::string_view t) {
  const size_t at = t.find('@');
  if (at == std::string_view::npos || at == 0 || t.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (size_t i = 0; i < at; ++i) {
    const char c = t[i];
    if (!(is_word(c) || c == '.' || c == '%' || c == '+' || c == '-')) {
      return false;
    }
  }
  const std::string_view domain = t.substr(at + 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) {
    return false;
  }
  for (char c : domain) {
    if (!(is_host_label_char(c) || c == '.')) {
      return false;
    }
  }
  return all_of(domain.substr(dot + 1), is_alpha);
}

bool is_uuid(std::string_view t) {
  if (t.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? t[i] != '-' : !is_hex(t[i])) {
      return false;
    }
  }
  return true;
}

// hh:mm:ss[.frac][Z|+hh:mm|-hhmm] starting at i; returns the end or npos.
size_t time_end(std::string_view t, size_t i) {
  if (digits_at(t, i) != 2 || i + 8 > t.size() || t[i + 2] != ':' || digits_at(t, i + 3) != 2 ||
      t[i + 5] != ':' || digits_at(t, i + 6) != 2) {
    return std::string_view::npos;
  }
  size_t j = i + 8;
  if (j < t.size() && (t[j] == '.' || t[j] == ',') && digits_at(t, j + 1) > 0) {
    j += 1 + digits_at(t, j + 1);
  }
  if (j < t.size() && t[j] == 'Z') {
    ++j;
  } else if (j < t.size() && (t[j] == '+' || t[j] == '-') && digits_at(t, j + 1) == 2) {
    j += 3;
    if (j < t.size() && t[j] == ':') {
      ++j;
    }
    j += digits_at(t, j) == 2 ? 2 : 0;
  }
  return j;
}

std::optional<std::string_view> match_date(std::string_view t) {
  if (t.size() < 10 || digits_at(t, 0) != 4 || (t[4] != '-' && t[4] != '/') ||
      digits_at(t, 5) != 2 || t[7] != t[4] || digits_at(t, 8) != 2) {
    return std::nullopt;
  }
  if (t.size() == 10) {
    return "<date>";
  }
  if ((t[10] == 'T' || t[10] == '_') && time_end(t, 11) == t.size()) {
    return "<timestamp>";
  }
  return std::nullopt;
}

// 4 decimal octets; returns the end or npos.
size_t ipv4_end(std::string_view t) {
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const size_t d = digits_at(t, i);
    if (d == 0 || d > 3) {
      return std::string_view::npos;
    }
    int v = 0;
    for (size_t k = 0; k < d; ++k) {
      v = v * 10 + (t[i + k] - '0');
    }
    if (v > 255) {
      return std::string_view::npos;
    }
    i += d;
    if (octet < 3) {
      if (i >= t.size() || t[i] != '.') {
        return std::string_view::npos;
      }
      ++i;
    }
  }
  return i;
}

bool is_ipv6_body(std::string_view t) {
  size_t colons = 0;
  size_t group = 0;
  size_t hexdigits = 0;
  const size_t pct = t.find('%');
  if (pct != std::string_view::npos) {
    t = t.substr(0, pct);  // zone id
  }
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == ':') {
      ++colons;
      group = 0;
    } else if (is_hex(c)) {
      ++hexdigits;
      if (++group > 4) {
        return false;
      }
    } else if (c == '.') {
      // embedded IPv4 tail: ::ffff:10.0.0.1
      const size_t start = t.rfind(':', i) + 1;
      return colons >= 2 && ipv4_end(t.substr(start)) == t.size() - start;
    } else {
      return false;
    }
  }
  if (t.find(":::") != std::string_view::npos || colons > 7 || hexdigits == 0) {
    return false;
  }
  return t.find("::") != std::string_view::npos ? colons >= 2 : colons == 7;
}

std::optional<std::string> match_ip(std::string_view t) {
  if (const size_t e = ipv4_end(t); e != std::string_view::npos) {
    if (e == t.size()) {
      return "<ip>";
    }
    if (t[e] == ':' && digits_at(t, e + 1) == t.size() - e - 1) {
      return "<ip>:<port>";
    }
    if (t[e] == '/' && digits_at(t, e + 1) == t.size() - e - 1) {
      return "<ip>/<num>";
    }
    return std::nullopt;
  }
  if (!t.empty() && t[0] == '[') {
    const size_t close = t.find(']');
    if (close != std::string_view::npos && is_ipv6_body(t.substr(1, close - 1))) {
      if (close + 1 == t.size()) {
        return "[<ip>]";
      }
      if (t[close + 1] == ':' && digits_at(t, close + 2) == t.size() - close - 2) {
        return "<ip>:<port>";
      }
    }
    return std::nullopt;
  }
  if (t.find(':') != std::string_view::npos && is_ipv6_body(t)) {
    return "<ip>";
  }
  return std::nullopt;
}

bool is_mac(std::string_view t) {
  if (t.size() != 17) {
    return false;
  }
  for (size_t i = 0; i < 17; ++i) {
    if (i % 3 == 2 ? (t[i] != ':' && t[i] != '-') || t[i] != t[2] : !is_hex(t[i])) {
      return false;
    }
  }
  return true;
}

constexpr std::array<std::string_view, 16> k_path_roots = {
    "var",  "tmp", "home", "usr", "etc",  "opt", "srv",   "app",
    "data", "mnt", "proc", "dev", "root", "run", "Users", "private",
};

bool is_path(std::string_view t) {
  if (t.starts_with("~/") || t.starts_with("./") || t.starts_with("../")) {
    return t.size() > 3;
  }
  if (t.size() > 3 && is_alpha(t[0]) && t[1] == ':' && t[2] == '\\') {
    return true;
  }
  if (t.size() < 3 || t[0] != '/' || t[1] == '/') {
    return false;
  }
  const size_t second = t.find('/', 1);
  if (second == std::string_view::npos) {
    return false;
  }
  const std::string_view first = t.substr(1, second - 1);
  for (std::string_view r : k_path_roots) {
    if (first == r) {
      return true;
    }
  }
  const std::string_view last = t.substr(t.rfind('/') + 1);
  const size_t dot = last.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < last.size() &&
         all_of(last.substr(dot + 1), [](char c) { return is_alpha(c) || is_digit(c); }) &&
         is_alpha(last[dot + 1]);
}

bool is_hex_literal(std::string_view t) {
  return t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && all_of(t.substr(2), is_hex);
}

bool is_hash(std::string_view t) {
  if (t.size() < 7 || !all_of(t, is_hex)) {
    return false;
  }
  if (t.size() == 32 || t.size() == 40 || t.size() == 64) {
    return true;
  }
  bool digit = false;
  bool letter = false;
  for (char c : t) {
    (is_digit(c) ? digit : letter) = true;
  }
  return digit && letter;
}

// digits[.digits] at i; returns the end or npos.
size_t decimal_end(std::string_view t, size_t i) {
  const size_t d = digits_at(t, i);
  if (d == 0) {
    return std::string_view::npos;
  }
  size_t j = i + d;
  if (j + 1 < t.size() && t[j] == '.' && is_digit(t[j + 1])) {
    j += 1 + digits_at(t, j + 1);
  }
  return j;
}

// Longest unit from `units` at t[i]; returns its length or 0.
template <size_t N>
size_t unit_at(std::string_view t, size_t i, const std::array<std::string_view, N>& units) {
  size_t best = 0;
  for (std::string_view u : units) {
    if (u.size() > best && t.substr(i, u.size()) == u) {
      best = u.size();
    }
  }
  return best;
}

constexpr std::array<std::string_view, 16> k_time_units = {
    "ns",  "us",   "\xc2\xb5s", "ms",   "s",  "m",   "h",    "d",
    "sec", "secs", "min",       "mins", "hr", "hrs", "msec", "usec",
};
constexpr std::array<std::string_view, 17> k_size_units = {
    "B",   "KB",  "MB", "GB", "TB", "PB",    "kB", "KiB", "MiB",
    "GiB", "TiB", "kb", "mb", "gb", "bytes", "K",  "M",
};

bool is_duration(std::string_view t) {
  size_t i = 0;
  size_t pairs = 0;
  while (i < t.size()) {
    const size_t e = decimal_end(t, i);
    if (e == std::string_view::npos) {
      return false;
    }
    const size_t u = unit_at(t, e, k_time_units);
    if (u == 0) {
      return false;
    }
    i = e + u;
    ++pairs;
  }
  return pairs > 0;
}

bool is_size(std::string_view t) {
  const size_t e = decimal_end(t, 0);
  if (e == std::string_view::npos || e == t.size()) {
    return false;
  }
  return unit_at(t, e, k_size_units) == t.size() - e;
}

bool is_number(std::string_view t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  if (digits_at(t, i) == 0) {
    return false;
  }
  while (i < t.size()) {
    const size_t d = digits_at(t, i);
    if (d == 0) {
      return false;
    }
    i += d;
    if (i < t.size()) {
      if ((t[i] != '.' && t[i] != ',') || i + 1 == t.size()) {
        return false;
      }
      ++i;
    }
  }
  return true;
}

constexpr std::array<std::string_view, 34> k_tlds = {
    "com",  "net",  "org",     "io",     "dev",     "co",      "internal",  "local", "localdomain",
    "lan",  "svc",  "cluster", "consul", "corp",    "intra",   "cloud",     "edu",   "gov",
    "info", "biz",  "me",      "us",     "uk",      "de",      "fr",        "eu",    "nl",
    "ai",   "arpa", "home",    "test",   "example", "invalid", "amazonaws",
};

bool is_hostname(std::string_view t) {
  size_t labels = 0;
  bool variable_label = false;
  size_t start = 0;
  std::string_view last;
  while (start <= t.size()) {
    size_t end = t.find('.', start);
    if (end == std::string_view::npos) {
      end = t.size();
    }
    const std::string_view label = t.substr(start, end - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(is_lower(c) || is_digit(c) || c == '-')) {
        return false;
      }
      variable_label = variable_label || is_digit(c) || c == '-';
    }
    ++labels;
    last = label;
    start = end + 1;
  }
  if (labels < 2 || !all_of(last, is_lower)) {
    return false;
  }
  for (std::string_view tld : k_tlds) {
    if (last == tld) {
      return true;
    }
  }
  return labels >= 3 && variable_label;
}

// NAME/x[.y] with an upper-case NAME: HTTP/1.1, HTTP/2, TLS/1.3.
bool is_protocol_version(std::string_view t) {
  const size_t slash = t.find('/');
  if (slash == std::string_view::npos || slash < 2 || !all_of(t.substr(0, slash), is_upper)) {
    return false;
  }
  const std::string_view v = t.substr(slash + 1);
  return !v.empty() && is_digit(v[0]) && v.size() <= 4 &&
         all_of(v, [](char c) { return is_digit(c) || c == '.'; });
}

// The placeholder for a whole token, or nullopt. Returns the token itself for protected tokens.
// ---------------------------------------------------------------------------------------------
// Token dispatch: whole token, then its parts, then its words
// ---------------------------------------------------------------------------------------------

std::optional<std::string> match_whole(std::string_view t) {
  if (t.empty()) {
    return std::nullopt;
  }
  if (t[0] == '<' && t.back() == '>') {
    return std::string(t);  // already a placeholder (idempotence) or <anonymous>
  }
  // One pass of character classes gates the matchers: plain words cost one scan.
  bool digit = false;
  bool colon = false;
  bool slash = false;
  bool at = false;
  bool dot = false;
  for (char c : t) {
    digit = digit || is_digit(c);
    colon = colon || c == ':';
    slash = slash || c == '/' || c == '\\';
    at = at || c == '@';
    dot = dot || c == '.';
  }
  if (slash && is_protocol_version(t)) {
    return std::string(t);
  }
  if (colon && slash && is_url(t)) {
    return "<url>";
  }
  if (at && is_email(t)) {
    return "<email>";
  }
  if (t.size() == 36 && is_uuid(t)) {
    return "<uuid>";
  }
  if (digit) {
    if (auto d = match_date(t)) {
      return std::string(*d);
    }
    if (colon && time_end(t, 0) == t.size()) {
      return "<time>";
    }
  }
  if (t.size() == 17 && is_mac(t)) {
    return "<mac>";
  }
  if (digit || colon) {
    if (auto ip = match_ip(t)) {
      return ip;
    }
  }
  if ((slash || t[0] == '~' || t[0] == '.') && is_path(t)) {
    return "<path>";
  }
  if (digit) {
    if (is_hex_literal(t)) {
      return "<hex>";
    }
    if (is_number(t)) {
      return "<num>";
    }
  }
  if ((digit || t.size() == 32 || t.size() == 40 || t.size() == 64) && is_hash(t)) {
    return "<hash>";
  }
  if (digit) {
    if (is_duration(t)) {
      return "<duration>";
    }
    if (is_size(t)) {
      return "<size>";
    }
  }
  if (dot && is_hostname(t)) {
    return "<host>";
  }
  return std::nullopt;
}

bool is_delim(char c) {
  switch (c) {
    case '/':
    case ':':
    case ',':
    case ';':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '|':
    case '&':
    case '?':
    case '#':
    case '"':
    case '\'':
    case '`':
    case '=':
    case '<':
    case '>':
      return true;
    default:
      return false;
  }
}

// Word-level fallback inside a part: numbers and hashes standing alone between non-word chars.
void scan_words(std::string_view p, std::string& out) {
  size_t i = 0;
  while (i < p.size()) {
    if (!is_word(p[i])) {
      out += p[i++];
      continue;
    }
    if (i + 36 <= p.size() && is_uuid(p.substr(i, 36)) &&
        (i + 36 == p.size() || !is_word(p[i + 36]))) {
      out += "<uuid>";
      i += 36;
      continue;
    }
    size_t j = i;
    while (j < p.size() && is_word(p[j])) {
      ++j;
    }
    const std::string_view w = p.substr(i, j - i);
    if (all_of(w, is_digit)) {
      // decimals: 3.14 / 1,024
      while (j + 1 < p.size() && (p[j] == '.' || p[j] == ',') && is_digit(p[j + 1])) {
        j += 1 + digits_at(p, j + 1);
      }
      if (j < p.size() && is_word(p[j])) {
        // "3.5ms"-like: glued to letters. Keep the whole glued word as it is; stopping after the
        // number would leave "a3e9" to match on its own, and a second pass would then see the
        // number standing alone (parameterize must be idempotent).
        while (j < p.size() && is_word(p[j])) {
          ++j;
        }
        out.append(p.substr(i, j - i));
      } else {
        out += "<num>";
      }
    } else if (is_hash(w) || is_hex_literal(w)) {
      out += is_hex_literal(w) ? "<hex>" : "<hash>";
    } else if (is_duration(w)) {
      out += "<duration>";
    } else {
      out.append(w);
    }
    i = j;
  }
}

void process_token(std::string_view tok, std::string& out);

// No whole-token match: split on delimiters and test each part.
void process_parts(std::string_view core, std::string& out) {
  size_t i = 0;
  while (i < core.size()) {
    if (is_delim(core[i])) {
      out += core[i++];
      continue;
    }
    size_t j = i;
    while (j < core.size() && !is_delim(core[j])) {
      ++j;
    }
    const std::string_view part = core.substr(i, j - i);
    if (auto m = match_whole(part)) {
      out += *m;
    } else {
      scan_words(part, out);
    }
    i = j;
  }
}

void process_token(std::string_view tok, std::string& out) {
  // "[fe80::1]:8080" must be tested before its bracket is stripped.
  if (!tok.empty() && tok[0] == '[') {
    if (auto ip = match_ip(tok)) {
      out += *ip;
      return;
    }
  }
  size_t b = 0;
  size_t e = tok.size();
  while (b < e && (tok[b] == '(' || tok[b] == '[' || tok[b] == '{' || tok[b] == '"' ||
                   tok[b] == '\'' || tok[b] == '`')) {
    ++b;
  }
  while (e > b &&
         (tok[e - 1] == ')' || tok[e - 1] == ']' || tok[e - 1] == '}' || tok[e - 1] == '"' ||
          tok[e - 1] == '\'' || tok[e - 1] == '`' || tok[e - 1] == ',' || tok[e - 1] == ';' ||
          tok[e - 1] == ':' || tok[e - 1] == '.' || tok[e - 1] == '!' || tok[e - 1] == '?' ||
          tok[e - 1] == '%')) {
    --e;
  }
  const std::string_view core = tok.substr(b, e - b);
  out.append(tok.substr(0, b));
  if (core.empty()) {
    // only punctuation
  } else if (auto m = match_whole(core)) {
    out += *m;
  } else if (const size_t eq = core.find('='); eq != std::string_view::npos && eq > 0) {
    process_parts(core.substr(0, eq), out);
    out += '=';
    process_token(core.substr(eq + 1), out);
  } else {
    process_parts(core, out);
  }
  out.append(tok.substr(e));
}

char last_non_space(const std::string& s) {
  for (size_t i = s.size(); i-- > 0;) {
    if (!is_space(s[i])) {
      return s[i];
    }
  }
  return '\0';
}

// Where the first name="quoted value" (or name='...') of a token starts: the '=', or npos.
size_t quoted_value_at(std::string_view tok) {
  for (size_t k = 0; k + 1 < tok.size(); ++k) {
    if (tok[k] == '=' && (tok[k + 1] == '"' || tok[k + 1] == '\'')) {
      return k;
    }
  }
  return std::string_view::npos;
}

// One whitespace-separated token on its own: name="quoted value" closed inside the token, then
// process_token. This is what a second parameterize() pass does with an output token.
void token_pass(std::string_view tok, std::string& out) {
  for (size_t eq = quoted_value_at(tok); eq != std::string_view::npos; eq = quoted_value_at(tok)) {
    const size_t close = tok.find(tok[eq + 1], eq + 2);
    if (close == std::string_view::npos) {
      break;
    }
    if (eq > 0) {
      process_token(tok.substr(0, eq), out);
    }
    out += "=<quoted>";
    tok.remove_prefix(close + 1);  // the rest is read as a token of its own, as parameterize does
  }
  if (!tok.empty()) {
    process_token(tok, out);
  }
}

// Makes the output token out[start..] a fixed point. A substitution can make a token that a second
// pass reads differently ("~/4" -> "~/<num>", which is a whole <path>); rather than chase each such
// pair in the matchers, a token that changed is passed again until it stops changing, so
// parameterize(parameterize(x)) == parameterize(x) holds by construction. Tokens left as they
// were (most words) cost one comparison; changed ones are short ("<num>" returns at once).
void settle_token(std::string& out, size_t start, std::string_view input_token) {
  const std::string_view produced = std::string_view(out).substr(start);
  if (produced == input_token) {
    return;
  }
  // A token that starts with '<' and ends with '>' ("<num>", "<uuid>") is returned as it is by
  // match_whole, unless a name="quoted" pair inside it is taken first.
  if (produced.size() >= 2 && produced.front() == '<' && produced.back() == '>' &&
      quoted_value_at(produced) == std::string_view::npos) {
    return;
  }
  thread_local std::string cur;
  thread_local std::string next;
  cur.assign(produced);
  for (int round = 0; round < 8; ++round) {  // a bound, never reached by the fuzzers
    next.clear();
    token_pass(cur, next);
    if (next == cur) {
      break;
    }
    cur.swap(next);
  }
  out.resize(start);
  out += cur;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry point: splits on whitespace, handles name="quoted value"
// ---------------------------------------------------------------------------------------------

std::string parameterize(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  constexpr size_t none = std::string_view::npos;
  size_t out_start = none;  // where the current output token starts
  size_t in_start = 0;      // and where its input starts
  const auto settle = [&](size_t in_end) {
    if (out_start != none) {
      settle_token(out, out_start, s.substr(in_start, in_end - in_start));
      out_start = none;
    }
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      settle(i);
      out += c;
      ++i;
      continue;
    }
    if (out_start == none) {
      out_start = out.size();
      in_start = i;
    }
    // name = "quoted value" (the '=' ended the previous token)
    if ((c == '"' || c == '\'') && last_non_space(out) == '=') {
      const size_t close = s.find(c, i + 1);
      if (close != std::string_view::npos) {
        out += "<quoted>";
        i = close + 1;
        continue;
      }
    }
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) {
      ++j;
    }
    const std::string_view tok = s.substr(i, j - i);
    // name="quoted value with spaces"
    if (const size_t eq = quoted_value_at(tok); eq != std::string_view::npos) {
      const size_t close = s.find(tok[eq + 1], i + eq + 2);
      if (close != std::string_view::npos) {
        if (eq > 0) {
          process_token(tok.substr(0, eq), out);
        }
        out += "=<quoted>";
        i = close + 1;
        continue;
      }
    }
    process_token(tok, out);
    i = j;
  }
  settle(s.size());
  return out;
}

}  // namespace luffy::grouping_v1
