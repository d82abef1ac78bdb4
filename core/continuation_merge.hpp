#pragma once
// Continuation merge: rejoins stack traces that an agent shipped line by line.
//
// Fluent Bit's tail input without a multiline parser sends every physical line as its own record
// ({"log": "<line>"}, no level), in file order. merge_continuations() joins such continuation
// records onto the record they continue, before deduplication and clustering.
//
// The rule. A record C is merged onto the current head H of its (hostname, file_path) stream when
//   * C has no level (level "UNKNOWN" or ""), no stack_trace and no exception fields, and
//   * C's message is a continuation line:
//       strong (always): "\tat ...", "    at ...", "Caused by: ...", "Suppressed: ...",
//         "... N more", "... N common frames omitted", "  File \"...\", line N",
//         "During handling of the above exception...", "The above exception was the direct
//         cause...", "--- End of inner exception stack trace ---", "--- End of stack trace ...",
//         "goroutine N [...]:", "[signal ...", Ruby "\tfrom x.rb:N:in ...";
//       a trace start right after a head that reports a problem (level WARN, ERROR, FATAL, ...):
//         "Traceback (most recent call last):", "panic: ...", "fatal error: ...", or an exception
//         header "pkg.SomeException: msg" / "TypeError: msg";
//       inside a trace (the head already took a continuation, or is itself a trace start):
//         any indented or blank line (Python source lines, Go file lines), an exception header
//         (Python's final "ValueError: ..." line), a Go function line "pkg.fn(...)",
//         "created by ...", "exit status N".
// H is the last record of that (hostname, file_path) stream that was not merged; records of other
// streams in between do not break a stream (one chunk may interleave files), records of the same
// stream always do. A record that is not a continuation becomes the new head of its stream.
//
// Merging appends C's message as one line to H.stack_trace ("\n"-joined). When H's stack_trace
// was empty and H's own message is a trace start (a raw "java.lang.X: ..." line with no level),
// H.message is copied into stack_trace first, so stack_trace always holds a parseable trace.
// H.truncated |= C.truncated. H keeps its own message, level, timestamp and fields.
//
// Contract: pure; keeps the relative order of the remaining records; never merges across
// different hostname or file_path; a record with a level is never merged. Returns the number of
// records merged away (records.size() shrinks by exactly that much).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/record.hpp"

namespace luffy {

// `parallel`, when given, is a vector of the same length (e.g. each record's position in the
// request body) that is compacted the same way.
size_t merge_continuations(std::vector<log_record>& records,
                           std::vector<uint32_t>* parallel = nullptr);

// The line classes used by the rule above, exposed for tests and tools.
enum class continuation_kind {
  none,         // an ordinary line
  strong,       // continues whatever precedes it
  trace_start,  // may start a trace (exception header, Traceback, panic)
  in_trace,     // continues a trace that has started (indented/blank lines, Go function lines)
};
continuation_kind classify_continuation(std::string_view line);

}  // namespace luffy
