#pragma once
// Glob patterns for the operator's grouping rules (docs/CLUSTERING.md "Grouping rules").
//
// Syntax: `*` matches any run of characters (also `.` and `/`: a module or a path in one pattern),
// `?` exactly one character, `[abc]`, `[a-z]`, `[!a-z]` one character of (not of) a class, `\x`
// the character x itself. Everything else matches itself, case-sensitively. A pattern matches the
// WHOLE text (`com.acme.*` matches `com.acme.Foo`, not `org.com.acme.Foo`).
//
// Contract: pure; matching is O(pattern x text) in the worst case (no exponential backtracking).
// Specificity (how many characters a pattern pins down) is the number of its literal characters
// and classes: `com.acme.*` has 9, `*` none; a plain prefix `com.acme.` used as a rule has the
// same specificity as the glob `com.acme.*`.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace luffy {

// Why `pattern` is not a valid glob ("unterminated [", "trailing \\", "empty pattern"), or nullopt.
std::optional<std::string> glob_error(std::string_view pattern);

// True when `pattern` (a valid glob) matches all of `text`. An invalid pattern matches nothing.
bool glob_match(std::string_view pattern, std::string_view text);

// Literal characters and classes in the pattern (wildcards do not count).
size_t glob_specificity(std::string_view pattern);

// True when the text holds a glob metacharacter (`*`, `?`, `[` or `\`).
bool is_glob(std::string_view text);

}  // namespace luffy
