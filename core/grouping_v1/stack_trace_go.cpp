// grouping_v1: frozen copy of core/stack_trace_go.cpp at fd2f299. Never edit (see README.md).
// Go panics and goroutine dumps:
//
//   panic: runtime error: invalid memory address or nil pointer dereference
//   [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a3b2c]
//
//   goroutine 1 [running]:
//   github.com/acme/shop/internal/db.(*Store).Get(0xc000010000, {0x0, 0x0})
//   	/home/ci/go/src/github.com/acme/shop/internal/db/store.go:42 +0x1d
//   main.main()
//   	/app/main.go:15 +0x25
//   exit status 2
//
// Type: "runtime.Error" for "panic: runtime error: ...", "panic" for other panics, "fatal error"
// for "fatal error: ..." and "goroutine" for a bare dump. Only the first goroutine (the one that
// panicked) is parsed; "created by" lines end it. One link; root cause = that link. Module = the
// package import path, function = the rest ("(*Store).Get", "main.func1"), arguments dropped.
#include <string>

#include "core/grouping_v1/stack_trace.hpp"

namespace luffy::grouping_v1 {

namespace {

using trace_text::trim;

// "pkg/path.(*T).Method(0xc0, {0x0})" -> "pkg/path.(*T).Method"
std::string_view strip_call_args(std::string_view s) {
  if (!s.ends_with(")")) {
    return s;
  }
  int depth = 0;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == ')') {
      ++depth;
    } else if (s[i] == '(') {
      if (--depth == 0) {
        // "(*T)" receivers are followed by '.', arguments are at the very end.
        return s.substr(0, i);
      }
    }
  }
  return s;
}

std::optional<stack_frame> parse_go_function(std::string_view t) {
  const std::string_view name = strip_call_args(t);
  if (name.empty() || name.find(' ') != std::string_view::npos) {
    return std::nullopt;
  }
  stack_frame f;
  const size_t slash = name.rfind('/');
  const size_t dot = name.find('.', slash == std::string_view::npos ? 0 : slash);
  if (dot == std::string_view::npos) {
    f.module = "runtime";  // "panic({0x...})" builtins
    f.function = std::string(name);
  } else {
    f.module = std::string(name.substr(0, dot));
    f.function = std::string(name.substr(dot + 1));
  }
  return f;
}

// "\t/app/main.go:15 +0x25"
void parse_go_location(std::string_view t, stack_frame& f) {
  const size_t plus = t.rfind(" +0x");
  if (plus != std::string_view::npos) {
    t = t.substr(0, plus);
  }
  const size_t colon = t.rfind(':');
  if (colon != std::string_view::npos) {
    f.line = trace_text::parse_int(t.substr(colon + 1));
    t = t.substr(0, colon);
  }
  f.file = std::string(t);
}

}  // namespace

std::optional<exception_info> parse_go_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  exception_chain_link link;
  size_t i = 0;
  for (; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (link.type.empty() && t.starts_with("panic: ")) {
      std::string_view msg = trim(t.substr(7));
      if (msg.ends_with(" [recovered]")) {
        msg.remove_suffix(12);
      }
      if (msg.starts_with("runtime error: ")) {
        link.type = "runtime.Error";
        msg.remove_prefix(15);
      } else {
        link.type = "panic";
      }
      link.message = std::string(msg);
    } else if (link.type.empty() && t.starts_with("fatal error: ")) {
      link.type = "fatal error";
      link.message = std::string(trim(t.substr(13)));
    } else if (t.starts_with("goroutine ") && t.ends_with("]:")) {
      break;
    }
  }
  if (i == lines.size()) {
    return std::nullopt;
  }
  if (link.type.empty()) {
    link.type = "goroutine";
  }
  for (++i; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string_view t = trim(line);
    if (t.empty() || t.starts_with("goroutine ") || t.starts_with("created by ") ||
        t.starts_with("exit status")) {
      break;
    }
    if (trace_text::indent_width(line) > 0) {
      if (!link.frames.empty() && link.frames.back().file.empty()) {
        parse_go_location(t, link.frames.back());
      }
      continue;
    }
    if (t.starts_with("...")) {
      continue;  // "...additional frames elided..."
    }
    if (auto f = parse_go_function(t)) {
      link.frames.push_back(std::move(*f));
    }
  }
  exception_info info;
  info.language = "go";
  info.chain.push_back(std::move(link));
  return info;
}

}  // namespace luffy::grouping_v1
