#pragma once
// Helpers shared by the deploy tests: file access under the source tree, YAML
// loading (multi-document), and a small reader for Fluent Bit's classic config.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace deploy_test {

namespace fs = std::filesystem;

inline fs::path source_dir() {
  return fs::path(LUFFY_SOURCE_DIR);
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return "";
  }
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Every *.yaml / *.yml below `rel` (relative to the source dir), sorted.
inline std::vector<fs::path> yaml_files(const std::string& rel) {
  std::vector<fs::path> out;
  const auto root = source_dir() / rel;
  if (!fs::exists(root)) {
    return out;
  }
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The *.yaml / *.yml directly in `rel` (not below it), sorted.
inline std::vector<fs::path> yaml_files_in(const std::string& rel) {
  std::vector<fs::path> out;
  for (const auto& f : yaml_files(rel)) {
    if (f.parent_path() == source_dir() / rel) {
      out.push_back(f);
    }
  }
  return out;
}

// All documents of a (multi-document) YAML file; throws YAML::Exception on a syntax error.
inline std::vector<YAML::Node> load_all(const fs::path& p) {
  auto docs = YAML::LoadAllFromFile(p.string());
  std::vector<YAML::Node> out;
  for (auto& d : docs) {
    if (d && !d.IsNull()) {
      out.push_back(d);
    }
  }
  return out;
}

// Every Kubernetes object in one kustomize directory: deploy/k8s (the single-node set) by
// default, not the sets in its subdirectories (deploy/k8s/distributed).
inline std::vector<YAML::Node> k8s_objects(const std::string& dir = "deploy/k8s") {
  std::vector<YAML::Node> out;
  for (const auto& f : yaml_files_in(dir)) {
    for (auto& d : load_all(f)) {
      if (d["kind"]) {
        out.push_back(d);
      }
    }
  }
  return out;
}

inline std::vector<YAML::Node> k8s_of_kind(const std::string& kind,
                                           const std::string& dir = "deploy/k8s") {
  std::vector<YAML::Node> out;
  for (auto& o : k8s_objects(dir)) {
    if (o["kind"].as<std::string>() == kind) {
      out.push_back(o);
    }
  }
  return out;
}

// ---- Fluent Bit classic config ----------------------------------------------
// One section: its name ("SERVICE", "INPUT", "FILTER", "OUTPUT", "PARSER",
// "MULTILINE_PARSER") and its key/value lines in order (keys lower-cased,
// repeated keys kept). Comments and blank lines are skipped.
struct section {
  std::string name;
  std::vector<std::pair<std::string, std::string>> entries;

  std::vector<std::string> all(const std::string& key) const {
    std::vector<std::string> v;
    for (const auto& [k, val] : entries) {
      if (k == lower(key)) {
        v.push_back(val);
      }
    }
    return v;
  }
  std::string get(const std::string& key) const {
    auto v = all(key);
    return v.empty() ? std::string() : v.front();
  }
  bool has(const std::string& key) const { return !all(key).empty(); }
};

inline std::vector<section> parse_classic(const std::string& text) {
  std::vector<section> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto t = trim(line);
    if (t.empty() || t[0] == '#') {
      continue;
    }
    if (t.front() == '[' && t.back() == ']') {
      out.push_back({t.substr(1, t.size() - 2), {}});
      continue;
    }
    if (out.empty()) {
      continue;  // @INCLUDE / @SET before the first section
    }
    const auto sp = t.find_first_of(" \t");
    const auto key = lower(t.substr(0, sp));
    const auto val = sp == std::string::npos ? std::string() : trim(t.substr(sp));
    out.back().entries.emplace_back(key, val);
  }
  return out;
}

inline std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!trim(cur).empty()) {
        out.push_back(trim(cur));
      }
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

}  // namespace deploy_test
