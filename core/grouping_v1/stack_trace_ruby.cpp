// grouping_v1: frozen copy of core/stack_trace_ruby.cpp at fd2f299. Never edit (see README.md).
// Ruby backtraces, in the interpreter's format and in the Rails logger's format:
//
//   /app/app/models/order.rb:42:in `find!': Order 7 not found (Orders::NotFound)
//   	from /usr/local/bundle/gems/actionpack-7.1.2/lib/abstract_controller/base.rb:224:in
//   `process' 	from /app/app/controllers/orders_controller.rb:10:in 'OrdersController#show'
//   (Ruby 3.4)
//
//   ActiveRecord::RecordNotFound (Couldn't find User with 'id'=42):
//   app/controllers/users_controller.rb:10:in `show'
//
// One link; root cause = that link. Module = reduced path without ".rb"; gem paths keep the gem
// name without its version ("actionpack/lib/abstract_controller/base"). Labels: "block (2
// levels) in foo" -> "block in foo".
#include <string>

#include "core/grouping_v1/stack_trace.hpp"

namespace luffy::grouping_v1 {

namespace {

using trace_text::trim;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string ruby_module(std::string_view file) {
  std::string rel;
  const size_t gems = file.rfind("/gems/");
  if (gems != std::string_view::npos) {
    std::string_view g = file.substr(gems + 6);
    const size_t slash = g.find('/');
    std::string_view gem = g.substr(0, slash);
    // "actionpack-7.1.2" -> "actionpack"
    const size_t dash = gem.rfind('-');
    if (dash != std::string_view::npos && dash + 1 < gem.size() && is_digit(gem[dash + 1])) {
      gem = gem.substr(0, dash);
    }
    rel = std::string(gem);
    if (slash != std::string_view::npos) {
      rel += g.substr(slash);
    }
  } else if (file.starts_with("<internal:")) {
    rel = std::string(file);
  } else {
    rel = trace_text::reduce_path(file);
  }
  return std::string(trace_text::strip_extension(rel));
}

// "path:42:in `label'" (after an optional "from "); `rest` receives what follows the label.
std::optional<stack_frame> parse_ruby_frame(std::string_view t, std::string_view* rest) {
  if (t.starts_with("from ")) {
    t.remove_prefix(5);
  }
  const size_t in = t.find(":in ");
  if (in == std::string_view::npos || in + 5 > t.size()) {
    return std::nullopt;
  }
  const char quote = t[in + 4];
  if (quote != '`' && quote != '\'') {
    return std::nullopt;
  }
  const size_t end = t.find('\'', in + 5);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  stack_frame f;
  std::string_view loc = t.substr(0, in);
  const size_t colon = loc.rfind(':');
  if (colon != std::string_view::npos) {
    f.line = trace_text::parse_int(loc.substr(colon + 1));
    loc = loc.substr(0, colon);
  }
  f.file = std::string(loc);
  f.module = ruby_module(loc);
  std::string label(t.substr(in + 5, end - in - 5));
  if (label.starts_with("block (")) {
    const size_t close = label.find(") in ");
    if (close != std::string::npos) {
      label = "block in " + label.substr(close + 5);
    }
  }
  f.function = label;
  *rest = t.substr(end + 1);
  return f;
}

}  // namespace

std::optional<exception_info> parse_ruby_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  exception_chain_link link;
  bool started = false;
  for (std::string_view line : lines) {
    const std::string_view t = trim(line);
    if (t.empty()) {
      continue;
    }
    std::string_view rest;
    if (auto f = parse_ruby_frame(t, &rest)) {
      started = true;
      // Interpreter format: the first frame carries ": message (Type)".
      rest = trim(rest);
      if (link.frames.empty() && link.type.empty() && rest.starts_with(":") &&
          rest.ends_with(")")) {
        const size_t open = rest.rfind(" (");
        if (open != std::string_view::npos) {
          link.type = std::string(rest.substr(open + 2, rest.size() - open - 3));
          link.message = std::string(trim(rest.substr(1, open - 1)));
        }
      }
      link.frames.push_back(std::move(*f));
      continue;
    }
    if (started) {
      break;
    }
    // Header before the frames: "Type (message):" or "Type: message".
    if (t.ends_with("):")) {
      const size_t open = t.find(" (");
      if (open != std::string_view::npos && trace_text::parse_header(t.substr(0, open), false)) {
        link.type = std::string(t.substr(0, open));
        link.message = std::string(t.substr(open + 2, t.size() - open - 4));
        continue;
      }
    }
    if (auto h = trace_text::parse_header(t, true)) {
      link.type = std::string(h->type);
      link.message = std::string(h->message);
    }
  }
  if (!started) {
    return std::nullopt;
  }
  exception_info info;
  info.language = "ruby";
  info.chain.push_back(std::move(link));
  return info;
}

}  // namespace luffy::grouping_v1
