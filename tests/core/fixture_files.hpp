#pragma once
// Reads the real Fluent Bit captures in ../shared/fixtures/fluent-bit byte for byte.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace luffy::test {

inline std::filesystem::path fixtures_dir() {
  return LUFFY_FIXTURES_DIR;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every "*.body" capture in captures/ and captures-v5.1.1/.
inline std::vector<std::filesystem::path> capture_bodies() {
  std::vector<std::filesystem::path> out;
  for (const char* dir : {"captures", "captures-v5.1.1"}) {
    for (const auto& e : std::filesystem::directory_iterator(fixtures_dir() / dir)) {
      if (e.path().extension() == ".body") {
        out.push_back(e.path());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The captured request's header value (first occurrence), or "".
inline std::string capture_header(const std::filesystem::path& body, const std::string& name) {
  auto headers = body;
  headers.replace_extension(".headers.txt");
  std::ifstream in(headers);
  std::string line;
  auto lower = [](std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    const auto colon = line.find(':');
    if (colon != std::string::npos && lower(line.substr(0, colon)) == lower(name)) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ')
        v.erase(0, 1);
      return v;
    }
  }
  return "";
}

}  // namespace luffy::test
