// Node.js (V8) stack traces:
//
//   TypeError: Cannot read properties of undefined (reading 'id')
//       at getUser (/srv/app/releases/2024-03-01/src/routes/users.js:42:18)
//       at async Promise.all (index 0)
//       at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)
//       at /app/src/server.js:10:5                       (anonymous function)
//       at new Repo (file:///app/src/repo.mjs:3:7)
//       at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
//
// Error.cause, printed by util.inspect as "  [cause]: Error: ..." with its own frames, becomes a
// deeper link; root cause = chain.back() (the innermost cause). Modules are
// reduced file paths without extension: "src/routes/users", dependencies keep the path below
// node_modules ("express/lib/router/layer"), built-ins keep "node:internal/...".
#include <string>

#include "core/stack_trace.hpp"

namespace luffy {

namespace {

using trace_text::all_digits;
using trace_text::trim;

std::string node_module(std::string_view file) {
  if (file.starts_with("node:") || file.starts_with("internal/")) {
    return std::string(file);
  }
  if (file.starts_with("index ")) {
    return std::string();  // "at async Promise.all (index 3)": the index is data, not code
  }
  if (file.find('/') == std::string_view::npos && file.find('\\') == std::string_view::npos) {
    return std::string(file);  // "native", "<anonymous>"
  }
  std::string rel;
  const size_t nm = file.rfind("node_modules/");
  if (nm != std::string_view::npos) {
    rel = std::string(file.substr(nm + 13));
  } else {
    rel = trace_text::reduce_path(file);
  }
  // Bundles carry a content hash that changes with every build: "dist/main.3f2a9c1b.js".
  return trace_text::strip_build_hash(trace_text::strip_extension(rel));
}

std::optional<stack_frame> parse_node_frame(std::string_view body) {
  if (body.ends_with(" {")) {
    body = trim(body.substr(0, body.size() - 2));  // util.inspect opens the error's own fields
  }
  if (body.starts_with("async ")) {
    body.remove_prefix(6);
  }
  stack_frame f;
  std::string_view fn;
  std::string_view loc;
  const size_t open = body.find(" (");
  if (body.ends_with(")") && open != std::string_view::npos) {
    fn = trim(body.substr(0, open));
    loc = body.substr(open + 2, body.size() - open - 3);
  } else {
    loc = body;
  }
  const size_t as = fn.find(" [as ");
  if (as != std::string_view::npos) {
    fn = fn.substr(0, as);
  }
  f.function = fn.empty() ? "<anonymous>" : std::string(fn);
  if (loc.starts_with("file://")) {
    loc.remove_prefix(7);
  }
  // Trailing ":line:column" (either may be missing).
  std::string_view file = loc;
  size_t colon = file.rfind(':');
  if (colon != std::string_view::npos && all_digits(file.substr(colon + 1))) {
    const std::string_view last = file.substr(colon + 1);
    file = file.substr(0, colon);
    colon = file.rfind(':');
    if (colon != std::string_view::npos && all_digits(file.substr(colon + 1))) {
      f.line = trace_text::parse_int(file.substr(colon + 1));
      file = file.substr(0, colon);
    } else {
      f.line = trace_text::parse_int(last);
    }
  }
  f.file = std::string(file);
  f.module = node_module(file);
  return f;
}

// A header, also behind a prefix ("Error handling POST /orders/991 -> TypeError: ..."), and with
// the error code Node prints for system errors: "TypeError [ERR_INVALID_ARG_TYPE]: msg" (type
// "TypeError", as err.name gives it in exception_type fields).
std::optional<trace_text::header> node_header(std::string_view t) {
  if (auto h = trace_text::find_header(t, true)) {
    return h;
  }
  const size_t close = t.find("]: ");
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  const size_t open = t.rfind(" [", close);
  if (open == std::string_view::npos || open == 0) {
    return std::nullopt;
  }
  size_t start = open;
  while (start > 0 && t[start - 1] != ' ' && t[start - 1] != '>') {
    --start;
  }
  const std::string_view type = t.substr(start, open - start);
  if (!trace_text::has_exception_suffix(type) || !trace_text::parse_header(type, true)) {
    return std::nullopt;
  }
  return trace_text::header{type, trace_text::trim(t.substr(close + 3))};
}

}  // namespace

std::optional<exception_info> parse_node_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  const size_t first_frame = trace_text::first_at_frame(lines);
  if (first_frame == lines.size()) {
    return std::nullopt;
  }
  exception_info info;
  info.language = "node";
  exception_chain_link link;
  // Header: the nearest line above the first frame that reads "SomeError: message".
  for (size_t i = first_frame; i-- > 0;) {
    std::string_view t = trim(lines[i]);
    if (t.starts_with("Uncaught ")) {
      t.remove_prefix(9);
    }
    // Also behind a prefix: "Error handling POST /orders/991 -> TypeError: ...".
    if (auto h = node_header(t)) {
      link.type = std::string(h->type);
      link.message = std::string(h->message);
      for (size_t k = i + 1; k < first_frame; ++k) {
        link.message += '\n';
        link.message += trim(lines[k]);
      }
      break;
    }
  }
  info.chain.push_back(std::move(link));
  for (size_t i = first_frame; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (t.starts_with("at ")) {
      if (auto f = parse_node_frame(trim(t.substr(3)))) {
        info.chain.back().frames.push_back(std::move(*f));
      }
    } else if (t.starts_with("[cause]: ")) {
      // Node 16.9+ prints Error.cause inside the error's inspect braces: a deeper link.
      exception_chain_link cause;
      std::optional<trace_text::header> h = trace_text::parse_header(t.substr(9), false);
      if (!h) {
        h = node_header(t.substr(9));
      }
      if (h) {
        cause.type = std::string(h->type);
        cause.message = std::string(h->message);
      } else {
        cause.message = std::string(trim(t.substr(9)));
      }
      info.chain.push_back(std::move(cause));
    } else if (!t.empty() && trace_text::indent_width(lines[i]) == 0 &&
               !info.chain.back().frames.empty() && !t.starts_with("}")) {
      break;  // end of the stack (next log line, ...)
    }
  }
  return info;
}

}  // namespace luffy
