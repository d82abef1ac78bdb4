#include "core/config.hpp"

#include "core/hex.hpp"
#include "core/redis_url.hpp"

#include "core/glob.hpp"
#include "core/notification.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <type_traits>

namespace luffy {

namespace {

bool parse_int(std::string_view v, int64_t& out) {
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

std::optional<bool> parse_bool(std::string_view v) {
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "yes" || s == "on" || s == "1")
    return true;
  if (s == "false" || s == "no" || s == "off" || s == "0")
    return false;
  return std::nullopt;
}

// An integer or size key's value, parsed and range-checked; `problem` names the key when the text
// is not one.
struct parsed_int {
  int64_t value = 0;
  std::optional<std::string> problem;
};

parsed_int parse_number(const config_key& key, const std::string& where, std::string_view value) {
  parsed_int r;
  if (key.type == key_type::size) {
    auto s = parse_size(value);
    if (!s) {
      r.problem = where + ": expected a size such as 16MiB, got \"" + std::string(value) + "\"";
      return r;
    }
    r.value = *s;
  } else if (key.type == key_type::duration) {
    auto s = parse_duration(value);
    if (!s) {
      r.problem = where + ": expected a duration such as 30d, 12h, 15m or 90s, got \"" +
                  std::string(value) + "\"";
      return r;
    }
    r.value = *s;
  } else if (!parse_int(value, r.value)) {
    r.problem = where + ": expected an integer, got \"" + std::string(value) + "\"";
    return r;
  }
  if (r.value < key.min || r.value > key.max) {
    r.problem = where + ": " + std::to_string(r.value) + " is outside [" + std::to_string(key.min) +
                ", " + std::to_string(key.max) + "]";
  }
  return r;
}

bool is_choice(std::string_view choices, std::string_view value) {
  size_t start = 0;
  while (start <= choices.size()) {
    auto bar = choices.find('|', start);
    if (bar == std::string_view::npos) {
      bar = choices.size();
    }
    if (choices.substr(start, bar - start) == value) {
      return true;
    }
    start = bar + 1;
  }
  return false;
}

// Parses `value` by the row's type and bounds into the row's member. `path` is the key as written
// (for a map, "rate_limit.services.<name>": the entry's name is its last segment).
std::optional<std::string> store(const config_key& key, luffy_config& cfg, std::string_view path,
                                 std::string_view value) {
  const std::string where(path);
  const config_field field = key.member.field(cfg);
  switch (key.type) {
    case key_type::integer:
    case key_type::size:
    case key_type::duration:
    case key_type::map: {
      auto n = parse_number(key, where, value);
      if (n.problem) {
        return n.problem;
      }
      if (auto* map = std::get_if<std::map<std::string, int64_t>*>(&field)) {
        (**map)[std::string(path.substr(path.rfind('.') + 1))] = n.value;
        return std::nullopt;
      }
      if (auto* i = std::get_if<int64_t*>(&field)) {
        **i = n.value;
        return std::nullopt;
      }
      break;
    }
    case key_type::boolean:
      if (auto* b = std::get_if<bool*>(&field)) {
        auto v = parse_bool(value);
        if (!v) {
          return where + ": expected true or false, got \"" + std::string(value) + "\"";
        }
        **b = *v;
        return std::nullopt;
      }
      break;
    case key_type::enumeration:
      if (!is_choice(key.choices, value)) {
        return where + ": expected one of " + std::string(key.choices) + ", got \"" +
               std::string(value) + "\"";
      }
      [[fallthrough]];
    case key_type::string:
      if (auto* s = std::get_if<std::string*>(&field)) {
        **s = std::string(value);
        return std::nullopt;
      }
      break;
    case key_type::list:
      return where + ": is a list; set it in the YAML file";
  }
  // A row whose member does not hold its type (a test checks every row).
  return where + ": unsupported";
}

}  // namespace

// Sections are value-initialised first (nothing is left indeterminate), then every scalar key
// takes its row's default; lists and maps start empty, as their rows say.
luffy_config::luffy_config()
    : server(),
      ingest(),
      auth(),
      rate_limit(),
      actors(),
      supervision(),
      testing(),
      backpressure(),
      dedup(),
      clustering(),
      storage(),
      log(),
      agents(),
      notifications() {
  for (const auto& k : config_keys()) {
    if (k.type != key_type::list && k.type != key_type::map) {
      store(k, *this, k.path, k.default_text);
    }
  }
}

const config_key* find_config_key(std::string_view path) {
  for (const auto& k : config_keys()) {
    if (k.path == path)
      return &k;
    if (k.type == key_type::map) {
      const auto prefix = k.path.substr(0, k.path.size() - 1);  // "rate_limit.services."
      if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
          path.find('.', prefix.size()) == std::string_view::npos) {
        return &k;
      }
    }
  }
  return nullptr;
}

std::string env_name_for(std::string_view path) {
  std::string out = "LUFFY_";
  for (char c : path) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::optional<int64_t> parse_size(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    ++i;
  if (i == 0)
    return std::nullopt;
  int64_t n = 0;
  if (!parse_int(text.substr(0, i), n))
    return std::nullopt;
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  int64_t mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1LL << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1LL << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1LL << 30;
  else
    return std::nullopt;
  if (n > INT64_MAX / mult)
    return std::nullopt;
  return n * mult;
}

std::optional<int64_t> parse_duration(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    ++i;
  if (i == 0)
    return std::nullopt;
  int64_t n = 0;
  if (!parse_int(text.substr(0, i), n))
    return std::nullopt;
  const std::string_view unit = text.substr(i);
  int64_t mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1;
  else if (unit == "m")
    mult = 60;
  else if (unit == "h")
    mult = 3600;
  else if (unit == "d")
    mult = 86400;
  else
    return std::nullopt;
  if (n > INT64_MAX / mult)
    return std::nullopt;
  return n * mult;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos)
      end = s.size();
    std::string_view item = s.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

bool split_host_port(std::string_view listen, std::string& host, uint16_t& port) {
  size_t colon;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return false;
    host = std::string(listen.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = listen.rfind(':');
    if (colon == std::string_view::npos)
      return false;
    host = std::string(listen.substr(0, colon));
  }
  int64_t p = 0;
  if (!parse_int(listen.substr(colon + 1), p) || p < 0 || p > 65535)
    return false;
  port = static_cast<uint16_t>(p);
  return !host.empty();
}

std::optional<std::string> apply_setting(luffy_config& cfg, std::string_view path,
                                         std::string_view value) {
  const config_key* key = find_config_key(path);
  if (key == nullptr) {
    return std::string(path) + ": unknown key";
  }
  return store(*key, cfg, path, value);
}

std::optional<std::string> setting_text(const config_key& key, const luffy_config& cfg) {
  const config_value v = key.member.value(cfg);
  if (auto* s = std::get_if<const std::string*>(&v)) {
    return **s;
  }
  if (auto* i = std::get_if<const int64_t*>(&v)) {
    return std::to_string(**i);
  }
  if (auto* b = std::get_if<const bool*>(&v)) {
    return std::string(**b ? "true" : "false");
  }
  return std::nullopt;
}

std::vector<std::string> changed_keys(const luffy_config& a, const luffy_config& b) {
  std::vector<std::string> changed;
  for (const auto& k : config_keys()) {
    std::visit(
        [&](auto* x, auto* y) {
          if constexpr (std::is_same_v<decltype(x), decltype(y)>) {
            if constexpr (std::is_same_v<decltype(x), const std::map<std::string, int64_t>*>) {
              const auto prefix = std::string(k.path.substr(0, k.path.size() - 1));
              std::set<std::string> names;
              for (const auto& [name, value] : *x) {
                names.insert(name);
              }
              for (const auto& [name, value] : *y) {
                names.insert(name);
              }
              for (const auto& name : names) {
                const auto i = x->find(name);
                const auto j = y->find(name);
                if ((i == x->end()) != (j == y->end()) ||
                    (i != x->end() && i->second != j->second)) {
                  changed.push_back(prefix + name);
                }
              }
            } else if (*x != *y) {
              changed.emplace_back(k.path);
            }
          }
        },
        k.member.value(a), k.member.value(b));
  }
  return changed;
}

const std::vector<std::string_view>& fingerprint_rule_fields() {
  static const std::vector<std::string_view> fields = {
      "service_id",        "level",       "logger",   "message",  "exception_type",
      "exception_message", "environment", "hostname", "file_path"};
  return fields;
}

std::vector<std::string> check_fingerprint_rules(
    const std::vector<fingerprint_rule_config>& rules) {
  std::vector<std::string> problems;
  const auto& fields = fingerprint_rule_fields();
  std::string known;
  for (auto f : fields) {
    known += (known.empty() ? "" : ", ") + std::string(f);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    const std::string where = "clustering.fingerprint_rules[" + std::to_string(i) + "]";
    if (r.match.empty()) {
      problems.push_back(where + ".match: name at least one field (" + known + ")");
    }
    for (const auto& m : r.match) {
      const std::string at = where + ".match." + m.field;
      if (std::find(fields.begin(), fields.end(), m.field) == fields.end()) {
        problems.push_back(at + ": unknown field (one of " + known + ")");
      } else if (auto why = glob_error(m.glob)) {
        problems.push_back(at + ": bad glob \"" + m.glob + "\": " + *why);
      }
    }
    if (r.fingerprint.empty()) {
      problems.push_back(where + ".fingerprint: must not be empty");
    }
  }
  return problems;
}

std::string token_weakness(std::string_view plain) {
  constexpr size_t min_length = 16;
  std::string lower(plain);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Words of the placeholders that ship in examples, READMEs and Helm charts: a token holding one
  // was copied, not generated.
  static const char* const placeholders[] = {
      "change-me",  "changeme",   "change_me",  "placeholder", "example", "replace-me", "replaceme",
      "replace_me", "your-token", "your_token", "yourtoken",   "dummy",   "insecure"};
  for (const char* p : placeholders) {
    if (lower.find(p) != std::string::npos) {
      return "a known placeholder";
    }
  }
  static const char* const whole[] = {"token", "secret", "password", "test", "admin", "dev"};
  for (const char* w : whole) {
    if (lower == w) {
      return "a known placeholder";
    }
  }
  if (plain.size() < min_length) {
    return "shorter than 16 characters";
  }
  return "";
}

std::vector<std::string> check_webhooks(const std::vector<webhook_config>& hooks) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  const auto& known = known_notification_events();
  for (size_t i = 0; i < hooks.size(); ++i) {
    const auto& h = hooks[i];
    const std::string where = "notifications.webhooks[" + std::to_string(i) + "]";
    if (h.name.empty()) {
      problems.push_back(where + ".name: must not be empty");
    } else if (!names.insert(h.name).second) {
      problems.push_back(where + ".name: \"" + h.name + "\" is used by another webhook");
    }
    // The URL is never echoed: its path is the webhook's credential.
    if (h.url.rfind("http://", 0) != 0 && h.url.rfind("https://", 0) != 0) {
      problems.push_back(where + ".url: must start with http:// or https://");
    } else if (const auto rest = h.url.substr(h.url.find("://") + 3);
               rest.empty() || rest.find_first_of("/?#") == 0) {
      problems.push_back(where + ".url: has no host");
    }
    if (!h.format.empty() && !parse_webhook_format(h.format)) {
      problems.push_back(where + ".format: expected one of json|slack|google_chat, got \"" +
                         h.format + "\"");
    }
    for (const auto& e : h.events) {
      if (std::find(known.begin(), known.end(), e) == known.end()) {
        std::string list;
        for (const auto& k : known) {
          list += (list.empty() ? "" : ", ") + k;
        }
        problems.push_back(where + ".events: unknown event type \"" + e + "\" (one of " + list +
                           ")");
      }
    }
    for (const auto& g : h.services) {
      if (auto why = glob_error(g)) {
        problems.push_back(where + ".services: bad glob \"" + g + "\": " + *why);
      }
    }
  }
  return problems;
}

std::vector<std::string> validate(const luffy_config& cfg) {
  std::vector<std::string> problems;
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(cfg.server.listen, host, port)) {
    problems.push_back("server.listen: expected host:port, got \"" + cfg.server.listen + "\"");
  }
  if (cfg.server.max_in_flight_bytes < cfg.server.max_body_bytes + cfg.server.max_inflated_bytes) {
    problems.push_back(
        "server.max_in_flight_bytes: must be at least server.max_body_bytes + "
        "server.max_inflated_bytes (one largest request must fit)");
  }
  if (cfg.server.max_inflated_bytes < cfg.server.max_body_bytes) {
    problems.push_back("server.max_inflated_bytes: must be at least server.max_body_bytes");
  }
  if (!cfg.auth.disabled && cfg.auth.tokens.empty() && cfg.auth.clients.empty() &&
      cfg.auth.jwt_secret.empty()) {
    problems.push_back(
        "auth.tokens: no tokens, no auth.clients and no auth.jwt.secret; set tokens or "
        "auth.disabled: true explicitly");
  }
  // What a token and a client certificate share: services, default_service, scopes.
  auto check_credential = [&](const token_config& t, const std::string& where) {
    if (t.services.empty()) {
      problems.push_back(where + ".services: list at least one service or \"*\"");
    }
    if (!t.default_service.empty() && !(t.services.size() == 1 && t.services[0] == "*") &&
        std::find(t.services.begin(), t.services.end(), t.default_service) == t.services.end()) {
      problems.push_back(where + ".default_service: \"" + t.default_service +
                         "\" is not in its services");
    }
    if (t.scopes) {
      if (t.scopes->empty()) {
        problems.push_back(where + ".scopes: list at least one of ingest, read, admin");
      }
      for (const auto& s : *t.scopes) {
        if (s != "ingest" && s != "read" && s != "admin") {
          problems.push_back(where + ".scopes: \"" + s + "\" is not a scope (ingest, read, admin)");
        }
      }
    }
  };
  size_t listed = 0, in_file = 0;  // entries of auth.tokens and of auth.tokens_file, each counted
  for (const auto& t : cfg.auth.tokens) {
    const std::string where = t.listed_in.empty()
                                  ? "auth.tokens[" + std::to_string(listed++) + "]"
                                  : t.listed_in + "[" + std::to_string(in_file++) + "]";
    // A token_file that could not be read was reported by the loader, with the file's name; an
    // optional one that is not there is no problem.
    const bool from_file = !t.token_file.empty();
    if (!from_file &&
        (t.token_sha256.size() != 64 || std::any_of(t.token_sha256.begin(), t.token_sha256.end(),
                                                    [](char c) { return hex_value(c) < 0; }))) {
      problems.push_back(where + ": needs `token`, `token_file` or a 64-hex-digit `token_sha256`");
    }
    if (!t.weakness.empty() && !cfg.auth.allow_weak_tokens) {
      problems.push_back(where + "." + t.weakness +
                         " (use a random token of 16+ characters, e.g. `openssl rand -hex 24`; "
                         "auth.allow_weak_tokens: true accepts it, for tests only)");
    }
    check_credential(t, where);
  }
  for (size_t i = 0; i < cfg.auth.clients.size(); ++i) {
    const auto& c = cfg.auth.clients[i];
    const std::string where = "auth.clients[" + std::to_string(i) + "]";
    if (c.subject.empty() == c.san.empty()) {
      problems.push_back(where + ": needs exactly one of `subject` (a CN glob) and `san`");
    }
    if (!c.san.empty()) {
      const auto colon = c.san.find(':');
      const std::string kind = colon == std::string::npos ? "" : c.san.substr(0, colon);
      if ((kind != "DNS" && kind != "URI" && kind != "email" && kind != "IP") ||
          colon + 1 == c.san.size()) {
        problems.push_back(where +
                           ".san: expected DNS:<glob>, URI:<glob>, email:<glob> or IP:<address>");
      }
    }
    check_credential(c, where);
  }
  if (!cfg.auth.clients.empty() && cfg.server.tls.client_ca_file.empty()) {
    problems.push_back(
        "auth.clients: client certificates need server.tls.client_ca_file (the CAs that sign "
        "them)");
  }
  if (!cfg.server.tls.client_ca_file.empty() && cfg.server.tls.cert_file.empty()) {
    problems.push_back(
        "server.tls.client_ca_file: needs server.tls.cert_file and key_file (client certificates "
        "are a TLS feature)");
  }
  if (cfg.server.tls.require_client_cert && cfg.server.tls.client_ca_file.empty()) {
    problems.push_back("server.tls.require_client_cert: needs server.tls.client_ca_file");
  }
  if (cfg.ingest.date_key.empty()) {
    problems.push_back("ingest.date_key: must not be empty");
  }
  if (cfg.storage.redis != "embedded") {
    // The parser's sentences never quote the URL (it may hold a password).
    if (auto url = parse_redis_url_text(cfg.storage.redis); !url.url) {
      problems.push_back("storage.redis: " + url.error);
    }
  }
  if (cfg.storage.key_prefix.empty()) {
    problems.push_back("storage.key_prefix: must not be empty");
  }
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{"node.cluster_listen", cfg.node.cluster_listen},
        {"node.advertise", cfg.node.advertise}}) {
    std::string h;
    uint16_t p = 0;
    if (!value.empty() && !split_host_port(value, h, p)) {
      problems.push_back(std::string(key) + ": expected host:port, got \"" + value + "\"");
    }
  }
  {
    const auto& t = cfg.node.tls;
    const int set = !t.cert_file.empty() + !t.key_file.empty() + !t.ca_file.empty();
    if (set != 0 && set != 3) {
      problems.push_back(
          "node.tls: cert_file, key_file and ca_file go together (set all three for TLS between "
          "nodes, none for plain TCP)");
    }
  }
  // A node name ends every lease value ("<epoch>:<since>:<node>") and names a metric label: 1 to
  // 128 printable ASCII characters without spaces or quotes.
  if (!cfg.node.name.empty()) {
    const bool printable = std::all_of(cfg.node.name.begin(), cfg.node.name.end(), [](char c) {
      return c > ' ' && c < 127 && c != '"' && c != '\\';
    });
    if (!printable || cfg.node.name.size() > 128) {
      problems.push_back(
          "node.name: use 1 to 128 printable ASCII characters without spaces, quotes or "
          "backslashes");
    }
  }
  for (const char* key : {"clustering.in_app_prefixes", "clustering.not_in_app_prefixes"}) {
    const auto items = split_list(std::string_view(key) == "clustering.in_app_prefixes"
                                      ? cfg.clustering.in_app_prefixes
                                      : cfg.clustering.not_in_app_prefixes);
    for (size_t i = 0; i < items.size(); ++i) {
      if (is_glob(items[i])) {
        if (auto why = glob_error(items[i])) {
          problems.push_back(std::string(key) + "[" + std::to_string(i) + "]: bad glob \"" +
                             items[i] + "\": " + *why);
        }
      }
    }
  }
  for (auto& p : check_fingerprint_rules(cfg.clustering.fingerprint_rules)) {
    problems.push_back(std::move(p));
  }
  for (auto& p : check_webhooks(cfg.notifications.webhooks)) {
    problems.push_back(std::move(p));
  }
  return problems;
}

}  // namespace luffy
