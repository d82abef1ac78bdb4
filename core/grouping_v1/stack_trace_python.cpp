// grouping_v1: frozen copy of core/stack_trace_python.cpp at fd2f299. Never edit (see README.md).
// Python tracebacks:
//
//   Traceback (most recent call last):
//     File "/srv/venv/lib/python3.11/site-packages/flask/app.py", line 880, in
//     full_dispatch_request
//       rv = self.dispatch_request()
//     File "/app/billing/charge.py", line 23, in charge_card
//       amount = int(payload["amount"])
//              ^^^^^^^^^^^^^^^^^^^^^^^^
//   ValueError: invalid literal for int() with base 10: '12.50'
//
// Chains print the ORIGINAL exception first, then "During handling of the above exception,
// another exception occurred:" or "The above exception was the direct cause of the following
// exception:", then the next traceback. The chain is stored outermost first (reversed), so
// root_cause() = chain.back() = the first printed exception. Frames are reversed so the crash
// site (the LAST printed frame) comes first. File paths become module paths:
// ".../site-packages/requests/adapters.py" -> "requests.adapters", "/app/billing/worker.py" ->
// "billing.worker", "<frozen importlib._bootstrap>" -> "importlib._bootstrap".
#include <algorithm>
#include <string>

#include "core/grouping_v1/stack_trace.hpp"

namespace luffy::grouping_v1 {

namespace {

using trace_text::trim;

std::string python_module(std::string_view file) {
  if (file.starts_with("<frozen ") && file.ends_with(">")) {
    return std::string(file.substr(8, file.size() - 9));
  }
  if (file.starts_with("<")) {
    return std::string(file);  // <string>, <stdin>, <template>
  }
  std::string p(file);
  std::replace(p.begin(), p.end(), '\\', '/');
  std::string_view v = p;
  std::string rel;
  bool found = false;
  for (std::string_view marker : {"/site-packages/", "/dist-packages/"}) {
    const size_t at = v.rfind(marker);
    if (at != std::string_view::npos) {
      rel = std::string(v.substr(at + marker.size()));
      found = true;
      break;
    }
  }
  if (!found) {
    // Standard library: .../lib/python3.11/json/decoder.py -> json/decoder.py
    const size_t lib = v.rfind("/lib/python");
    if (lib != std::string_view::npos) {
      const size_t next = v.find('/', lib + 11);
      if (next != std::string_view::npos) {
        rel = std::string(v.substr(next + 1));
        found = true;
      }
    }
  }
  if (!found) {
    rel = trace_text::reduce_path(v);
  }
  std::string_view r = rel;
  if (r.ends_with(".py") || r.ends_with(".pyc") || r.ends_with(".pyx")) {
    r = trace_text::strip_extension(r);
  }
  std::string out(r);
  std::replace(out.begin(), out.end(), '/', '.');
  if (out.ends_with(".__init__")) {
    out.erase(out.size() - 9);
  }
  return out;
}

// File "/app/billing/worker.py", line 57, in run_job
std::optional<stack_frame> parse_python_frame(std::string_view t) {
  if (!t.starts_with("File \"")) {
    return std::nullopt;
  }
  const size_t close = t.find('"', 6);
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  stack_frame f;
  f.file = std::string(t.substr(6, close - 6));
  f.module = python_module(f.file);
  std::string_view rest = t.substr(close + 1);
  const size_t line_at = rest.find("line ");
  if (line_at != std::string_view::npos) {
    size_t end = line_at + 5;
    while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') {
      ++end;
    }
    f.line = trace_text::parse_int(rest.substr(line_at + 5, end - line_at - 5));
  }
  const size_t in = rest.find(", in ");
  f.function = in == std::string_view::npos ? "<unknown>" : std::string(trim(rest.substr(in + 5)));
  return f;
}

}  // namespace

std::optional<exception_info> parse_python_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  std::vector<exception_chain_link> printed;
  bool in_traceback = false;
  bool link_closed = false;  // the last link got its exception line
  for (std::string_view line : lines) {
    const std::string_view t = trim(line);
    if (t.starts_with("Traceback (most recent call last):")) {
      printed.emplace_back();
      in_traceback = true;
      link_closed = false;
      continue;
    }
    if (t.empty() || t.starts_with("During handling of the above exception") ||
        t.starts_with("The above exception was the direct cause")) {
      continue;
    }
    if (in_traceback) {
      if (auto f = parse_python_frame(t)) {
        printed.back().frames.push_back(std::move(*f));
        continue;
      }
      if (trace_text::indent_width(line) > 0) {
        continue;  // source line, caret marker, or "[Previous line repeated 996 more times]"
      }
      // The exception line ends the traceback.
      if (auto h = trace_text::parse_header(t, false)) {
        printed.back().type = std::string(h->type);
        printed.back().message = std::string(h->message);
      } else {
        printed.back().message = std::string(t);
      }
      in_traceback = false;
      link_closed = true;
      continue;
    }
    if (link_closed && !printed.empty()) {
      printed.back().message += '\n';  // a multi-line exception message
      printed.back().message += t;
    }
  }
  if (printed.empty()) {
    return std::nullopt;
  }
  exception_info info;
  info.language = "python";
  for (auto it = printed.rbegin(); it != printed.rend(); ++it) {
    std::reverse(it->frames.begin(), it->frames.end());
    info.chain.push_back(std::move(*it));
  }
  return info;
}

}  // namespace luffy::grouping_v1
