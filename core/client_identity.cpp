#include "core/client_identity.hpp"

#include <algorithm>
#include <cctype>

#include "core/glob.hpp"

namespace luffy {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string client_identity::describe() const {
  if (!subject_cn.empty()) {
    return "CN=" + subject_cn;
  }
  return sans.empty() ? std::string("(no subject)") : sans.front();
}

bool client_matches(const token_config& client, const client_identity& id) {
  if (!client.subject.empty()) {
    return !id.subject_cn.empty() && glob_match(client.subject, id.subject_cn);
  }
  const auto colon = client.san.find(':');
  if (client.san.empty() || colon == std::string::npos) {
    return false;
  }
  const std::string kind = client.san.substr(0, colon + 1);  // "DNS:"
  const std::string pattern = client.san.substr(colon + 1);
  for (const auto& san : id.sans) {
    if (san.size() <= kind.size() || san.compare(0, kind.size(), kind) != 0) {
      continue;
    }
    const std::string value = san.substr(kind.size());
    if (kind == "IP:"    ? value == pattern
        : kind == "DNS:" ? glob_match(lower(pattern), lower(value))
                         : glob_match(pattern, value)) {
      return true;
    }
  }
  return false;
}

const token_config* match_client(const std::vector<token_config>& clients,
                                 const client_identity& id) {
  for (const auto& c : clients) {
    if (client_matches(c, id)) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace luffy
