// Java / Kotlin / Scala traces as printed by Throwable.printStackTrace() and logback/log4j:
//
//   Exception in thread "main" java.lang.IllegalStateException: Order 42 not found
//   	at java.base/java.lang.Thread.run(Thread.java:1583)
//   	at com.acme.Foo$$Lambda$123/0x0000000800c4b440.run(Unknown Source) ~[app.jar:1.0]
//   	Suppressed: java.io.IOException: close failed      (skipped with its nested lines)
//   		at ...
//   Caused by: java.sql.SQLTimeoutException: Query timed out
//   	at org.postgresql.jdbc.PgStatement.execute(PgStatement.java:410)
//   	... 4 more                                          (filled from the enclosing trace)
//
// Root cause: the last "Caused by:" (chain.back()).
#include <string>

#include "core/stack_trace.hpp"

namespace luffy {

namespace {

using trace_text::is_digit;
using trace_text::is_hex;
using trace_text::trim;

// "$$Lambda$123/0x0000000800c4b440" and "$$Lambda/0x..." -> "$$Lambda".
std::string strip_lambda_suffix(std::string_view name) {
  std::string out;
  size_t i = 0;
  while (i < name.size()) {
    const size_t at = name.find("$$Lambda", i);
    if (at == std::string_view::npos) {
      out.append(name.substr(i));
      break;
    }
    out.append(name.substr(i, at + 8 - i));
    size_t j = at + 8;
    if (j < name.size() && name[j] == '$') {
      size_t k = j + 1;
      while (k < name.size() && is_digit(name[k])) {
        ++k;
      }
      if (k > j + 1) {
        j = k;
      }
    }
    if (j + 2 < name.size() && name[j] == '/' && name[j + 1] == '0' && name[j + 2] == 'x') {
      j += 3;
      while (j < name.size() && is_hex(name[j])) {
        ++j;
      }
    }
    i = j;
  }
  return out;
}

// Drops trailing decimal digits: "GeneratedMethodAccessor12" -> "GeneratedMethodAccessor".
std::string_view strip_trailing_digits(std::string_view s) {
  while (!s.empty() && is_digit(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Normalises the declaring class so proxies and generated classes compare equal across runs.
std::string normalise_class(std::string cls) {
  // Byte-code generated subclasses: Foo$$EnhancerBySpringCGLIB$$1a2b3c, Foo$$SpringCGLIB$$0,
  // Foo$HibernateProxy$xYz, Foo$MockitoMock$123, Foo_$$_jvst12_3 -> Foo
  for (std::string_view marker : {"$$EnhancerBy", "$$FastClassBy", "$$SpringCGLIB", "$$ByteBuddy",
                                  "$HibernateProxy$", "$MockitoMock$", "_$$_jvst", "$$_jvst"}) {
    const size_t at = cls.find(marker);
    if (at != std::string::npos) {
      cls.erase(at);
    }
  }
  const size_t dot = cls.rfind('.');
  std::string_view simple = std::string_view(cls).substr(dot == std::string::npos ? 0 : dot + 1);
  std::string pkg = dot == std::string::npos ? std::string() : cls.substr(0, dot + 1);
  // jdk.proxy2.$Proxy45 / com.sun.proxy.$Proxy12
  if (pkg.starts_with("jdk.proxy")) {
    pkg = "jdk.proxy.";
  }
  if (simple.starts_with("Generated") || simple.starts_with("$Proxy")) {
    simple = strip_trailing_digits(simple);
  }
  return pkg + std::string(simple);
}

// "lambda$run$0" -> "lambda$run", "$anonfun$apply$1" -> "$anonfun$apply".
std::string normalise_method(std::string_view m) {
  if (m.find("lambda$") == std::string_view::npos &&
      m.find("$anonfun$") == std::string_view::npos) {
    return std::string(m);
  }
  for (;;) {
    const size_t dollar = m.rfind('$');
    if (dollar == std::string_view::npos || dollar + 1 == m.size()) {
      break;
    }
    const std::string_view tail = m.substr(dollar + 1);
    if (strip_trailing_digits(tail).empty()) {
      m = m.substr(0, dollar);
    } else {
      break;
    }
  }
  return std::string(m);
}

// "at java.base/java.lang.Thread.run(Thread.java:1583) ~[na:na]"
std::optional<stack_frame> parse_java_frame(std::string_view body) {
  const size_t open = body.find('(');
  std::string_view name = trim(body.substr(0, open));
  std::string_view loc;
  if (open != std::string_view::npos) {
    const size_t close = body.find(')', open);
    loc = body.substr(open + 1,
                      close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  }
  if (name.empty()) {
    return std::nullopt;
  }
  std::string full = strip_lambda_suffix(name);
  // Module / class-loader prefixes: "java.base/", "app//", "com.foo@1.2.3/".
  const size_t slash = full.rfind('/');
  if (slash != std::string::npos) {
    full.erase(0, slash + 1);
  }
  stack_frame f;
  const size_t dot = full.rfind('.');
  if (dot == std::string::npos) {
    f.function = normalise_method(full);
  } else {
    f.module = normalise_class(full.substr(0, dot));
    f.function = normalise_method(std::string_view(full).substr(dot + 1));
  }
  if (loc != "Native Method" && loc != "Unknown Source") {
    const size_t colon = loc.rfind(':');
    if (colon != std::string_view::npos) {
      f.file = std::string(loc.substr(0, colon));
      f.line = trace_text::parse_int(loc.substr(colon + 1));
    } else {
      f.file = std::string(loc);
    }
  }
  return f;
}

int parse_more_count(std::string_view t) {
  // "... 4 more" or "... 12 common frames omitted"
  if (!t.starts_with("...")) {
    return -1;
  }
  t = trim(t.substr(3));
  size_t i = 0;
  while (i < t.size() && is_digit(t[i])) {
    ++i;
  }
  if (i == 0) {
    return -1;
  }
  const std::string_view rest = trim(t.substr(i));
  if (rest != "more" && rest != "common frames omitted") {
    return -1;
  }
  return trace_text::parse_int(t.substr(0, i));
}

exception_chain_link link_from_header(std::string_view line) {
  exception_chain_link l;
  if (auto h = trace_text::parse_header(line, false)) {
    l.type = std::string(h->type);
    l.message = std::string(h->message);
  } else {
    l.message = std::string(trim(line));
  }
  return l;
}

}  // namespace

std::optional<exception_info> parse_java_trace(std::string_view text) {
  const std::vector<std::string_view> lines = trace_text::split_lines(text);
  exception_info info;
  info.language = "java";

  // The first frame: its header is the nearest line above that parses as "Type: message";
  // lines between header and frame continue the message.
  const size_t first_frame = trace_text::first_at_frame(lines);
  if (first_frame == lines.size()) {
    return std::nullopt;
  }
  exception_chain_link top;
  for (size_t i = first_frame; i-- > 0;) {
    std::string_view t = trim(lines[i]);
    if (t.starts_with("Exception in thread \"")) {
      const size_t q = t.find('"', 21);
      t = q == std::string_view::npos ? t : trim(t.substr(q + 1));
    }
    // The header may follow a logger's prefix on the same line ("... ERROR c.a.Foo - Request
    // failed: java.lang.IllegalStateException: ...").
    if (auto h = trace_text::find_header(t, false)) {
      top.type = std::string(h->type);
      top.message = std::string(h->message);
      for (size_t k = i + 1; k < first_frame; ++k) {
        top.message += '\n';
        top.message += trim(lines[k]);
      }
      break;
    }
  }
  info.chain.push_back(std::move(top));

  int skip_indent = -1;  // inside a "Suppressed:" block: skip lines indented at least this much
  for (size_t i = first_frame; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string_view t = trim(line);
    if (t.empty()) {
      continue;
    }
    const int indent = static_cast<int>(trace_text::indent_width(line));
    if (skip_indent >= 0) {
      if (indent >= skip_indent) {
        continue;
      }
      skip_indent = -1;
    }
    exception_chain_link& cur = info.chain.back();
    if (t.starts_with("at ")) {
      if (auto f = parse_java_frame(trim(t.substr(3)))) {
        cur.frames.push_back(std::move(*f));
      }
    } else if (const int more = parse_more_count(t); more >= 0) {
      if (info.chain.size() >= 2) {
        const auto& enclosing = info.chain[info.chain.size() - 2].frames;
        const size_t n = std::min(enclosing.size(), static_cast<size_t>(more));
        cur.frames.insert(cur.frames.end(), enclosing.end() - static_cast<std::ptrdiff_t>(n),
                          enclosing.end());
      }
    } else if (t.starts_with("Suppressed: ")) {
      skip_indent = indent > 0 ? indent : 1;
    } else if (t.starts_with("Caused by: ")) {
      info.chain.push_back(link_from_header(t.substr(11)));
    } else if (cur.frames.empty() && info.chain.size() > 1) {
      cur.message += '\n';
      cur.message += t;  // multi-line "Caused by" message
    } else if (!line.empty() && indent == 0 && !cur.frames.empty() &&
               !trace_text::parse_header(t, true)) {
      continue;  // trailing text after the trace
    } else if (indent == 0 && trace_text::parse_header(t, true)) {
      break;  // a second, unrelated trace starts: keep only the first
    }
  }
  return info;
}

}  // namespace luffy
