#include "core/redis_url.hpp"

#include <charconv>

#include "core/hex.hpp"

namespace luffy {

namespace {

redis_url_result fail(std::string why) {
  return {std::nullopt, std::move(why)};
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return std::nullopt;
    }
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <class Int>
bool parse_number(std::string_view s, Int& out) {
  if (s.empty() || s.size() > 10) {
    return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool valid_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) {
    return false;
  }
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool valid_ipv6(std::string_view h) {
  if (h.empty() || h.size() > 45) {
    return false;
  }
  for (char c : h) {
    if (hex_value(c) < 0 && c != ':' && c != '.') {
      return false;
    }
  }
  return h.find(':') != std::string_view::npos;
}

// host[:port] or [v6][:port]; on failure `err` says why.
std::optional<redis_host> parse_host(std::string_view s, uint16_t default_port, std::string& err) {
  redis_host out;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || !valid_ipv6(s.substr(1, close - 1))) {
      err = "the IPv6 address in brackets is not valid";
      return std::nullopt;
    }
    out.host = std::string(s.substr(1, close - 1));
    const auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        err = "expected ':port' after the IPv6 address";
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        err = "the port after ':' is empty";
        return std::nullopt;
      }
    }
  } else {
    const auto colon = s.find(':');
    if (colon != std::string_view::npos) {
      if (s.find(':', colon + 1) != std::string_view::npos) {
        err = "an IPv6 address must be in brackets, e.g. [::1]:6379";
        return std::nullopt;
      }
      port = s.substr(colon + 1);
      s = s.substr(0, colon);
      if (port.empty()) {
        err = "the port after ':' is empty";
        return std::nullopt;
      }
    }
    if (!valid_host_name(s)) {
      err = s.empty() ? "the host is missing"
                      : "the host '" + std::string(s) +
                            "' is not a host name or address (letters, digits, '-', '.', '_')";
      return std::nullopt;
    }
    out.host = std::string(s);
  }
  out.port = default_port;
  if (!port.empty()) {
    unsigned p = 0;
    if (!parse_number(port, p) || p == 0 || p > 65535) {
      err = "the port '" + std::string(port) + "' is not a number from 1 to 65535";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(p);
  }
  return out;
}

bool parse_db(std::string_view s, int& db, std::string& err) {
  if (!parse_number(s, db) || db < 0) {
    err = "the database '" + std::string(s) + "' is not a number from 0";
    return false;
  }
  return true;
}

// Each part below fills `url` and returns "" or says what is wrong.

// user[:password], percent-decoded.
std::string parse_userinfo(std::string_view userinfo, redis_url& url) {
  const auto colon = userinfo.find(':');
  auto user = percent_decode(userinfo.substr(0, colon));
  auto password = percent_decode(colon == std::string_view::npos ? std::string_view{}
                                                                 : userinfo.substr(colon + 1));
  if (!user || !password) {
    return "the user or password has a '%' not followed by two hex digits";
  }
  if (!user->empty() && password->empty()) {
    return "a user needs a password (redis://user:password@host)";
  }
  url.user = std::move(*user);
  url.password = std::move(*password);
  return "";
}

// redis://host[:port][/db]
std::string parse_tcp(std::string_view authority, std::string_view path, redis_url& url) {
  if (path.find('?') != std::string_view::npos || authority.find('?') != std::string_view::npos) {
    return "redis:// takes no query parameters";
  }
  std::string err;
  auto host = parse_host(authority, 6379, err);
  if (!host) {
    return err;
  }
  url.hosts.push_back(std::move(*host));
  if (path.size() > 1 && !parse_db(path.substr(1), url.db, err)) {
    return err;
  }
  return "";
}

// unix:///path[?db=N]
std::string parse_unix(std::string_view authority, std::string_view path, redis_url& url) {
  if (!authority.empty()) {
    return "unix:// takes a path, not a host: unix:///path/to/redis.sock";
  }
  const auto q = path.find('?');
  url.socket_path = std::string(path.substr(0, q));
  if (url.socket_path.size() < 2) {
    return "the socket path is missing: unix:///path/to/redis.sock";
  }
  std::string err;
  if (q != std::string_view::npos) {
    const auto query = path.substr(q + 1);
    if (query.substr(0, 3) != "db=" || !parse_db(query.substr(3), url.db, err)) {
      return err.empty() ? "unix:// takes one query parameter, db=N" : err;
    }
  }
  return "";
}

// sentinel://host[:port][,host[:port]...]/master[/db]
std::string parse_sentinel(std::string_view authority, std::string_view path, redis_url& url) {
  if (path.find('?') != std::string_view::npos || authority.find('?') != std::string_view::npos) {
    return "sentinel:// takes no query parameters";
  }
  std::string err;
  for (size_t start = 0;;) {
    const auto comma = authority.find(',', start);
    auto host = parse_host(authority.substr(start, comma - start), 26379, err);
    if (!host) {
      return "sentinel " + std::to_string(url.hosts.size() + 1) + ": " + err;
    }
    url.hosts.push_back(std::move(*host));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  const auto name_end = path.size() < 2 ? std::string_view::npos : path.find('/', 1);
  if (path.size() >= 2) {
    url.master = std::string(
        path.substr(1, name_end == std::string_view::npos ? std::string_view::npos : name_end - 1));
  }
  if (url.master.empty()) {
    return "the master name is missing: sentinel://host:26379,.../mymaster";
  }
  if (name_end != std::string_view::npos && name_end + 1 < path.size() &&
      !parse_db(path.substr(name_end + 1), url.db, err)) {
    return err;
  }
  return "";
}

}  // namespace

redis_url_result parse_redis_url_text(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("the URL contains a space or a control character");
    }
  }
  redis_url url;
  std::string_view rest;
  if (text.substr(0, 9) == "rediss://") {
    return fail("TLS to Redis (rediss://) is not supported: use redis:// on a private network");
  } else if (text.substr(0, 8) == "redis://") {
    url.type = redis_url::kind::tcp;
    rest = text.substr(8);
  } else if (text.substr(0, 7) == "unix://") {
    url.type = redis_url::kind::unix_socket;
    rest = text.substr(7);
  } else if (text.substr(0, 11) == "sentinel://") {
    url.type = redis_url::kind::sentinel;
    rest = text.substr(11);
  } else {
    return fail(
        "expected redis://host:port/db, unix:///path/to.sock or "
        "sentinel://host:port,.../master");
  }
  // The authority ends at the first '/' (a Unix socket's path starts there); the user info ends
  // at its last '@' (an unencoded '@' in a password stays in the password).
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  std::string err;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    err = parse_userinfo(authority.substr(0, at), url);
    authority = authority.substr(at + 1);
  }
  if (err.empty()) {
    switch (url.type) {
      case redis_url::kind::tcp:
        err = parse_tcp(authority, path, url);
        break;
      case redis_url::kind::unix_socket:
        err = parse_unix(authority, path, url);
        break;
      case redis_url::kind::sentinel:
        err = parse_sentinel(authority, path, url);
        break;
    }
  }
  if (!err.empty()) {
    return fail(err);
  }
  return {std::move(url), {}};
}

}  // namespace luffy
