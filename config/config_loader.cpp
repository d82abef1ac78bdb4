#include "config/config_loader.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <variant>

namespace luffy {

namespace {

// Expands ${NAME} from the environment; an unset variable is a problem, not an empty string.
std::string expand_env(const std::string& in, const std::string& where,
                       std::vector<std::string>& problems) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
      const auto close = in.find('}', i + 2);
      if (close == std::string::npos) {
        out.append(in, i, std::string::npos);
        break;
      }
      const std::string name = in.substr(i + 2, close - i - 2);
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) {
        problems.push_back(where + ": environment variable " + name + " is not set");
      } else {
        out += v;
      }
      i = close + 1;
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}

std::string scalar(const YAML::Node& n) {
  return n.as<std::string>();
}

std::optional<bool> yaml_bool(const YAML::Node& n) {
  bool b = false;
  if (n.IsScalar() && YAML::convert<bool>::decode(n, b)) {
    return b;
  }
  return std::nullopt;
}

// A yaml-cpp conversion that failed inside one key (a map where a string belongs, ...): reported
// with the key's path, and the walk goes on with the next key.
std::string conversion_problem(const std::string& where, const YAML::Exception& e) {
  std::string out = where + ": " + (e.msg.empty() ? std::string(e.what()) : e.msg);
  if (!e.mark.is_null()) {
    out += " (line " + std::to_string(e.mark.line + 1) + ")";
  }
  return out;
}

// The plain token a `token_file` holds: the whole file, surrounding whitespace (the trailing
// newline of `echo token > file`, a CRLF) trimmed. One token per file: a second line is refused
// rather than taken as part of the token (rotation uses two entries, docs/OPERATIONS.md). The
// problems name the key and the file, never the content.
std::optional<std::string> read_token_file(const std::string& file, const std::string& kpath,
                                           std::vector<std::string>& problems) {
  std::ifstream in(file, std::ios::binary);  // follows symlinks: a Secret volume's ..data swap
  if (!in) {
    problems.push_back(kpath + ": " + file + ": cannot read the file");
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && space(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  size_t start = 0;
  while (start < text.size() && space(static_cast<unsigned char>(text[start]))) {
    ++start;
  }
  text.erase(0, start);
  if (text.empty()) {
    problems.push_back(kpath + ": " + file + ": the file is empty");
    return std::nullopt;
  }
  if (text.find_first_of("\r\n") != std::string::npos) {
    problems.push_back(kpath + ": " + file +
                       ": holds more than one line; one token per file (two entries during a "
                       "rotation)");
    return std::nullopt;
  }
  return text;
}

// The token of an entry with token_file (after all its keys are read: `optional` may follow).
// An optional entry whose file does not exist grants nothing (its token_sha256 stays empty): a
// Kubernetes Secret key that is only there during a rotation (docs/OPERATIONS.md).
void read_token_entry_file(token_config& t, const std::string& where,
                           std::vector<std::string>& problems) {
  const std::string kpath = where + ".token_file";
  if (!t.token_sha256.empty()) {
    problems.push_back(kpath + ": give one of token, token_sha256 and token_file");
    return;
  }
  std::error_code ec;
  if (t.optional && !std::filesystem::exists(t.token_file, ec) && !ec) {
    return;
  }
  if (const auto plain = read_token_file(t.token_file, kpath, problems)) {
    t.token_sha256 = sha256_hex(*plain);
    if (const auto weak = token_weakness(*plain); !weak.empty()) {
      t.weakness = "token_file: the token in " + t.token_file + " is " + weak;
    }
  }
}

void load_token_key(const std::string& key, const YAML::Node& value, const std::string& kpath,
                    token_config& t, std::vector<std::string>& problems) {
  if (key == "name") {
    t.name = scalar(value);
  } else if (key == "token") {
    const auto plain = expand_env(scalar(value), kpath, problems);
    if (plain.empty()) {
      problems.push_back(kpath + ": must not be empty");
    } else {
      t.token_sha256 = sha256_hex(plain);
      if (const auto weak = token_weakness(plain); !weak.empty()) {
        t.weakness = "token: the token is " + weak;
      }
    }
  } else if (key == "token_file") {
    t.token_file = expand_env(scalar(value), kpath, problems);  // read by load_tokens
    if (t.token_file.empty()) {
      problems.push_back(kpath + ": must not be empty");
    }
  } else if (key == "optional") {
    const auto optional = yaml_bool(value);
    if (!optional) {
      problems.push_back(kpath + ": expected true or false");
      return;
    }
    t.optional = *optional;
  } else if (key == "token_sha256") {
    t.token_sha256 = expand_env(scalar(value), kpath, problems);
    for (auto& c : t.token_sha256) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  } else if (key == "services") {
    if (!value.IsSequence()) {
      problems.push_back(kpath + ": expected a list such as [\"*\"] or [checkout, billing]");
      return;
    }
    for (const auto& s : value) {
      t.services.push_back(scalar(s));
    }
  } else if (key == "default_service") {
    t.default_service = scalar(value);
  } else if (key == "subject") {
    t.subject = scalar(value);
  } else if (key == "san") {
    t.san = scalar(value);
  } else if (key == "scopes") {
    if (!value.IsSequence()) {
      problems.push_back(kpath + ": expected a list such as [ingest, read]");
      return;
    }
    t.scopes.emplace();
    for (const auto& s : value) {
      t.scopes->push_back(scalar(s));
    }
  } else if (key == "admin") {
    const auto admin = yaml_bool(value);
    if (!admin) {
      problems.push_back(kpath + ": expected true or false" +
                         (value.IsScalar() ? ", got \"" + value.Scalar() + "\"" : ""));
      return;
    }
    t.admin = *admin;
  } else {
    problems.push_back(kpath + ": unknown key");
  }
}

// auth.tokens or auth.clients (`path`): both are credentials with services and scopes; a client
// names a certificate (subject, san) where a token has its secret.
void load_tokens(const std::string& path, const YAML::Node& list, std::vector<token_config>& tokens,
                 std::vector<std::string>& problems) {
  const bool clients = path == "auth.clients";
  if (!list.IsSequence()) {
    problems.push_back(path + ": expected a list");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const std::string where = path + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      problems.push_back(where + (clients ? ": expected a map with subject or san, and services"
                                          : ": expected a map with token and services"));
      continue;
    }
    token_config t;
    for (const auto& kv : item) {
      std::string kpath = where;
      try {
        const auto key = kv.first.as<std::string>();
        kpath += "." + key;
        if (clients ? key == "token" || key == "token_sha256" || key == "token_file"
                    : key == "subject" || key == "san") {
          problems.push_back(kpath + (clients ? ": not a client key (a client is matched by its "
                                                "certificate: subject or san)"
                                              : ": not a token key (subject and san belong to "
                                                "auth.clients)"));
          continue;
        }
        load_token_key(key, kv.second, kpath, t, problems);
      } catch (const YAML::Exception& e) {
        problems.push_back(conversion_problem(kpath, e));
      }
    }
    if (!t.token_file.empty()) {
      read_token_entry_file(t, where, problems);
    }
    if (t.name.empty()) {
      t.name = (clients                 ? "client-"
                : path == "auth.tokens" ? "token-"
                                        : "file-token-") +
               std::to_string(i);
    }
    if (path == "auth.tokens_file") {
      t.listed_in = path;
    }
    tokens.push_back(std::move(t));
  }
}

// One rule of clustering.fingerprint_rules, `where` being its path ("...fingerprint_rules[2]").
void load_fingerprint_rule(const YAML::Node& item, const std::string& where,
                           fingerprint_rule_config& rule, std::vector<std::string>& problems) {
  for (const auto& kv : item) {
    const auto name = kv.first.as<std::string>();
    const std::string kpath = where + "." + name;
    if (name == "match") {
      if (!kv.second.IsMap()) {
        problems.push_back(kpath + ": expected a map of field: glob");
        continue;
      }
      for (const auto& m : kv.second) {
        const auto field = m.first.as<std::string>();
        if (!m.second.IsScalar()) {
          problems.push_back(kpath + "." + field + ": expected a glob string");
          continue;
        }
        rule.match.push_back(
            {field, expand_env(m.second.as<std::string>(), kpath + "." + field, problems)});
      }
    } else if (name == "fingerprint" || name == "title") {
      if (!kv.second.IsScalar()) {
        problems.push_back(kpath + ": expected a string");
        continue;
      }
      (name == "fingerprint" ? rule.fingerprint : rule.title) =
          expand_env(kv.second.as<std::string>(), kpath, problems);
    } else {
      problems.push_back(kpath + ": unknown key (match, fingerprint, title)");
    }
  }
}

// clustering.fingerprint_rules: a list of {match: {field: glob, ...}, fingerprint, title}.
// Shape problems are reported here with their key path; fields and globs are checked by
// check_fingerprint_rules (validate), so `check-config` and a reload report the same things.
void load_fingerprint_rules(const YAML::Node& list, std::vector<fingerprint_rule_config>& rules,
                            std::vector<std::string>& problems) {
  const std::string key = "clustering.fingerprint_rules";
  if (list.IsNull()) {
    return;
  }
  if (!list.IsSequence()) {
    problems.push_back(key + ": expected a list of {match: {...}, fingerprint: ..., title: ...}");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const std::string where = key + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      problems.push_back(where + ": expected a map with match and fingerprint");
      continue;
    }
    fingerprint_rule_config rule;
    try {
      load_fingerprint_rule(item, where, rule, problems);
    } catch (const YAML::Exception& e) {
      problems.push_back(conversion_problem(where, e));
    }
    rules.push_back(std::move(rule));
  }
}

// A list of strings (`events: [a, b]`), each ${ENV}-expanded.
bool load_string_list(const YAML::Node& v, const std::string& kpath, std::vector<std::string>& out,
                      std::vector<std::string>& problems) {
  if (!v.IsSequence()) {
    problems.push_back(kpath + ": expected a list such as [a, b]");
    return false;
  }
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      problems.push_back(kpath + ": expected a list of strings");
      return false;
    }
    out.push_back(expand_env(item.as<std::string>(), kpath, problems));
  }
  return true;
}

// notifications.webhooks: a list of {name, url, format, events, services}. Values are checked by
// check_webhooks (validate); a problem never quotes the url (a secret).
void load_webhooks(const YAML::Node& list, std::vector<webhook_config>& hooks,
                   std::vector<std::string>& problems) {
  const std::string key = "notifications.webhooks";
  if (list.IsNull()) {
    return;
  }
  if (!list.IsSequence()) {
    problems.push_back(key + ": expected a list of {name, url, format, events, services}");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const std::string where = key + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      problems.push_back(where + ": expected a map with name and url");
      continue;
    }
    webhook_config h;
    try {
      for (const auto& kv : item) {
        const auto name = kv.first.as<std::string>();
        const std::string kpath = where + "." + name;
        if (name == "events" || name == "services") {
          load_string_list(kv.second, kpath, name == "events" ? h.events : h.services, problems);
        } else if (name == "name" || name == "url" || name == "format") {
          if (!kv.second.IsScalar()) {
            problems.push_back(kpath + ": expected a string");
            continue;
          }
          auto text = expand_env(kv.second.as<std::string>(), kpath, problems);
          (name == "name" ? h.name : name == "url" ? h.url : h.format) = std::move(text);
        } else {
          problems.push_back(kpath + ": unknown key (name, url, format, events, services)");
        }
      }
    } catch (const YAML::Exception& e) {
      problems.push_back(conversion_problem(where, e));
    }
    hooks.push_back(std::move(h));
  }
}

// A list key's YAML, into the row's member (the member's type says which list it is).
void load_list(const config_key& k, const YAML::Node& v, luffy_config& cfg,
               std::vector<std::string>& problems) {
  const config_field field = k.member.field(cfg);
  if (auto* tokens = std::get_if<std::vector<token_config>*>(&field)) {
    load_tokens(std::string(k.path), v, **tokens, problems);
  } else if (auto* rules = std::get_if<std::vector<fingerprint_rule_config>*>(&field)) {
    load_fingerprint_rules(v, **rules, problems);
  } else if (auto* hooks = std::get_if<std::vector<webhook_config>*>(&field)) {
    load_webhooks(v, **hooks, problems);
  } else {
    problems.push_back(std::string(k.path) + ": unsupported list");
  }
}

void walk(const YAML::Node& node, const std::string& prefix, luffy_config& cfg,
          std::vector<std::string>& problems);

// One `key: value` of a section (`path` is its full path).
void walk_key(const std::string& path, const YAML::Node& v, luffy_config& cfg,
              std::vector<std::string>& problems) {
  const config_key* k = find_config_key(path);
  if (k != nullptr && k->type == key_type::list) {
    load_list(*k, v, cfg, problems);
    return;
  }
  if (v.IsMap()) {
    const auto* section = find_config_key(path + ".x");
    const bool known_section =
        section != nullptr || path == "auth.jwt" ||
        std::any_of(config_keys().begin(), config_keys().end(), [&](const config_key& ck) {
          return ck.path.substr(0, path.size() + 1) == path + ".";
        });
    if (!known_section) {
      problems.push_back(path + ": unknown section");
      return;
    }
    walk(v, path, cfg, problems);
    return;
  }
  if (v.IsNull()) {
    return;  // "key:" with nothing keeps the default
  }
  if (v.IsSequence()) {
    // A list of scalars for a string key (e.g. clustering.in_app_prefixes) is joined by commas.
    if (k != nullptr && k->type == key_type::string) {
      std::string joined;
      for (const auto& item : v) {
        if (!item.IsScalar()) {
          problems.push_back(path + ": expected a list of strings");
          break;
        }
        if (!joined.empty()) {
          joined += ",";
        }
        joined += expand_env(item.as<std::string>(), path, problems);
      }
      if (auto err = apply_setting(cfg, path, joined)) {
        problems.push_back(*err);
      }
      return;
    }
  }
  if (!v.IsScalar()) {
    problems.push_back(path + ": expected a single value");
    return;
  }
  const std::string text = expand_env(v.as<std::string>(), path, problems);
  if (auto err = apply_setting(cfg, path, text)) {
    problems.push_back(*err);
  }
}

// Every key of `node`, each on its own: a problem in one never stops the others (check-config
// reports everything in one pass).
void walk(const YAML::Node& node, const std::string& prefix, luffy_config& cfg,
          std::vector<std::string>& problems) {
  for (const auto& kv : node) {
    std::string path = prefix.empty() ? "(top level)" : prefix;
    try {
      const std::string key = kv.first.as<std::string>();
      path = prefix.empty() ? key : prefix + "." + key;
      walk_key(path, kv.second, cfg, problems);
    } catch (const YAML::Exception& e) {
      problems.push_back(conversion_problem(path, e));
    }
  }
}

void apply_overrides(luffy_config& cfg, const std::vector<std::string>& sets, bool use_env,
                     std::vector<std::string>& problems) {
  if (use_env) {
    for (const auto& k : config_keys()) {
      if (k.type == key_type::list || k.type == key_type::map)
        continue;
      const std::string env = env_name_for(k.path);
      if (const char* v = std::getenv(env.c_str())) {
        if (auto err = apply_setting(cfg, k.path, v)) {
          problems.push_back(*err + " (from " + env + ")");
        }
      }
    }
  }
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      problems.push_back("--set " + s + ": expected section.key=value");
      continue;
    }
    if (auto err = apply_setting(cfg, s.substr(0, eq), s.substr(eq + 1))) {
      problems.push_back(*err + " (from --set)");
    }
  }
}

// The key path a problem starts with ("auth.tokens[0].services: ..." -> "auth.tokens[0].services").
std::string_view problem_path(std::string_view problem) {
  return problem.substr(0, problem.find(": "));
}

// True when `text` names `path` as a whole path ("auth.tokens" in "auth.tokens[1].admin", not
// "server.threads" in "server.threads_x").
bool names_path(std::string_view text, std::string_view path) {
  if (path.empty()) {
    return false;
  }
  for (auto at = text.find(path); at != std::string_view::npos; at = text.find(path, at + 1)) {
    const size_t end = at + path.size();
    const bool starts = at == 0 || text[at - 1] == ' ' || text[at - 1] == '`';
    const bool ends = end == text.size() ||
                      !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_');
    if (starts && ends) {
      return true;
    }
  }
  return false;
}

// Adds validate()'s problems to those found while reading. A cross-key rule is judged on the values
// that were read, so one that involves a key already reported as unreadable (which kept its
// default) is left out: it would blame the default, not what the user wrote.
void add_validation(const luffy_config& cfg, std::vector<std::string>& problems) {
  std::vector<std::string> unreadable;
  for (const auto& p : problems) {
    unreadable.emplace_back(problem_path(p));
  }
  for (auto& v : validate(cfg)) {
    const bool involved = std::any_of(unreadable.begin(), unreadable.end(),
                                      [&](const auto& u) { return names_path(v, u); });
    if (!involved) {
      problems.push_back(std::move(v));
    }
  }
}

// auth.tokens_file (from the file, the environment or --set, hence read after all of them): its
// list of token entries, read like auth.tokens and appended to it. Problems are named
// "auth.tokens_file[i]...", or "auth.tokens_file: <path>: ..." for the file as a whole; a YAML
// error's message carries its line, never the text.
void load_tokens_file(luffy_config& cfg, std::vector<std::string>& problems) {
  const std::string key = "auth.tokens_file";
  const std::string& file = cfg.auth.tokens_file;
  if (file.empty()) {
    return;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problems.push_back(key + ": " + file + ": cannot read the file");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    problems.push_back(key + ": " + file + ": not YAML" +
                       (e.mark.is_null() ? "" : " (line " + std::to_string(e.mark.line + 1) + ")"));
    return;
  }
  if (!root || root.IsNull()) {
    return;  // an empty file: no tokens (auth.tokens may hold them all)
  }
  if (!root.IsSequence()) {
    problems.push_back(key + ": " + file + ": expected a list of token entries (as auth.tokens)");
    return;
  }
  load_tokens(key, root, cfg.auth.tokens, problems);
}

}  // namespace

std::string sha256_hex(const std::string& text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

config_load_result load_config_text(const std::string& yaml_text, const std::string& origin,
                                    const std::vector<std::string>& sets, bool use_environment) {
  config_load_result r;
  bool read = true;  // the file's keys were read (else cross-key rules would judge defaults)
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (root && !root.IsNull()) {
      if (!root.IsMap()) {
        r.problems.push_back(origin + ": the top level must be a map of sections");
        read = false;
      } else {
        walk(root, "", r.config, r.problems);
      }
    }
  } catch (const YAML::Exception& e) {
    r.problems.push_back(origin + ": " + e.what());
    return r;
  }
  apply_overrides(r.config, sets, use_environment, r.problems);
  load_tokens_file(r.config, r.problems);
  if (read) {
    add_validation(r.config, r.problems);
  }
  return r;
}

namespace {

void emit_tokens(YAML::Emitter& out, const std::vector<token_config>& tokens) {
  out << YAML::BeginSeq;
  for (const auto& t : tokens) {
    if (!t.listed_in.empty()) {
      continue;  // read again from auth.tokens_file, written as that key
    }
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << t.name;
    if (!t.token_file.empty()) {
      out << YAML::Key << "token_file" << YAML::Value << YAML::DoubleQuoted << t.token_file;
      if (t.optional) {
        out << YAML::Key << "optional" << YAML::Value << true;
      }
    } else if (!t.token_sha256.empty()) {
      out << YAML::Key << "token_sha256" << YAML::Value << YAML::DoubleQuoted << t.token_sha256;
    }
    if (!t.subject.empty()) {
      out << YAML::Key << "subject" << YAML::Value << YAML::DoubleQuoted << t.subject;
    }
    if (!t.san.empty()) {
      out << YAML::Key << "san" << YAML::Value << YAML::DoubleQuoted << t.san;
    }
    out << YAML::Key << "services" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : t.services) {
      out << YAML::DoubleQuoted << s;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "default_service" << YAML::Value << YAML::DoubleQuoted << t.default_service;
    out << YAML::Key << "admin" << YAML::Value << t.admin;
    if (t.scopes) {
      out << YAML::Key << "scopes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : *t.scopes) {
        out << YAML::DoubleQuoted << s;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void emit_rules(YAML::Emitter& out, const std::vector<fingerprint_rule_config>& rules) {
  out << YAML::BeginSeq;
  for (const auto& r : rules) {
    out << YAML::BeginMap << YAML::Key << "match" << YAML::Value << YAML::BeginMap;
    for (const auto& m : r.match) {
      out << YAML::Key << m.field << YAML::Value << YAML::DoubleQuoted << m.glob;
    }
    out << YAML::EndMap;
    out << YAML::Key << "fingerprint" << YAML::Value << YAML::DoubleQuoted << r.fingerprint;
    out << YAML::Key << "title" << YAML::Value << YAML::DoubleQuoted << r.title;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void emit_webhooks(YAML::Emitter& out, const std::vector<webhook_config>& hooks) {
  out << YAML::BeginSeq;
  for (const auto& h : hooks) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << h.name;
    out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << h.url;
    out << YAML::Key << "format" << YAML::Value << YAML::DoubleQuoted << h.format;
    for (const auto* list : {&h.events, &h.services}) {
      out << YAML::Key << (list == &h.events ? "events" : "services") << YAML::Value << YAML::Flow
          << YAML::BeginSeq;
      for (const auto& s : *list) {
        out << YAML::DoubleQuoted << s;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

// The YAML sections of a key: "auth.jwt.secret" -> {auth, jwt}, "rate_limit.services.*" ->
// {rate_limit}; its own name is the last segment ("services" for the map).
std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    if (dot == std::string_view::npos) {
      dot = path.size();
    }
    out.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
  if (!out.empty() && out.back() == "*") {
    out.pop_back();
  }
  return out;
}

}  // namespace

std::string config_to_yaml(const luffy_config& cfg) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  // The table lists each section's keys together, so sections open and close in table order.
  std::vector<std::string> opened;  // the sections being written, outermost first
  for (const auto& k : config_keys()) {
    auto segments = path_segments(k.path);
    const std::string name = segments.back();
    segments.pop_back();
    size_t common = 0;
    while (common < opened.size() && common < segments.size() &&
           opened[common] == segments[common]) {
      ++common;
    }
    for (; opened.size() > common; opened.pop_back()) {
      out << YAML::EndMap;
    }
    for (; opened.size() < segments.size(); opened.push_back(segments[opened.size()])) {
      out << YAML::Key << segments[opened.size()] << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << name << YAML::Value;
    std::visit(
        [&](auto* v) {
          using T = std::decay_t<decltype(*v)>;
          if constexpr (std::is_same_v<T, std::vector<token_config>>) {
            emit_tokens(out, *v);
          } else if constexpr (std::is_same_v<T, std::vector<fingerprint_rule_config>>) {
            emit_rules(out, *v);
          } else if constexpr (std::is_same_v<T, std::vector<webhook_config>>) {
            emit_webhooks(out, *v);
          } else if constexpr (std::is_same_v<T, std::map<std::string, int64_t>>) {
            out << YAML::BeginMap;
            for (const auto& [service, rate] : *v) {
              out << YAML::Key << service << YAML::Value << rate;
            }
            out << YAML::EndMap;
          } else if constexpr (std::is_same_v<T, std::string>) {
            out << YAML::DoubleQuoted << *v;
          } else {
            out << *setting_text(k, cfg);
          }
        },
        k.member.value(cfg));
  }
  for (; !opened.empty(); opened.pop_back()) {
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

config_load_result load_config(const std::string& path, const std::vector<std::string>& sets,
                               bool use_environment) {
  std::ifstream in(path);
  if (!in) {
    config_load_result r;
    r.problems.push_back(path + ": cannot read the file");
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), path, sets, use_environment);
}

}  // namespace luffy
