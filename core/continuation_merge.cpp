#include "core/continuation_merge.hpp"

#include <map>
#include <string>
#include <utility>

#include "core/stack_trace.hpp"

namespace luffy {

namespace {

using trace_text::is_digit;
using trace_text::trim;

bool is_more_line(std::string_view t) {
  if (!t.starts_with("... ")) {
    return false;
  }
  t.remove_prefix(4);
  size_t i = 0;
  while (i < t.size() && is_digit(t[i])) {
    ++i;
  }
  return i > 0 && (t.substr(i) == " more" || t.substr(i) == " common frames omitted");
}

bool is_ruby_from_line(std::string_view t) {
  return t.starts_with("from ") && t.find(":in ") != std::string_view::npos;
}

// "main.main()", "github.com/x/y.(*T).M(0xc0, {0x1})", "panic({0x4a, 0xc0})"
bool is_go_function_line(std::string_view line) {
  if (line.empty() || line.front() == ' ' || line.front() == '\t' || !line.ends_with(")")) {
    return false;
  }
  const size_t open = line.find('(');
  if (open == std::string_view::npos || open == 0) {
    return false;
  }
  for (size_t i = 0; i < open; ++i) {
    const char c = line[i];
    if (c == ' ') {
      return false;
    }
  }
  const std::string_view name = line.substr(0, open);
  return name.find('.') != std::string_view::npos || name == "panic";
}

bool is_problem_level(std::string_view level) {
  return !(level == "INFO" || level == "DEBUG" || level == "TRACE" || level == "NOTICE" ||
           level == "VERBOSE" || level == "UNKNOWN" || level.empty());
}

bool is_levelless(const log_record& r) {
  return r.level.empty() || r.level == "UNKNOWN";
}

}  // namespace

continuation_kind classify_continuation(std::string_view line) {
  const std::string_view t = trim(line);
  const bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
  if (t.empty()) {
    return continuation_kind::in_trace;
  }
  if ((indented && t.starts_with("at ")) || t.starts_with("Caused by: ") ||
      (indented && t.starts_with("Suppressed: ")) || is_more_line(t) ||
      (indented && t.starts_with("File \"")) ||
      t.starts_with("During handling of the above exception") ||
      t.starts_with("The above exception was the direct cause") ||
      t.starts_with("--- End of inner exception stack trace") ||
      t.starts_with("--- End of stack trace from previous location") ||
      (t.starts_with("goroutine ") && t.ends_with("]:")) || t.starts_with("[signal ") ||
      (indented && is_ruby_from_line(t))) {
    return continuation_kind::strong;
  }
  if (!indented &&
      (t.starts_with("Traceback (most recent call last):") || t.starts_with("panic: ") ||
       t.starts_with("fatal error: ") || t.starts_with("Exception in thread \"") ||
       t.starts_with("Unhandled exception. ") || trace_text::parse_header(t, true))) {
    return continuation_kind::trace_start;
  }
  if (indented || is_go_function_line(line) || t.starts_with("created by ") ||
      t.starts_with("exit status ")) {
    return continuation_kind::in_trace;
  }
  return continuation_kind::none;
}

size_t merge_continuations(std::vector<log_record>& records, std::vector<uint32_t>* parallel) {
  struct stream_state {
    size_t head = 0;        // index in the compacted output
    bool in_trace = false;  // the head has started a trace
  };
  std::map<std::pair<std::string, std::string>, stream_state> streams;
  size_t out = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    log_record& r = records[i];
    auto key = std::make_pair(r.hostname, r.file_path);
    auto it = streams.find(key);
    const bool candidate = is_levelless(r) && r.stack_trace.empty() && r.exception_type.empty() &&
                           r.exception_message.empty();
    const continuation_kind kind =
        candidate ? classify_continuation(r.message) : continuation_kind::none;
    if (it != streams.end() && kind != continuation_kind::none) {
      log_record& head = records[it->second.head];
      const bool merge = kind == continuation_kind::strong ||
                         (kind == continuation_kind::trace_start &&
                          (it->second.in_trace || is_problem_level(head.level))) ||
                         (kind == continuation_kind::in_trace && it->second.in_trace);
      if (merge) {
        if (head.stack_trace.empty() && is_levelless(head) &&
            classify_continuation(head.message) == continuation_kind::trace_start) {
          head.stack_trace = head.message;
        }
        if (!head.stack_trace.empty()) {
          head.stack_trace += '\n';
        }
        head.stack_trace += r.message;
        head.truncated = head.truncated || r.truncated;
        it->second.in_trace = true;
        continue;  // merged away
      }
    }
    // r becomes the head of its stream.
    const bool starts_trace = kind == continuation_kind::trace_start;
    if (out != i) {
      records[out] = std::move(r);
      if (parallel != nullptr) {
        (*parallel)[out] = (*parallel)[i];
      }
    }
    streams[std::move(key)] = stream_state{out, starts_trace};
    ++out;
  }
  const size_t merged = records.size() - out;
  records.resize(out);
  if (parallel != nullptr) {
    parallel->resize(out);
  }
  return merged;
}

}  // namespace luffy
