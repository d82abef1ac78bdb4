// grouping_v1: frozen copy of core/stack_trace.cpp at fd2f299. Never edit (see README.md).
// Language detection, shared text helpers and extract_exception(). The per-language parsers live
// in stack_trace_<language>.cpp.
#include "core/grouping_v1/stack_trace.hpp"

#include <algorithm>
#include <array>

#include "core/grouping_v1/frame_classifier.hpp"

namespace luffy::grouping_v1 {

// ---------------------------------------------------------------------------------------------
// Shared text helpers
// ---------------------------------------------------------------------------------------------
namespace trace_text {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ends_with_any(std::string_view s, std::initializer_list<std::string_view> suffixes) {
  for (std::string_view x : suffixes) {
    if (s.ends_with(x)) {
      return true;
    }
  }
  return false;
}

// A directory whose name changes from deploy to deploy or host to host.
bool is_unstable_segment(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  size_t digits = 0;
  size_t hex = 0;
  for (char c : s) {
    digits += is_digit(c) ? 1 : 0;
    hex += is_hex(c) ? 1 : 0;
  }
  if (digits >= 4) {
    return true;  // 20240301120000, 2024-03-01T10-00, build-1234
  }
  if (hex == s.size() && s.size() >= 7 && digits > 0) {
    return true;  // git sha
  }
  // version directories: v1.2.3, 3.11.4, python3.11 is handled by the callers
  const std::string_view v = (s.front() == 'v' || s.front() == 'V') ? s.substr(1) : s;
  bool has_dot = false;
  for (char c : v) {
    if (c == '.') {
      has_dot = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return has_dot && !v.empty() && is_digit(v.front());
}

constexpr std::array<std::string_view, 18> k_root_markers = {
    "site-packages", "dist-packages", "node_modules", ".venv",  "venv",   "virtualenv",
    "releases",      "release",       "current",      "shared", "deploy", "deployments",
    "workspace",     "builds",        "wwwroot",      "htdocs", "task",   "code",
};

constexpr std::array<std::string_view, 14> k_generic_roots = {
    "",      ".",   "app", "apps", "srv", "opt", "usr",
    "local", "var", "www", "data", "mnt", "tmp", "root",
};

template <size_t N>
bool in_list(std::string_view s, const std::array<std::string_view, N>& list) {
  for (std::string_view x : list) {
    if (s == x) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

size_t indent_width(std::string_view line) {
  size_t w = 0;
  for (char c : line) {
    if (c == ' ') {
      w += 1;
    } else if (c == '\t') {
      w += 4;
    } else {
      break;
    }
  }
  return w;
}

bool is_blank(std::string_view s) {
  return trim(s).empty();
}

bool is_exception_type_name(std::string_view type) {
  const std::string_view last = short_type(type);
  if (last.empty()) {
    return false;
  }
  if (ends_with_any(last, {"Exception", "Error", "Throwable", "Failure", "Fault", "Interrupt",
                           "Exit", "Panic", "Timeout", "Warning", "Rejection", "NotFound"})) {
    return true;
  }
  // A qualified Java/.NET/Ruby name with an upper-case class: com.acme.OrderMissing
  return last.size() != type.size() && last.front() >= 'A' && last.front() <= 'Z';
}

std::optional<header> parse_header(std::string_view line, bool strict) {
  line = trim(line);
  if (line.empty() || !(is_alpha(line.front()) || line.front() == '_' || line.front() == '$')) {
    return std::nullopt;
  }
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (is_alpha(c) || is_digit(c) || c == '_' || c == '$' || c == '.') {
      ++i;
    } else if (c == ':' && i + 1 < line.size() && line[i + 1] == ':') {
      i += 2;  // Ruby/C++ scope
    } else {
      break;
    }
  }
  header h;
  h.type = line.substr(0, i);
  if (h.type.empty() || h.type.back() == '.') {
    return std::nullopt;
  }
  if (i == line.size()) {
    h.message = {};
  } else if (line[i] == ':' && (i + 1 == line.size() || line[i + 1] == ' ')) {
    h.message = trim(line.substr(i + 1));
  } else {
    return std::nullopt;
  }
  if (strict && !is_exception_type_name(h.type)) {
    return std::nullopt;
  }
  if (!strict && i == line.size() && !is_exception_type_name(h.type)) {
    return std::nullopt;  // a bare word is only a header when it names an exception
  }
  return h;
}

std::string_view short_type(std::string_view type) {
  size_t cut = 0;
  for (size_t i = 0; i < type.size(); ++i) {
    if (type[i] == '.' || type[i] == ':') {
      cut = i + 1;
    }
  }
  return type.substr(cut);
}

std::string reduce_path(std::string_view path) {
  std::string p(path);
  for (char& c : p) {
    if (c == '\\') {
      c = '/';
    }
  }
  std::string_view v = p;
  if (v.starts_with("file://")) {
    v.remove_prefix(7);
  }
  if (v.size() >= 2 && is_alpha(v[0]) && v[1] == ':') {
    v.remove_prefix(2);  // Windows drive
  }
  std::vector<std::string_view> segs;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find('/', start);
    if (end == std::string_view::npos) {
      end = v.size();
    }
    segs.push_back(v.substr(start, end - start));
    start = end + 1;
  }
  // Cut after the last unstable or root-marker directory (never the file name itself).
  size_t first = 0;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (is_unstable_segment(segs[i]) || in_list(segs[i], k_root_markers)) {
      first = i + 1;
    }
  }
  // Otherwise, for absolute paths, drop generic leading roots, each name at most once
  // ("/app/app/models/x.rb" -> "app/models/x.rb"); /home/<user> and /Users/<user> go together.
  // Only when nothing was cut: what follows a release directory is already the app's root.
  const bool absolute = first == 0 && !segs.empty() && segs[0].empty();
  std::vector<std::string_view> dropped;
  while (absolute && first + 1 < segs.size()) {
    if (in_list(segs[first], k_generic_roots) &&
        std::find(dropped.begin(), dropped.end(), segs[first]) == dropped.end()) {
      dropped.push_back(segs[first]);
      ++first;
    } else if ((segs[first] == "home" || segs[first] == "Users") && first + 2 < segs.size()) {
      first += 2;
    } else {
      break;
    }
  }
  std::string out;
  for (size_t i = first; i < segs.size(); ++i) {
    if (!out.empty()) {
      out += '/';
    }
    out += segs[i];
  }
  return out;
}

std::string_view strip_extension(std::string_view path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash) ||
      dot == 0) {
    return path;
  }
  return path.substr(0, dot);
}

int parse_int(std::string_view s) {
  if (s.empty() || s.size() > 9) {
    return 0;
  }
  int v = 0;
  for (char c : s) {
    if (!is_digit(c)) {
      return 0;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace trace_text

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------
namespace {

using trace_text::trim;

bool all_digits(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// "at ..." frame body: which runtime printed it? "" when undecided.
std::string_view classify_at_frame(std::string_view body) {
  if (body.find(" in ") != std::string_view::npos &&
      body.find(":line ") != std::string_view::npos) {
    return "dotnet";
  }
  if (body.ends_with(")")) {
    const size_t open = body.rfind('(');
    if (open == std::string_view::npos) {
      return "";
    }
    const std::string_view inside = body.substr(open + 1, body.size() - open - 2);
    if (open > 0 && body[open - 1] == ' ') {
      return "node";  // "fn (/path/x.js:1:2)"
    }
    if (inside == "Native Method" || inside == "Unknown Source" || inside.ends_with(".java") ||
        inside.find(".java:") != std::string_view::npos ||
        inside.find(".kt:") != std::string_view::npos ||
        inside.find(".scala:") != std::string_view::npos ||
        inside.find(".groovy:") != std::string_view::npos) {
      return "java";
    }
    const size_t colon = inside.rfind(':');
    if (colon != std::string_view::npos && all_digits(inside.substr(colon + 1)) &&
        inside.substr(0, colon).find('.') != std::string_view::npos &&
        inside.find(' ') == std::string_view::npos) {
      return "java";  // "(Foo.clj:12)", other JVM languages
    }
    return "dotnet";  // "M(Int32 id)", "M()"
  }
  // Java with logback's packaging suffix: "m(Foo.java:1) ~[app.jar:1.0]"
  if (body.find(".java:") != std::string_view::npos ||
      body.find("(Native Method)") != std::string_view::npos) {
    return "java";
  }
  // "at /app/x.js:10:5" (anonymous Node frame)
  const size_t c2 = body.rfind(':');
  if (c2 != std::string_view::npos && all_digits(body.substr(c2 + 1))) {
    return "node";
  }
  return "";
}

bool is_ruby_frame_line(std::string_view t) {
  if (t.starts_with("from ")) {
    t.remove_prefix(5);
  }
  const size_t in = t.find(":in ");
  return in != std::string_view::npos && in + 4 < t.size() &&
         (t[in + 4] == '`' || t[in + 4] == '\'') &&
         (t.find(".rb:") != std::string_view::npos || t.find("<internal:") == 0);
}

}  // namespace

std::string_view detect_trace_language(std::string_view text) {
  for (std::string_view line : trace_text::split_lines(text)) {
    const std::string_view t = trim(line);
    if (t.empty()) {
      continue;
    }
    if (t.starts_with("Traceback (most recent call last):")) {
      return "python";
    }
    if (t.starts_with("goroutine ") && t.find(" [") != std::string_view::npos &&
        t.ends_with("]:")) {
      return "go";
    }
    if (t.starts_with("at ")) {
      const std::string_view lang = classify_at_frame(trim(t.substr(3)));
      if (!lang.empty()) {
        return lang;
      }
    }
    if (is_ruby_frame_line(t)) {
      return "ruby";
    }
  }
  return "";
}

bool exception_info::has_frames() const {
  for (const exception_chain_link& l : chain) {
    if (!l.frames.empty()) {
      return true;
    }
  }
  return false;
}

std::optional<exception_info> parse_trace(std::string_view text, const frame_rules& rules) {
  const std::string_view lang = detect_trace_language(text);
  std::optional<exception_info> info;
  if (lang == "java") {
    info = parse_java_trace(text);
  } else if (lang == "python") {
    info = parse_python_trace(text);
  } else if (lang == "node") {
    info = parse_node_trace(text);
  } else if (lang == "go") {
    info = parse_go_trace(text);
  } else if (lang == "dotnet") {
    info = parse_dotnet_trace(text);
  } else if (lang == "ruby") {
    info = parse_ruby_trace(text);
  }
  if (info) {
    classify_frames(*info, rules);
  }
  return info;
}

exception_info extract_exception(const log_record& r, const frame_rules& rules) {
  std::optional<exception_info> info;
  if (!r.stack_trace.empty()) {
    info = parse_trace(r.stack_trace, rules);
  }
  return extract_exception(r, rules, std::move(info));
}

exception_info extract_exception(const log_record& r, const frame_rules& rules,
                                 std::optional<exception_info> info) {
  if (!info && !r.message.empty() && r.message.find('\n') != std::string::npos) {
    info = parse_trace(r.message, rules);
  }
  if (info && !info->chain.empty()) {
    exception_chain_link& root = info->chain.back();
    // A trace printed without its header line: the structured fields name the exception.
    if (root.type.empty()) {
      root.type = r.exception_type;
      if (root.message.empty()) {
        root.message = r.exception_message;
      }
    }
    return std::move(*info);
  }
  exception_info out;
  if (!r.exception_type.empty()) {
    out.chain.push_back(exception_chain_link{r.exception_type, r.exception_message, {}});
  }
  return out;
}

}  // namespace luffy::grouping_v1
