#pragma once
// Exception extraction: finds a stack trace in a record and parses it into an exception chain.
//
// Contract: pure and deterministic (no I/O, no global mutable state, no locale). Input is any
// text; malformed or partial traces never throw, they yield fewer frames or an empty chain.
// Supported runtimes: Java/Kotlin/Scala ("java"), Python ("python"), Node.js ("node"), Go
// ("go"), .NET ("dotnet") and Ruby ("ruby").
//
// Ordering, the same for every language:
//   * `chain` is outermost exception first; `root_cause()` is `chain.back()`, the original cause.
//     Java/.NET print in this order ("Caused by:", " ---> "); Python prints the original cause
//     FIRST ("During handling...", "The above exception was the direct cause..."), so the Python
//     chain is the reverse of the printed order.
//   * `frames` are crash site first (innermost call first). Python prints the crash site LAST, so
//     Python frames are reversed. Java "... N more" frames are filled in from the enclosing trace.
// Names are normalised while parsing so that two deploys of the same code give the same frames:
// Java module prefixes (`java.base/`), lambda/CGLIB/accessor/proxy suffixes and `lambda$x$0`
// counters, .NET async state machines and closure counters, Go call arguments, Python/Node/Ruby
// install roots (site-packages, venvs, release directories, gem versions). Line numbers are kept
// in `line` for display only; fingerprints never use them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"

namespace luffy {

struct stack_frame {
  std::string module;    // class (Java/.NET), module path (Python), package (Go), file (Node/Ruby)
  std::string function;  // method/function, normalised; "<anonymous>" when the runtime has none
  std::string file;      // file as printed (Python/Node/Go/Ruby: path; Java: "X.java"); may be ""
  int line = 0;          // 0 when unknown
  bool in_app = false;   // set by the frame classifier (core/frame_classifier.hpp)
};

struct exception_chain_link {
  std::string type;     // as printed, e.g. "java.lang.IllegalStateException", "ValueError"
  std::string message;  // as printed (not parameterised); may be multi-line
  std::vector<stack_frame> frames;  // crash site first
};

struct exception_info {
  std::string language;  // "java","python","node","go","dotnet","ruby"; "" when no trace was found
  std::vector<exception_chain_link> chain;  // outermost first; back() is the root cause

  // The original cause (chain.back()), nullptr when the chain is empty.
  const exception_chain_link* root_cause() const { return chain.empty() ? nullptr : &chain.back(); }
  // True when any link has at least one frame.
  bool has_frames() const;
};

// From `clustering.in_app_prefixes` / `not_in_app_prefixes` (see frame_classifier): entries
// without glob characters are prefixes, the others globs (core/glob.hpp) matched against the
// whole module or file (make_frame_rules in core/grouping_rules.hpp sorts them).
struct frame_rules {
  std::vector<std::string> in_app_prefixes;
  std::vector<std::string> not_in_app_prefixes;
  std::vector<std::string> in_app_globs;
  std::vector<std::string> not_in_app_globs;
};

// Looks for a trace in r.stack_trace, then r.message; when neither holds one, builds a frameless
// chain from r.exception_type / r.exception_message (language ""). A trace without a header line
// (its outermost link has no type) takes its type/message from those fields, else from a header
// in the first line of r.message (find_header). Every frame's in_app is set from `rules`.
exception_info extract_exception(const log_record& r, const frame_rules& rules);

// The same, given stack_trace_parse == parse_trace(r.stack_trace, rules) already computed (a
// trace_cache hit), so the stack trace is not parsed again.
exception_info extract_exception(const log_record& r, const frame_rules& rules,
                                 std::optional<exception_info> stack_trace_parse);

// True when the parse's outermost exception has no type of its own (a trace printed without its
// header line, or a bare Go goroutine dump): extract_exception() completes it from the record.
bool header_missing(const exception_info& info);

// Detects the runtime of a trace text: one of the language names above, or "" when the text holds
// no recognisable trace.
std::string_view detect_trace_language(std::string_view text);

// Detects and parses; nullopt when the text holds no trace. in_app is classified with `rules`.
std::optional<exception_info> parse_trace(std::string_view text, const frame_rules& rules);

// Per-language parsers (in_app left false). nullopt when the text is not a trace of that language.
std::optional<exception_info> parse_java_trace(std::string_view text);
std::optional<exception_info> parse_python_trace(std::string_view text);
std::optional<exception_info> parse_node_trace(std::string_view text);
std::optional<exception_info> parse_go_trace(std::string_view text);
std::optional<exception_info> parse_dotnet_trace(std::string_view text);
std::optional<exception_info> parse_ruby_trace(std::string_view text);

// Helpers shared by the parsers and the continuation merger. Pure functions.
namespace trace_text {

// An ASCII digit (no locale).
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
// An ASCII hex digit, either case.
inline bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Splits on '\n' and drops a trailing '\r' from each line.
std::vector<std::string_view> split_lines(std::string_view text);
std::string_view trim(std::string_view s);
// Leading whitespace width, a tab counting 4.
size_t indent_width(std::string_view line);
bool is_blank(std::string_view s);
// Parses "Type: message" / "Type" where Type is an identifier path (letters, digits, _ $ . ::).
// strict = the type must look like an exception (ends in Exception/Error/Throwable/... or is
// qualified with an upper-case last segment).
struct header {
  std::string_view type;
  std::string_view message;
};
std::optional<header> parse_header(std::string_view line, bool strict);
// A header anywhere in a line, behind whatever prefix a logger, framework or server wrote first:
// "Error handling POST /orders/991 -> TypeError: boom", "10:00:00 ERROR c.a.Foo - Failed:
// java.lang.X: boom", "[10:00:00 ERR] Request failed System.X: boom". The first "Type: message"
// (at the start or after a space, '>', '(', '[', '|' or a quote) whose type is named like an
// exception (Exception, Error, ... suffix) wins; else parse_header(line, strict_at_start); else
// the first strict one after the start whose last segment is not all upper case (ERROR, WARN).
// The views point into `line`.
std::optional<header> find_header(std::string_view line, bool strict_at_start);
bool is_exception_type_name(std::string_view type);
// True when the last segment ends like an exception class (Exception, Error, Throwable, ...).
bool has_exception_suffix(std::string_view type);
// Last segment of a qualified type: "java.lang.IllegalStateException" -> "IllegalStateException".
std::string_view short_type(std::string_view type);
// Reduces an absolute path to a stable relative one, the same whatever the host's project root:
// drops everything up to the last release/venv/version directory; when there is none, the host
// prefix: /home/<user>[/src|code|projects|...]/<project>, /root/<project>, /srv|opt|data|mnt|apps/
// <project>, /var/www/<project>, /usr/src/<project>, /usr/local/src/<project>, or one bare
// container root (/app, /code, /rails, /workspace, ...). "/srv/app/releases/20240301/src/x.js",
// "/usr/src/app/src/x.js", "/home/node/app/src/x.js" and "/app/src/x.js" -> "src/x.js".
std::string reduce_path(std::string_view path);
// Removes a trailing file extension of the last path segment.
std::string_view strip_extension(std::string_view path);
// Drops build hashes from the last path segment's name parts (separated by '.' or '-'), as
// bundlers write them: "dist/main.3f2a9c1b" -> "dist/main", "assets/index-BkNMx3Hq" ->
// "assets/index". A hash part is 8+ hex digits, 6-7 hex digits holding a digit, or 8
// letters/digits mixing upper case, lower case and a digit.
std::string strip_build_hash(std::string_view path);
// Digits only, parsed; 0 when s is empty or not all digits.
int parse_int(std::string_view s);
// True when s is non-empty and every character is an ASCII digit.
bool all_digits(std::string_view s);
// Index of the first line that reads "at ..." once trimmed (a Java, .NET or Node frame);
// lines.size() when there is none.
size_t first_at_frame(const std::vector<std::string_view>& lines);

}  // namespace trace_text

}  // namespace luffy
