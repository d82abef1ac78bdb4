// Language detection, shared text helpers and extract_exception(). The per-language parsers live
// in stack_trace_<language>.cpp.
#include "core/stack_trace.hpp"

#include <algorithm>
#include <array>

#include "core/frame_classifier.hpp"

namespace luffy {

// ---------------------------------------------------------------------------------------------
// Shared text helpers
// ---------------------------------------------------------------------------------------------
namespace trace_text {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
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

constexpr std::array<std::string_view, 17> k_root_markers = {
    "site-packages", "dist-packages", "node_modules", ".venv",  "venv",   "virtualenv",
    "releases",      "release",       "current",      "shared", "deploy", "deployments",
    "workspace",     "builds",        "wwwroot",      "htdocs", "task",
};

// Generic leading directories dropped (each at most once) when no host prefix pattern matched.
constexpr std::array<std::string_view, 14> k_generic_roots = {
    "",      ".",   "app", "apps", "srv", "opt", "usr",
    "local", "var", "www", "data", "mnt", "tmp", "root",
};

// Directories that hold projects below a home directory: /home/bob/src/<project>/...
// Directories that hold projects below a home directory (compared ignoring case):
// /home/bob/src/<project>/..., /Users/bob/Projects/<project>/..., C:\Users\bob\source\repos\<p>.
constexpr std::array<std::string_view, 14> k_dev_dirs = {
    "src", "code", "projects", "project",   "repos",  "repo",      "work",
    "dev", "git",  "sites",    "developer", "source", "documents", "workspace",
};

bool in_list_nocase(std::string_view s, const auto& list) {
  for (std::string_view x : list) {
    if (x.size() == s.size() && std::equal(x.begin(), x.end(), s.begin(), [](char a, char b) {
          return a == ((b >= 'A' && b <= 'Z') ? static_cast<char>(b - 'A' + 'a') : b);
        })) {
      return true;
    }
  }
  return false;
}

// Container roots that are the project root themselves: /app/..., /rails/...
constexpr std::array<std::string_view, 6> k_bare_roots = {
    "app", "code", "rails", "workspace", "project", "build",
};

// Directories that hold one project each: /srv/<project>/...
constexpr std::array<std::string_view, 6> k_project_parents = {
    "srv", "opt", "data", "mnt", "apps", "export",
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

// A log level or constant (ERROR, WARN), not a class name.
bool all_upper(std::string_view s) {
  for (char c : s) {
    if (c >= 'a' && c <= 'z') {
      return false;
    }
  }
  return true;
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

bool has_exception_suffix(std::string_view type) {
  return ends_with_any(short_type(type),
                       {"Exception", "Error", "Throwable", "Failure", "Fault", "Interrupt", "Exit",
                        "Panic", "Timeout", "Warning", "Rejection", "NotFound"});
}

bool is_exception_type_name(std::string_view type) {
  const std::string_view last = short_type(type);
  if (last.empty()) {
    return false;
  }
  if (has_exception_suffix(last)) {
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

std::optional<header> find_header(std::string_view line, bool strict_at_start) {
  line = trim(line);
  std::optional<header> later;  // the first strict header after the start
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (!(is_alpha(c) || c == '_' || c == '$')) {
      continue;
    }
    if (i > 0) {
      const char p = line[i - 1];
      if (!(p == ' ' || p == '\t' || p == '>' || p == '(' || p == '[' || p == '|' || p == '"' ||
            p == '\'')) {
        continue;
      }
    }
    std::optional<header> h = parse_header(line.substr(i), true);
    if (!h) {
      continue;
    }
    if (has_exception_suffix(h->type)) {
      return h;
    }
    if (i > 0 && !later && !all_upper(short_type(h->type))) {
      later = h;
    }
  }
  if (auto h = parse_header(line, strict_at_start); h && !all_upper(short_type(h->type))) {
    return h;
  }
  return later;
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

namespace {

// Index of the first segment after the host's prefix (segs[0] is "" for an absolute path), or 0
// when no pattern matched. Never past the last segment (the file).
size_t host_prefix_end(const std::vector<std::string_view>& segs) {
  const size_t last = segs.size() - 1;
  auto at = [&](size_t k) { return k < segs.size() ? segs[k] : std::string_view(); };
  auto bounded = [&](size_t k) { return std::min(k, last); };
  // A project below a home directory, possibly inside a directory of projects; GitHub Actions
  // checks out to /home/runner/work/<repo>/<repo>.
  auto project_below = [&](size_t k) {
    while (k < last && in_list_nocase(segs[k], k_dev_dirs)) {
      ++k;
    }
    if (k + 1 < last && segs[k] == segs[k + 1] && segs[k - 1] == "work") {
      ++k;
    }
    return bounded(k + 1);
  };
  if (at(1) == "home" || at(1) == "Users") {
    return last > 2 ? project_below(3) : 0;
  }
  if (at(1) == "root") {
    return project_below(2);
  }
  if (in_list(at(1), k_project_parents)) {
    return bounded(3);
  }
  if (at(1) == "var" && (at(2) == "www" || at(2) == "apps")) {
    return bounded(4);
  }
  if (at(1) == "var" && at(2) == "app") {
    return bounded(3);  // Elastic Beanstalk's /var/app (its /var/app/current is a marker)
  }
  if (at(1) == "usr" && at(2) == "src") {
    return bounded(4);
  }
  if (at(1) == "usr" && at(2) == "local" && at(3) == "src") {
    return bounded(5);
  }
  if (in_list(at(1), k_bare_roots)) {
    return bounded(2);
  }
  return 0;
}

}  // namespace

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
  const bool absolute = segs.size() > 1 && segs[0].empty();
  // A user's name is not a marker: /home/deploy/shop/x.py.
  const size_t user_at =
      absolute && segs.size() > 3 && (segs[1] == "home" || segs[1] == "Users") ? 2 : 0;
  // Cut after the last unstable or root-marker directory (never the file name itself).
  size_t first = 0;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (i != user_at && (is_unstable_segment(segs[i]) || in_list(segs[i], k_root_markers))) {
      first = i + 1;
      // What sits directly below a releases directory is a release, whatever its name
      // (`releases/v2/`, `releases/blue/`), unless it is the file itself.
      if ((segs[i] == "releases" || segs[i] == "deployments") && i + 2 < segs.size()) {
        first = i + 2;
        ++i;
      }
    }
  }
  // Otherwise, for absolute paths, the host prefix; what follows a release directory is already
  // the app's root.
  if (first == 0 && absolute) {
    first = host_prefix_end(segs);
  }
  // No known prefix: drop generic leading roots, each name at most once.
  std::vector<std::string_view> dropped;
  if (first == 0 && absolute) {
    while (first + 1 < segs.size() && in_list(segs[first], k_generic_roots) &&
           std::find(dropped.begin(), dropped.end(), segs[first]) == dropped.end()) {
      dropped.push_back(segs[first]);
      ++first;
    }
  }
  // A checkout named like the package it holds (`/workspace/billing/billing/x.py`, the usual
  // Python layout) is the same code as the package deployed alone (`/app/billing/x.py`).
  if (first + 2 < segs.size() && !segs[first].empty() && segs[first] == segs[first + 1]) {
    ++first;
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

std::string strip_build_hash(std::string_view path) {
  const size_t slash = path.rfind('/');
  const size_t name_at = slash == std::string_view::npos ? 0 : slash + 1;
  const std::string_view name = path.substr(name_at);
  if (name.find_first_of(".-") == std::string_view::npos) {
    return std::string(path);
  }
  auto is_hash = [](std::string_view part) {
    size_t digits = 0, hex = 0, upper = 0, lower = 0, alnum = 0;
    for (char c : part) {
      digits += is_digit(c) ? 1 : 0;
      hex += is_hex(c) ? 1 : 0;
      upper += (c >= 'A' && c <= 'Z') ? 1 : 0;
      lower += (c >= 'a' && c <= 'z') ? 1 : 0;
      alnum += (is_digit(c) || is_alpha(c)) ? 1 : 0;
    }
    if (hex == part.size() && (part.size() >= 8 || (part.size() >= 6 && digits > 0))) {
      return true;  // webpack/CRA/esbuild content hashes (8+ hex digits may all be letters)
    }
    return part.size() == 8 && alnum == 8 && digits > 0 && upper > 0 && lower > 0;  // rollup/Vite
  };
  std::string out(path.substr(0, name_at));
  size_t start = 0;
  bool first = true;
  while (start <= name.size()) {
    size_t end = name.find_first_of(".-", start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    const std::string_view part = name.substr(start, end - start);
    if (first || !is_hash(part)) {
      if (!first) {
        out += name[start - 1];
      }
      out += part;
    }
    first = false;
    start = end + 1;
  }
  return out;
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

size_t first_at_frame(const std::vector<std::string_view>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]).starts_with("at ")) {
      return i;
    }
  }
  return lines.size();
}

}  // namespace trace_text

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------
namespace {

using trace_text::all_digits;
using trace_text::trim;

// "at ..." frame body: which runtime printed it? "" when undecided.
std::string_view classify_at_frame(std::string_view body) {
  if (body.find(" in ") != std::string_view::npos &&
      body.find(":line ") != std::string_view::npos) {
    return "dotnet";
  }
  // Mono / Unity / no-PDB .NET: "M () [0x0001a] in <mvid>:0", "M () <0x00123 + 0x0004b> in
  // <filename unknown>:0", NativeAOT "M() in App.dll:token 0x6000012+0x1a".
  if (body.find(") [0x") != std::string_view::npos ||
      body.find(") <0x") != std::string_view::npos ||
      body.find(":token 0x") != std::string_view::npos) {
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
    if (t.find("Traceback (most recent call last):") != std::string_view::npos) {
      return "python";  // also behind a logger's prefix on the same line
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

bool header_missing(const exception_info& info) {
  if (info.chain.empty()) {
    return false;
  }
  const exception_chain_link& top = info.chain.front();
  // A Go goroutine dump without its "panic:" line is typed "goroutine" by its parser.
  return top.type.empty() ||
         (info.language == "go" && top.type == "goroutine" && top.message.empty());
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
    // A trace printed without its header line: the structured fields name the exception (the
    // outermost one, the exception the application logged), else a header in the message's
    // first line ("Error handling POST /orders/9 -> TypeError: boom", frames in stack_trace).
    if (header_missing(*info)) {
      exception_chain_link& top = info->chain.front();
      if (!r.exception_type.empty()) {
        top.type = r.exception_type;
        if (top.message.empty()) {
          top.message = r.exception_message;
        }
        // Go: name a runtime error as its "panic: runtime error: ..." line would.
        if (info->language == "go" && (top.type == "panic" || top.type == "runtime.Error") &&
            std::string_view(top.message).starts_with("runtime error: ")) {
          top.type = "runtime.Error";
          top.message.erase(0, 15);
        }
      } else if (auto h = trace_text::find_header(
                     std::string_view(r.message).substr(0, r.message.find('\n')), true)) {
        top.type = std::string(h->type);
        top.message = std::string(h->message);
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

}  // namespace luffy
