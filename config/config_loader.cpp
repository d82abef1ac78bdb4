#include "config/config_loader.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

void load_tokens(const YAML::Node& list, luffy_config& cfg, std::vector<std::string>& problems) {
  if (!list.IsSequence()) {
    problems.push_back("auth.tokens: expected a list");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const std::string where = "auth.tokens[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      problems.push_back(where + ": expected a map with token and services");
      continue;
    }
    token_config t;
    for (const auto& kv : item) {
      const auto key = kv.first.as<std::string>();
      const std::string kpath = where + "." + key;
      if (key == "name") {
        t.name = scalar(kv.second);
      } else if (key == "token") {
        const auto plain = expand_env(scalar(kv.second), kpath, problems);
        if (plain.empty()) {
          problems.push_back(kpath + ": must not be empty");
        } else {
          t.token_sha256 = sha256_hex(plain);
        }
      } else if (key == "token_sha256") {
        t.token_sha256 = expand_env(scalar(kv.second), kpath, problems);
        for (auto& c : t.token_sha256)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (key == "services") {
        if (!kv.second.IsSequence()) {
          problems.push_back(kpath + ": expected a list such as [\"*\"] or [checkout, billing]");
          continue;
        }
        for (const auto& s : kv.second)
          t.services.push_back(scalar(s));
      } else if (key == "default_service") {
        t.default_service = scalar(kv.second);
      } else if (key == "admin") {
        t.admin = kv.second.as<bool>();
      } else {
        problems.push_back(kpath + ": unknown key");
      }
    }
    if (t.name.empty()) {
      t.name = "token-" + std::to_string(i);
    }
    cfg.auth.tokens.push_back(std::move(t));
  }
}

// clustering.fingerprint_rules: a list of {match: {field: glob, ...}, fingerprint, title}.
// Shape problems are reported here with their key path; fields and globs are checked by
// check_fingerprint_rules (validate), so `check-config` and a reload report the same things.
void load_fingerprint_rules(const YAML::Node& list, luffy_config& cfg,
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
    cfg.clustering.fingerprint_rules.push_back(std::move(rule));
  }
}

void walk(const YAML::Node& node, const std::string& prefix, luffy_config& cfg,
          std::vector<std::string>& problems) {
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const YAML::Node& v = kv.second;
    if (path == "auth.tokens") {
      load_tokens(v, cfg, problems);
      continue;
    }
    if (path == "clustering.fingerprint_rules") {
      load_fingerprint_rules(v, cfg, problems);
      continue;
    }
    if (v.IsMap()) {
      const auto* k = find_config_key(path + ".x");
      const bool known_section =
          k != nullptr || path == "auth.jwt" ||
          std::any_of(config_keys().begin(), config_keys().end(), [&](const config_key& ck) {
            return ck.path.substr(0, path.size() + 1) == path + ".";
          });
      if (!known_section) {
        problems.push_back(path + ": unknown section");
        continue;
      }
      walk(v, path, cfg, problems);
      continue;
    }
    if (v.IsNull()) {
      continue;  // "key:" with nothing keeps the default
    }
    if (v.IsSequence()) {
      // A list of scalars for a string key (e.g. clustering.in_app_prefixes) is joined by commas.
      const auto* k = find_config_key(path);
      if (k != nullptr && k->type == key_type::string) {
        std::string joined;
        for (const auto& item : v) {
          if (!item.IsScalar()) {
            problems.push_back(path + ": expected a list of strings");
            break;
          }
          if (!joined.empty())
            joined += ",";
          joined += expand_env(item.as<std::string>(), path, problems);
        }
        if (auto err = apply_setting(cfg, path, joined))
          problems.push_back(*err);
        continue;
      }
    }
    if (!v.IsScalar()) {
      problems.push_back(path + ": expected a single value");
      continue;
    }
    const std::string text = expand_env(v.as<std::string>(), path, problems);
    if (auto err = apply_setting(cfg, path, text)) {
      problems.push_back(*err);
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

}  // namespace

std::string sha256_hex(const std::string& text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

config_load_result load_config_text(const std::string& yaml_text, const std::string& origin,
                                    const std::vector<std::string>& sets, bool use_environment) {
  config_load_result r;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (root && !root.IsNull()) {
      if (!root.IsMap()) {
        r.problems.push_back(origin + ": the top level must be a map of sections");
      } else {
        walk(root, "", r.config, r.problems);
      }
    }
  } catch (const YAML::Exception& e) {
    r.problems.push_back(origin + ": " + e.what());
    return r;
  }
  apply_overrides(r.config, sets, use_environment, r.problems);
  if (r.problems.empty()) {
    for (auto& p : validate(r.config))
      r.problems.push_back(std::move(p));
  }
  return r;
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
