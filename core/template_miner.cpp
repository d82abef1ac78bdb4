#include "core/template_miner.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>

namespace luffy {

namespace {

constexpr std::string_view k_wildcard = "<*>";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Length of a placeholder ("<num>", "<*>") at t[k], else 0.
size_t placeholder_at(std::string_view t, size_t k) {
  if (t[k] != '<') {
    return 0;
  }
  size_t e = k + 1;
  while (e < t.size() && ((t[e] >= 'a' && t[e] <= 'z') || t[e] == '*')) {
    ++e;
  }
  return e < t.size() && t[e] == '>' && e > k + 1 ? e - k + 1 : 0;
}

// Letters of `t` outside placeholders ("<num>", "<*>"), how many digits, the longest digit run.
struct token_shape {
  bool has_placeholder = false;
  bool has_letter = false;
  size_t digits = 0;
  size_t longest_digit_run = 0;
};

token_shape shape_of(std::string_view t) {
  token_shape s;
  size_t run = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '<') {
      if (const size_t p = placeholder_at(t, i); p > 0) {
        s.has_placeholder = true;
        i += p - 1;
        run = 0;
        continue;
      }
    }
    if (is_digit(c)) {
      ++s.digits;
      s.longest_digit_run = std::max(s.longest_digit_run, ++run);
      continue;
    }
    run = 0;
    s.has_letter = s.has_letter || is_alpha(c);
  }
  return s;
}

// A pure value: a placeholder or digits and no letters outside placeholders ("<num>",
// "<ip>:<port>", "(<num>", "*64", "[<num>]", "12:30").
bool is_pure_value(std::string_view t);

bool is_pure_value(std::string_view t, const token_shape& s) {
  if (s.has_letter && !s.has_placeholder) {
    return false;  // letters and nothing that could be a value (the common case: a word)
  }
  if (t.size() > 2 && t.front() == '[' && t.find(']') != std::string_view::npos) {
    // A bracketed context of values and "-" (no value): "[-]", "[req-<uuid> <hash> - - -]".
    std::string_view in = t.substr(1, t.rfind(']') - 1);
    bool all = !in.empty();
    while (all && !in.empty()) {
      const size_t sp = in.find(' ');
      const std::string_view piece = in.substr(0, sp);
      all = piece == "-" || (piece.find('[') == std::string_view::npos && is_pure_value(piece));
      in = sp == std::string_view::npos ? std::string_view() : in.substr(sp + 1);
    }
    if (all) {
      return true;
    }
  }
  if ((s.has_placeholder || s.digits > 0) && !s.has_letter) {
    return true;
  }
  // An empty value: "()", "[]", "{}", "''", "\"\"".
  if (t == "()" || t == "[]" || t == "{}" || t == "''" || t == "\"\"") {
    return true;
  }
  std::string_view c = t;
  while (!c.empty() && (c.front() == '[' || c.front() == '(')) {
    c.remove_prefix(1);
  }
  while (!c.empty() && (c.back() == ']' || c.back() == ')' || c.back() == ',')) {
    c.remove_suffix(1);
  }
  // An identifier: a word glued to a placeholder by '-' or '_' ("req-<uuid>", "node-<num>").
  size_t i = 0;
  while (i < c.size() && is_alpha(c[i])) {
    ++i;
  }
  if (i == 0 || i + 1 >= c.size() || (c[i] != '-' && c[i] != '_')) {
    return false;
  }
  const std::string_view rest = c.substr(i + 1);
  return rest.size() >= 3 && rest.front() == '<' && rest.back() == '>' &&
         rest.find('>') == rest.size() - 1 &&
         std::all_of(rest.begin() + 1, rest.end() - 1, [](char x) { return x >= 'a' && x <= 'z'; });
}

bool is_pure_value(std::string_view t) {
  return is_pure_value(t, shape_of(t));
}

// The token without surrounding brackets, quotes and trailing punctuation.
std::string_view core_of(std::string_view t) {
  size_t b = 0;
  size_t e = t.size();
  const auto opener = [](char c) {
    return c == '(' || c == '[' || c == '{' || c == '"' || c == '\'';
  };
  const auto closer = [](char c) {
    return c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == ',' || c == ';' ||
           c == ':' || c == '.' || c == '!' || c == '?';
  };
  while (b < e && opener(t[b])) {
    ++b;
  }
  while (e > b && closer(t[e - 1])) {
    --e;
  }
  return t.substr(b, e - b);
}

// Units that complete a number written before them ("12 KB", "<1 sec"): part of the value.
constexpr std::array<std::string_view, 30> k_units = {
    "b",       "kb",  "mb",   "gb",     "tb",      "kib", "mib", "gib", "tib",  "byte",
    "bytes",   "k",   "m",    "ms",     "us",      "ns",  "s",   "sec", "secs", "second",
    "seconds", "min", "mins", "minute", "minutes", "h",   "hr",  "hrs", "hour", "hours"};

bool is_unit(std::string_view t) {
  const std::string_view c = core_of(t);
  if (c.empty() || c.size() > 7) {
    return false;
  }
  for (std::string_view u : k_units) {
    if (u.size() == c.size() &&
        std::equal(u.begin(), u.end(), c.begin(), [](char a, char b) { return a == lower(b); })) {
      return true;
    }
  }
  return false;
}

// Skeletons: a token with every digit run and placeholder collapsed to '#': "dn228" and "dn31"
// share "dn#", "rhost=<ip>" and "rhost=<host>" share "rhost=#".
// Steps through the skeleton of t without building it: returns the next skeleton character ('#'
// for a digit run or a placeholder) and advances i, or '\0' at the end.
char next_skeleton_char(std::string_view t, size_t& i) {
  if (i >= t.size()) {
    return '\0';
  }
  bool variable = false;
  while (i < t.size()) {
    if (is_digit(t[i])) {
      ++i;
      variable = true;
      continue;
    }
    if (t[i] == '<') {
      if (const size_t p = placeholder_at(t, i); p > 0) {
        i += p;
        variable = true;
        continue;
      }
    }
    break;
  }
  if (variable) {
    return '#';
  }
  return t[i++];
}

bool same_skeleton(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  for (;;) {
    const char x = next_skeleton_char(a, i);
    const char y = next_skeleton_char(b, j);
    if (x != y) {
      return false;
    }
    if (x == '\0') {
      return true;
    }
  }
}

uint64_t skeleton_hash(std::string_view t) {
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  for (char c = next_skeleton_char(t, i); c != '\0'; c = next_skeleton_char(t, i)) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

bool has_digit(std::string_view t) {
  return std::any_of(t.begin(), t.end(), is_digit);
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t j = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || is_space(s[i])) {
      if (i > j) {
        out.emplace_back(s.substr(j, i - j));
      }
      j = i + 1;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) {
    if (!out.empty()) {
      out += ' ';
    }
    out += t;
  }
  return out;
}

// '[' minus ']' in a word.
int bracket_depth(std::string_view t) {
  int d = 0;
  for (char c : t) {
    d += c == '[' ? 1 : c == ']' ? -1 : 0;
  }
  return d;
}

// Splits on whitespace; a run of adjacent values (and the units that follow a value) is one
// token, joined by single spaces: "<num> bytes (<num> KB)", "<month> <num> <time>". "<*>" always
// stands alone, so a template reads back into the tokens it was made of.
std::vector<std::string> tokenize(std::string_view s, std::vector<token_shape>* shapes = nullptr) {
  std::vector<std::string> out;
  bool in_run = false;        // the last token is a value run that may grow
  std::string_view previous;  // the last word (a view into s)
  bool previous_digit = false;
  out.reserve(16);
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) {
      ++i;
    }
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) {
      ++j;
    }
    if (j == i) {
      break;
    }
    std::string_view t = s.substr(i, j - i);
    i = j;
    // A bracketed group spanning several words ("[AsyncDispatcher event handler]",
    // "[req-<uuid> - - -]") is one token.
    std::string grouped;
    if (t.front() == '[' && bracket_depth(t) > 0) {
      int depth = bracket_depth(t);
      size_t k = i;
      for (int words = 0; words < 8 && depth > 0 && k < s.size(); ++words) {
        while (k < s.size() && is_space(s[k])) {
          ++k;
        }
        size_t l = k;
        while (l < s.size() && !is_space(s[l])) {
          ++l;
        }
        if (l == k) {
          break;
        }
        depth += bracket_depth(s.substr(k, l - k));
        k = l;
      }
      if (depth == 0) {
        grouped = join(split_words(s.substr(i - t.size(), k - (i - t.size()))));
        t = grouped;
        i = k;
      }
    }
    if (t == k_wildcard) {
      out.emplace_back(t);
      if (shapes != nullptr) {
        shapes->push_back(token_shape{true, false, 0, 0});
      }
      in_run = false;
      continue;
    }
    const token_shape shape = shape_of(t);
    const bool value = is_pure_value(t, shape);
    // A list of numbered names is one value too: "an14 an15 an16".
    const bool digit = grouped.empty() && has_digit(t);
    const bool listed =
        !value && !out.empty() && digit && previous_digit && same_skeleton(previous, t);
    previous = grouped.empty() ? t : std::string_view();  // never a view into `grouped`
    previous_digit = digit;
    if ((in_run && (value || is_unit(t))) || listed) {
      out.back() += ' ';
      out.back() += t;
      if (shapes != nullptr) {
        token_shape& joined = shapes->back();  // the shape of the whole run
        joined.has_placeholder = joined.has_placeholder || shape.has_placeholder;
        joined.has_letter = joined.has_letter || shape.has_letter;
        joined.digits += shape.digits;
        joined.longest_digit_run = std::max(joined.longest_digit_run, shape.longest_digit_run);
      }
      in_run = in_run || listed;
      continue;
    }
    out.emplace_back(t);
    if (shapes != nullptr) {
      shapes->push_back(shape);
    }
    in_run = value;
  }
  return out;
}

// Tokens that are probably variable route through the wildcard branch.
bool routes_as_variable(std::string_view t) {
  const token_shape s = shape_of(t);
  return s.has_placeholder || s.digits > 0;
}

// Closed-class English words (and negations): never a variable, and a word right after one of
// them is a verb or a noun of the sentence, not a name ("could not open", "failed to save").
constexpr std::array<std::string_view, 40> k_function_words = {
    "a",      "an",    "the",  "this",  "that",  "these", "those", "no",     "not",  "never",
    "cannot", "can't", "can",  "could", "will",  "would", "shall", "should", "must", "may",
    "to",     "be",    "been", "being", "is",    "are",   "was",   "were",   "has",  "have",
    "had",    "do",    "does", "did",   "don't", "and",   "or",    "nor",    "but",  "unable"};

bool equal_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool is_function_word(std::string_view t) {
  const std::string_view c = core_of(t);
  for (std::string_view w : k_function_words) {
    if (equal_ci(c, w)) {
      return true;
    }
  }
  return false;
}

// Nouns whose next word is the name of the thing ("user alice", "customer bob", "region emea").
constexpr std::array<std::string_view, 10> k_naming_nouns = {
    "user",  "username", "customer", "tenant", "account",
    "owner", "member",   "region",   "login",  "principal"};

// Keys whose value is a name when written as a key ("name=android", "Name: StateSnapshots",
// "host=db1"); as plain nouns they are often a sentence's subject ("host unreachable").
constexpr std::array<std::string_view, 3> k_naming_keys = {"name", "host", "hostname"};

bool is_naming_noun(std::string_view t) {
  std::string_view c = t;
  while (!c.empty() && (c.back() == ':' || c.back() == '=')) {
    c.remove_suffix(1);
  }
  for (std::string_view w : k_naming_nouns) {
    if (equal_ci(c, w)) {
      return true;
    }
  }
  if (c.size() < t.size()) {
    for (std::string_view w : k_naming_keys) {
      if (equal_ci(c, w)) {
        return true;
      }
    }
  }
  return false;
}

// A verb form (participle) is what happened, not a name: "VM Started" / "VM Stopped".
bool is_verb_form(std::string_view t) {
  const std::string_view c = core_of(t);
  return (c.size() > 3 && (c.ends_with("ed") || c.ends_with("ED"))) ||
         (c.size() > 4 && (c.ends_with("ing") || c.ends_with("ING")));
}

bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

// Where the part of t starting at i ends: an alphanumeric run (placeholders included) or a run of
// punctuation.
size_t part_end(std::string_view t, size_t i) {
  if (i >= t.size()) {
    return i;
  }
  const auto word_at = [&](size_t k) -> size_t {
    const size_t p = placeholder_at(t, k);
    return p > 0 ? p : (is_alnum(t[k]) ? 1 : 0);
  };
  size_t j = i;
  if (word_at(i) > 0) {
    while (j < t.size() && word_at(j) > 0) {
      j += word_at(j);
    }
  } else {
    while (j < t.size() && word_at(j) == 0) {
      ++j;
    }
  }
  return j;
}

// Severity names: the same message is logged at several levels, so a level is a value.
constexpr std::array<std::string_view, 14> k_levels = {
    "trace", "debug", "info", "notice",   "warn",  "warning", "error",
    "err",   "fatal", "crit", "critical", "alert", "emerg",   "severe"};

// As headers write them: upper case ("INFO", "FATAL") or in brackets ("[notice]").
bool is_level(std::string_view t) {
  const std::string_view c = core_of(t);
  const bool bracketed = !t.empty() && (t.front() == '[' || t.front() == '<');
  if (!bracketed && !std::all_of(c.begin(), c.end(), [](char x) { return x >= 'A' && x <= 'Z'; })) {
    return false;
  }
  for (std::string_view l : k_levels) {
    if (equal_ci(c, l)) {
      return true;
    }
  }
  return false;
}

bool numbered_parts(std::string_view a, std::string_view b);

// The same punctuation around alphanumeric parts, and every part that differs holds a digit or a
// placeholder on both sides: numbered names ("[Thunderbird_A8]" / "[Thunderbird_B8]",
// "(eadmin1)" / "(badmin1)").
bool numbered_parts(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  bool differs = false;
  while (i < a.size() || j < b.size()) {
    const size_t ei = part_end(a, i);
    const size_t ej = part_end(b, j);
    const std::string_view x = a.substr(i, ei - i);
    const std::string_view y = b.substr(j, ej - j);
    if (x.empty() || y.empty()) {
      return false;  // one token has more parts
    }
    if (x != y) {
      const bool word_x = is_alnum(x[0]) || x[0] == '<';
      const bool word_y = is_alnum(y[0]) || y[0] == '<';
      if (!word_x || !word_y) {
        return false;  // different punctuation
      }
      const token_shape sx = shape_of(x);
      const token_shape sy = shape_of(y);
      if (!(sx.digits > 0 || sx.has_placeholder) || !(sy.digits > 0 || sy.has_placeholder)) {
        return false;
      }
      differs = true;
    }
    i = ei;
    j = ej;
  }
  return differs;
}

enum : uint16_t {
  f_wildcard = 1,   // "<*>"
  f_pure = 2,       // a value or a value run
  f_variable = 4,   // holds a digit or a placeholder
  f_digit_run = 8,  // a digit run of 2+
  f_level = 16,     // a severity as headers write it
  f_function = 32,  // a function word
  f_verb = 64,      // a verb form
  f_naming = 128,   // a naming noun (or naming key) right before a name
  f_plain = 256,    // letters, no digit, no placeholder
  f_bracket = 512,  // starts with '['
  f_words = 1024,   // the word-list facts above are computed
};

// 64-bit FNV-1a: deterministic, for quick inequality tests only.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

}  // namespace

// What the comparison needs to know about a token, computed once per token.
struct template_miner::token_info {
  uint64_t hash = 0;
  uint16_t flags = 0;
  uint16_t key_len = 0;  // "user=" / "name:": length of a naming key with its separator, else 0
  uint64_t skeleton_hash = 0;  // of the token with digit runs and placeholders collapsed
};

namespace {

template_miner::token_info info_of(std::string_view t, const token_shape* known = nullptr);

}  // namespace

struct template_miner::node {
  // std::map: ordered, so iteration (and thus behaviour) never depends on hashing.
  std::map<std::string, std::unique_ptr<node>, std::less<>> children;
  std::deque<size_t> groups;  // leaf only: indexes into groups_, most recently used first
};

namespace {

template_miner::token_info info_of(std::string_view t, const token_shape* known) {
  template_miner::token_info f;
  f.hash = fnv1a(t);
  if (t == k_wildcard) {
    f.flags = f_wildcard;
    return f;
  }
  const token_shape sh = known != nullptr ? *known : shape_of(t);
  uint16_t flags = 0;
  const size_t space = t.find(' ');
  if (space == std::string_view::npos ? is_pure_value(t, sh) : is_pure_value(t.substr(0, space))) {
    flags |= f_pure;
  }
  if (sh.digits > 0 || sh.has_placeholder) {
    flags |= f_variable;
    f.skeleton_hash = skeleton_hash(t);
  } else {
    f.skeleton_hash = f.hash;  // the skeleton of a word without digits is the word
    flags |= sh.has_letter ? f_plain : 0;
  }
  if (sh.longest_digit_run >= 2) {
    flags |= f_digit_run;
  }
  if (!t.empty() && t.front() == '[') {
    flags |= f_bracket;
  }
  f.flags = flags;
  return f;
}

// The word-list facts (severity, function word, naming noun, verb form, naming key), computed on
// first use: a message needs them only where it differs from a template.
void add_word_facts(template_miner::token_info& f, std::string_view t) {
  if (f.flags & f_words) {
    return;
  }
  uint16_t flags = f_words;
  if (!(f.flags & f_wildcard)) {
    if (t.size() <= 12) {
      flags |= is_level(t) ? f_level : 0;
      flags |= is_function_word(t) ? f_function : 0;
      flags |= is_naming_noun(t) ? f_naming : 0;
    }
    flags |= is_verb_form(t) ? f_verb : 0;
    if (const size_t k = t.find_first_of("=:"); k != std::string_view::npos && k > 0 &&
                                                k + 1 < t.size() &&
                                                is_naming_noun(t.substr(0, k + 1))) {
      f.key_len = static_cast<uint16_t>(std::min<size_t>(k + 1, 0xffff));
    }
  }
  f.flags |= flags;
}

template_miner::token_info full_info_of(std::string_view t) {
  template_miner::token_info f = info_of(t);
  add_word_facts(f, t);
  return f;
}

// Prepositions that introduce who did something or where it came from.
bool is_agent_preposition(std::string_view t) {
  return t == "for" || t == "from" || t == "by" || t == "via";
}

// The value run that parameterize() makes of a syslog header: "<month> <num> <time> <host>".
bool is_syslog_header(std::string_view t) {
  return t.starts_with("<month> ") && t.ends_with(" <host>");
}

// Two different tokens at one position: does the difference itself show a variable? Two
// severities; a value or value run on either side ("<num>", "12", "<ip>:<port>", "<num> bytes
// (<num> KB)"); an identifier with a digit run of 2+ ("dn228", "R02-M1-N0"); the same word around
// other numbers or placeholders ("u0" / "u12", "rhost=<ip>" / "rhost=<host>"); numbered parts.
// Reads the precomputed facts; only the numbered-parts case reads the text.
bool differ_like_values(const std::string& a, const template_miner::token_info& fa,
                        const std::string& b, const template_miner::token_info& fb) {
  const uint16_t both = fa.flags & fb.flags;
  const uint16_t either = fa.flags | fb.flags;
  if ((both & f_level) || (either & (f_pure | f_digit_run))) {
    return true;
  }
  if (!(either & f_variable)) {
    return false;
  }
  if (fa.skeleton_hash == fb.skeleton_hash && same_skeleton(a, b)) {
    return true;
  }
  return (both & f_variable) && numbered_parts(a, b);
}

}  // namespace

template_miner::template_miner(double similarity_threshold, size_t max_children, size_t depth,
                               size_t max_compared)
    : threshold_(similarity_threshold),
      max_children_(max_children < 2 ? 2 : max_children),
      depth_(depth),
      max_compared_(max_compared < 1 ? 1 : max_compared),
      root_(std::make_unique<node>()) {}

template_miner::~template_miner() = default;
template_miner::template_miner(template_miner&&) noexcept = default;
template_miner& template_miner::operator=(template_miner&&) noexcept = default;

// Level 1 of the tree: token count. Levels 2..depth+1: leading tokens.
template_miner::node* template_miner::leaf_for(const std::vector<std::string>& tokens,
                                               bool create) {
  node* cur = root_.get();
  const size_t levels = 1 + std::min(depth_, tokens.size());
  for (size_t level = 0; level < levels; ++level) {
    std::string key = level == 0                              ? "#" + std::to_string(tokens.size())
                      : routes_as_variable(tokens[level - 1]) ? std::string(k_wildcard)
                                                              : tokens[level - 1];
    auto it = cur->children.find(key);
    if (it == cur->children.end()) {
      // A crowded node sends new keys to its wildcard child; the count level is never crowded.
      if (cur != root_.get() && cur->children.size() + 1 >= max_children_ && key != k_wildcard) {
        key = std::string(k_wildcard);
        it = cur->children.find(key);
      }
      if (it == cur->children.end()) {
        if (!create) {
          return nullptr;  // no such leaf yet: nothing to compare with
        }
        it = cur->children.emplace(key, std::make_unique<node>()).first;
      }
    }
    cur = it->second.get();
  }
  return cur;
}

void template_miner::index_text(const std::string& text, size_t group_index) {
  exact_.emplace(text, group_index);  // the first group with a text keeps it
}

bool template_miner::restore(std::string_view anchor, std::string_view template_text,
                             uint64_t ordinal) {
  const std::vector<std::string> anchor_tokens = tokenize(anchor);
  std::vector<std::string> tokens = tokenize(template_text);
  if (tokens.size() != anchor_tokens.size()) {
    // A template saved by an earlier tokeniser (one token per word) can read back differently;
    // its group then restarts from its anchor. Different word counts never came from a miner.
    if (split_words(template_text).size() != split_words(anchor).size()) {
      return false;
    }
    tokens = anchor_tokens;
  }
  node* leaf = leaf_for(tokens, true);
  const size_t gi = groups_.size();
  std::vector<token_info> info;
  info.reserve(tokens.size());
  for (const std::string& t : tokens) {
    info.push_back(full_info_of(t));
  }
  groups_.push_back(group{tokens, std::move(info), 0, std::string(anchor), ordinal, {}});
  leaf->groups.push_front(gi);
  index_text(join(anchor_tokens), gi);
  index_text(join(tokens), gi);
  index_text(join(split_words(template_text)), gi);  // the saved text as written
  next_ordinal_ = std::max(next_ordinal_, ordinal + 1);
  return true;
}

template_miner::match template_miner::result_for(size_t gi, std::string previous) const {
  const group& g = groups_[gi];
  match m;
  m.template_text = join(g.tokens);
  m.group_id = gi;
  m.previous_template = std::move(previous);
  m.anchor = g.anchor;
  m.ordinal = g.ordinal;
  return m;
}

template_miner::match template_miner::add(std::string_view message, bool may_create) {
  std::vector<token_shape> shapes;
  shapes.reserve(16);
  const std::vector<std::string> tokens = tokenize(message, &shapes);
  const std::string text = join(tokens);

  // A message equal to a group's anchor or (restored) template belongs to that group.
  if (auto it = exact_.find(text); it != exact_.end()) {
    ++groups_[it->second].count;
    return result_for(it->second, {});
  }

  node* cur = leaf_for(tokens, false);  // nullptr: no leaf yet (a new group will create it)
  const size_t n = tokens.size();
  std::vector<token_info> info;
  info.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    info.push_back(info_of(tokens[i], &shapes[i]));
  }
  const auto words = [&](size_t i) { add_word_facts(info[i], tokens[i]); };

  // Per candidate: every differing position must be explained (a wildcard, a value-like
  // difference, a naming slot, or a position with variable evidence); the best explained group
  // with the highest share of equal tokens wins, ties to the lowest ordinal.
  size_t best = groups_.size();
  size_t best_at = 0;  // its index in the leaf
  double best_sim = -1.0;
  std::vector<std::pair<size_t, size_t>> near_misses;  // (group, position) of one plain conflict
  const size_t limit = cur == nullptr ? 0 : std::min(cur->groups.size(), max_compared_);
  for (size_t k = 0; k < limit; ++k) {
    const size_t gi = cur->groups[k];
    const group& g = groups_[gi];
    size_t equal = 0;
    size_t equal_words = 0;  // equal plain words (no digit, no placeholder)
    size_t conflicts = 0;
    size_t conflict_at = 0;
    for (size_t i = 0; i < n && conflicts < 2; ++i) {
      const token_info& ft = g.info[i];
      const token_info& fm = info[i];
      if (ft.hash == fm.hash && g.tokens[i] == tokens[i]) {
        if (!(ft.flags & f_wildcard)) {
          ++equal;
          equal_words += (ft.flags & f_plain) ? 1 : 0;
        }
        continue;
      }
      if (ft.flags & f_wildcard) {
        continue;
      }
      words(i);
      if (i > 0) {
        words(i - 1);
      }
      if (differ_like_values(g.tokens[i], ft, tokens[i], fm)) {
        continue;
      }
      // The tag of a syslog header ("<month> <num> <time> <host> su(pam_unix)[<num>]:" /
      // "... <host> sshd(pam_unix)[<num>]:"): like the host, which program logged the line is
      // metadata; the message after it says what happened.
      if (i > 0 && is_syslog_header(g.tokens[i - 1]) && is_syslog_header(tokens[i - 1]) &&
          g.tokens[i].back() == ':' && tokens[i].back() == ':') {
        continue;
      }
      // The bracketed context after a severity ("INFO [main]" / "INFO [IPC Server handler 3]"):
      // a thread or request context, a value.
      if (i > 0 && (ft.flags & fm.flags & f_bracket) && (g.info[i - 1].flags & f_level) &&
          (info[i - 1].flags & f_level)) {
        continue;
      }
      // Two plain words. A name right after a naming noun ("customer alice" / "customer bob") is
      // a variable unless either word is a function word or a verb form; so is the value of a
      // naming key ("user=root" / "user=uucp").
      const uint16_t either = ft.flags | fm.flags;
      if (i > 0 && (info[i - 1].flags & f_naming) && !(either & (f_function | f_verb)) &&
          g.info[i - 1].hash == info[i - 1].hash && g.tokens[i - 1] == tokens[i - 1]) {
        continue;
      }
      // A name between a noun and what happened to it ("order alpha failed" / "order beta
      // failed"): a plain word before, a verb form after, both equal, neither word a function
      // word or a verb form.
      if (i > 0 && i + 1 < n && !(either & (f_function | f_verb))) {
        words(i + 1);
        const token_info& before = info[i - 1];
        const token_info& after = info[i + 1];
        if ((before.flags & f_plain) && !(before.flags & f_function) && (after.flags & f_verb) &&
            g.info[i - 1].hash == before.hash && g.tokens[i - 1] == tokens[i - 1] &&
            g.info[i + 1].hash == after.hash && g.tokens[i + 1] == tokens[i + 1]) {
          continue;
        }
      }
      if (ft.key_len > 0 && ft.key_len == fm.key_len &&
          std::string_view(g.tokens[i]).substr(0, ft.key_len) ==
              std::string_view(tokens[i]).substr(0, fm.key_len)) {
        continue;
      }
      // A one-word noun phrase between two of the prepositions that name who or where from
      // ("password for root from <ip>" / "password for uucp from <ip>"): a name.
      if (i > 0 && i + 1 < n && !(either & (f_function | f_verb)) &&
          is_agent_preposition(tokens[i - 1]) && is_agent_preposition(tokens[i + 1]) &&
          g.tokens[i - 1] == tokens[i - 1] && g.tokens[i + 1] == tokens[i + 1]) {
        continue;
      }
      // Several distinct words already seen at this position while the rest matched.
      if (!g.seen.empty() && evidence_at(g, i, tokens[i], info)) {
        continue;
      }
      ++conflicts;
      conflict_at = i;
    }
    if (conflicts >= 2) {
      continue;
    }
    const double sim = n == 0 ? 1.0 : static_cast<double>(equal) / static_cast<double>(n);
    if (conflicts == 0) {
      if (sim > best_sim || (sim == best_sim && g.ordinal < groups_[best].ordinal)) {
        best_sim = sim;
        best = gi;
        best_at = k;
      }
    } else if (sim >= threshold_ && equal_words >= k_evidence_context) {
      near_misses.emplace_back(gi, conflict_at);
    }
  }

  if (best < groups_.size() && best_sim >= threshold_) {
    group& g = groups_[best];
    std::string previous;
    for (size_t i = 0; i < n; ++i) {
      if (!(g.info[i].flags & f_wildcard) && g.tokens[i] != tokens[i]) {
        if (previous.empty()) {
          previous = join(g.tokens);
        }
        g.tokens[i] = std::string(k_wildcard);
        g.info[i] = full_info_of(k_wildcard);
      }
    }
    ++g.count;
    if (!previous.empty()) {
      index_text(join(g.tokens), best);
    }
    // Most recently used first: the move costs at most max_compared steps.
    std::rotate(cur->groups.begin(), cur->groups.begin() + static_cast<std::ptrdiff_t>(best_at),
                cur->groups.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    return result_for(best, std::move(previous));
  }
  if (!may_create) {
    match m;
    m.overflow = true;
    return m;
  }
  // Remember the words that missed a group by one position: evidence for later messages.
  for (const auto& [gi, pos] : near_misses) {
    note_value(groups_[gi], pos, tokens[pos]);
  }
  for (size_t i = 0; i < n; ++i) {
    words(i);
  }
  cur = leaf_for(tokens, true);
  const size_t gi = groups_.size();
  groups_.push_back(group{tokens, std::move(info), 1, text, next_ordinal_++, {}});
  cur->groups.push_front(gi);
  index_text(text, gi);
  match m = result_for(gi, {});
  m.is_new = true;
  return m;
}

// A position has variable evidence when, besides the template's own word, at least
// k_evidence_values - 1 other distinct words were seen there while the rest of the template
// matched; `word` must not be a function word.
bool template_miner::evidence_at(const group& g, size_t pos, const std::string& word,
                                 const std::vector<token_info>& info) const {
  const uint16_t either = g.info[pos].flags | info[pos].flags;
  if ((either & (f_function | f_verb)) || (pos > 0 && (g.info[pos - 1].flags & f_function))) {
    return false;
  }
  for (const auto& [p, values] : g.seen) {
    if (p == pos) {
      size_t distinct = values.size();
      if (std::find(values.begin(), values.end(), word) == values.end()) {
        ++distinct;
      }
      return distinct + 1 >= k_evidence_values;
    }
  }
  return false;
}

void template_miner::note_value(group& g, size_t pos, const std::string& word) {
  for (auto& [p, values] : g.seen) {
    if (p == pos) {
      if (values.size() < k_evidence_values &&
          std::find(values.begin(), values.end(), word) == values.end()) {
        values.push_back(word);
      }
      return;
    }
  }
  if (g.seen.size() < 4) {
    g.seen.push_back({pos, {word}});
  }
}

}  // namespace luffy
