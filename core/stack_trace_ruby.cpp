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

#include "core/stack_trace.hpp"

namespace luffy {

namespace {

using trace_text::is_digit;
using trace_text::trim;

bool is_git_sha(std::string_view s) {
  if (s.size() < 7) {
    return false;
  }
  for (char c : s) {
    if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

// Labels the same across Ruby versions and processes:
//   "block (2 levels) in f" -> "block in f";
//   Ruby 3.4 qualifies methods: "OrdersController#show", "Order.find!" -> "show", "find!";
//   compiled templates carry a per-process suffix: "_app_views_orders_show_html_erb__316982_4732"
//   -> "_app_views_orders_show_html_erb" (ERB, Haml, Slim, Builder, Jbuilder).
std::string normalise_label(std::string label) {
  if (label.starts_with("block (")) {
    const size_t close = label.find(") in ");
    if (close != std::string::npos) {
      label = "block in " + label.substr(close + 5);
    }
  }
  const size_t word = label.rfind(' ') == std::string::npos ? 0 : label.rfind(' ') + 1;
  if (word < label.size() && label[word] != '<') {
    const size_t hash = label.find('#', word);
    const size_t dot = label.rfind('.');
    if (hash != std::string::npos && hash + 1 < label.size()) {
      label.erase(word, hash + 1 - word);
    } else if (dot != std::string::npos && dot >= word && dot + 1 < label.size()) {
      label.erase(word, dot + 1 - word);
    }
  }
  size_t tail = label.size();
  size_t digits = 0;
  while (tail > 0 &&
         (is_digit(label[tail - 1]) || label[tail - 1] == '_' || label[tail - 1] == '-')) {
    digits += is_digit(label[tail - 1]) ? 1 : 0;
    --tail;
  }
  if (digits >= 4 && tail + 2 <= label.size() && label[tail] == '_' && label[tail + 1] == '_') {
    label.erase(tail);
  }
  return label;
}

std::string ruby_module(std::string_view file) {
  std::string rel;
  const size_t gems = file.rfind("/gems/");
  if (gems != std::string_view::npos) {
    std::string_view g = file.substr(gems + 6);
    const size_t slash = g.find('/');
    std::string_view gem = g.substr(0, slash);
    // "actionpack-7.1.2" -> "actionpack"; bundler's git checkouts "rails-8f2c1a9e4b7d" -> "rails"
    const size_t dash = gem.rfind('-');
    if (dash != std::string_view::npos && dash + 1 < gem.size() &&
        (is_digit(gem[dash + 1]) || is_git_sha(gem.substr(dash + 1)))) {
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
  // The first line may carry a logger's prefix: "E, [...] ERROR -- : /app/x.rb:3:in ...".
  if (const size_t sp = loc.rfind(' '); sp != std::string_view::npos) {
    loc = loc.substr(sp + 1);
  }
  const size_t colon = loc.rfind(':');
  if (colon != std::string_view::npos) {
    f.line = trace_text::parse_int(loc.substr(colon + 1));
    loc = loc.substr(0, colon);
  }
  f.file = std::string(loc);
  f.module = ruby_module(loc);
  f.function = normalise_label(std::string(t.substr(in + 5, end - in - 5)));
  *rest = t.substr(end + 1);
  return f;
}

// "Type (message):" at the start of t or after a space; t ends with "):".
std::optional<trace_text::header> find_paren_header(std::string_view t) {
  size_t open = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0 && t[i - 1] != ' ') {
      continue;
    }
    if (open < i) {
      open = t.find(" (", i);
    } else if (i == 0) {
      open = t.find(" (");
    }
    if (open == std::string_view::npos || open + 4 > t.size()) {
      return std::nullopt;
    }
    const std::string_view type = t.substr(i, open - i);
    if (type.find(' ') == std::string_view::npos && trace_text::parse_header(type, false) &&
        open + 2 <= t.size() - 2) {
      return trace_text::header{type, t.substr(open + 2, t.size() - open - 4)};
    }
  }
  return std::nullopt;
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
    // Header before the frames: "Type (message):" or "Type: message", possibly behind a
    // logger's prefix ("E, [2026-...] ERROR -- : [req] Type (message):").
    if (t.ends_with("):")) {
      if (auto h = find_paren_header(t)) {
        link.type = std::string(h->type);
        link.message = std::string(h->message);
        continue;
      }
    }
    if (auto h = trace_text::find_header(t, true)) {
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

}  // namespace luffy
