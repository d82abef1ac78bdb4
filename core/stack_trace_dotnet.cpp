// .NET Exception.ToString():
//
//   System.InvalidOperationException: Order failed ---> System.ArgumentNullException: Value
//   cannot be null. (Parameter 'id')
//      at Acme.Orders.OrderRepository.Find(Guid id) in /src/Acme.Orders/OrderRepository.cs:line 42
//      --- End of inner exception stack trace ---
//      at Acme.Orders.OrderService.<GetOrderAsync>d__5.MoveNext() in C:\b\OrderService.cs:line 18
//   --- End of stack trace from previous location ---
//      at Microsoft.AspNetCore.Mvc.Infrastructure...
//
// The header names the chain outermost first, separated by " ---> "; frame blocks are printed
// innermost first, separated by "--- End of inner exception stack trace ---". Root cause =
// chain.back() (the innermost exception). "Unhandled exception. " prefixes are dropped.
// Normalised names: "<GetOrderAsync>d__5.MoveNext" -> module "...OrderService", function
// "GetOrderAsync"; "<>c__DisplayClass2_0" -> "<>c__DisplayClass"; "<Main>b__0_1" -> "<Main>b__";
// "lambda_method123" -> "lambda_method"; generic arity and arguments are dropped.
#include <string>

#include "core/stack_trace.hpp"

namespace luffy {

namespace {

using trace_text::is_digit;
using trace_text::trim;

// Removes the digits/underscores after each occurrence of `marker`.
std::string drop_counter_after(std::string s, std::string_view marker) {
  size_t at = 0;
  while ((at = s.find(marker, at)) != std::string::npos) {
    at += marker.size();
    size_t end = at;
    while (end < s.size() && (is_digit(s[end]) || s[end] == '_')) {
      ++end;
    }
    s.erase(at, end - at);
  }
  return s;
}

std::optional<stack_frame> parse_dotnet_frame(std::string_view body) {
  stack_frame f;
  const size_t open = body.find('(');
  std::string_view name = trim(body.substr(0, open));
  if (open != std::string_view::npos) {
    const size_t in = body.find(") in ", open);
    if (in != std::string_view::npos) {
      std::string_view loc = body.substr(in + 5);
      const size_t line_at = loc.rfind(":line ");
      if (line_at != std::string_view::npos) {
        f.line = trace_text::parse_int(trim(loc.substr(line_at + 6)));
        loc = loc.substr(0, line_at);
      }
      f.file = std::string(loc);
    }
  }
  // Generic method arity: "First[TSource]" / "Get`1"
  const size_t bracket = name.find('[');
  if (bracket != std::string_view::npos) {
    name = name.substr(0, bracket);
  }
  if (name.empty()) {
    return std::nullopt;
  }
  std::string full(name);
  full = drop_counter_after(std::move(full), "__DisplayClass");
  full = drop_counter_after(std::move(full), ">b__");
  full = drop_counter_after(std::move(full), ">d__");
  full = drop_counter_after(std::move(full), "lambda_method");
  // Local functions: "<PlaceAsync>g__Validate|5_0" -> "<PlaceAsync>g__Validate|".
  full = drop_counter_after(std::move(full), "|");
  const size_t dot = full.rfind('.');
  if (dot == std::string::npos) {
    f.function = full;
  } else {
    f.module = full.substr(0, dot);
    f.function = full.substr(dot + 1);
  }
  // Async/iterator state machine: "Ns.C.<GetOrderAsync>d__.MoveNext" -> "Ns.C", "GetOrderAsync".
  const size_t sm = f.module.rfind(".<");
  if (sm != std::string::npos && f.module.ends_with(">d__") &&
      (f.function == "MoveNext" || f.function == "SetResult")) {
    const std::string inner = f.module.substr(sm + 2, f.module.size() - sm - 2 - 4);
    f.module.erase(sm);
    f.function = inner;
  }
  return f;
}

// "Type: msg", also with the HRESULT or error code .NET Core prints after the type:
// "Npgsql.NpgsqlException (0x80004005): msg", "System.Net.Sockets.SocketException (111): msg".
std::optional<trace_text::header> parse_dotnet_header(std::string_view part) {
  part = trim(part);
  const size_t open = part.find(" (");
  if (open != std::string_view::npos && open > 0 && part.find(' ') == open) {
    const size_t close = part.find("):", open);
    if (close != std::string_view::npos && close + 2 <= part.size()) {
      const std::string_view code = part.substr(open + 2, close - open - 2);
      bool is_code = !code.empty();
      for (char c : code) {
        is_code = is_code && (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                              c == 'x' || c == '-');
      }
      if (is_code && trace_text::parse_header(part.substr(0, open), false)) {
        return trace_text::header{part.substr(0, open), trim(part.substr(close + 2))};
      }
    }
  }
  return trace_text::parse_header(part, false);
}

}  // namespace

std::optional<exception_info> parse_dotnet_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  const size_t first_frame = trace_text::first_at_frame(lines);
  if (first_frame == lines.size()) {
    return std::nullopt;
  }
  // Header: from the nearest line above the first frame that starts with an exception type.
  std::string head;
  for (size_t i = first_frame; i-- > 0;) {
    std::string_view t = trim(lines[i]);
    for (std::string_view prefix : {"Unhandled exception. ", "Unhandled Exception: "}) {
      if (t.starts_with(prefix)) {
        t.remove_prefix(prefix.size());
      }
    }
    // Also behind a logger's prefix: "[10:00:00 ERR] Request failed System.X: msg", and with an
    // error code after the type: "System.Net.Sockets.SocketException (111): msg".
    std::optional<trace_text::header> h = trace_text::find_header(t, true);
    if (!h) {
      h = parse_dotnet_header(t);
      if (h && !trace_text::is_exception_type_name(h->type)) {
        h.reset();
      }
    }
    if (h) {
      head = std::string(t.substr(static_cast<size_t>(h->type.data() - t.data())));
      for (size_t k = i + 1; k < first_frame; ++k) {
        head += '\n';
        head += trim(lines[k]);
      }
      break;
    }
  }
  // .NET Core prints each inner exception on its own line: "\n ---> Inner: msg" (trimmed above
  // to "\n---> "); .NET Framework on one line: " ---> ".
  for (size_t at = head.find("\n---> "); at != std::string::npos; at = head.find("\n---> ", at)) {
    head[at] = ' ';
  }
  exception_info info;
  info.language = "dotnet";
  std::string_view rest = head;
  while (true) {
    const size_t arrow = rest.find(" ---> ");
    const std::string_view part = rest.substr(0, arrow);
    exception_chain_link link;
    if (auto h = parse_dotnet_header(part)) {
      link.type = std::string(h->type);
      link.message = std::string(h->message);
    } else {
      link.message = std::string(trim(part));
    }
    info.chain.push_back(std::move(link));
    if (arrow == std::string_view::npos) {
      break;
    }
    rest = rest.substr(arrow + 6);
  }
  // Frame blocks, innermost first.
  size_t block = 0;
  for (size_t i = first_frame; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (t.starts_with("at ")) {
      const size_t idx = block < info.chain.size() ? info.chain.size() - 1 - block : 0;
      if (auto f = parse_dotnet_frame(trim(t.substr(3)))) {
        info.chain[idx].frames.push_back(std::move(*f));
      }
    } else if (t.starts_with("--- End of inner exception stack trace")) {
      ++block;
    }
  }
  return info;
}

}  // namespace luffy
