#pragma once
// Who a verified TLS client certificate says the client is, and which auth.clients entry that
// identity is (server.tls.client_ca_file; docs/SECURITY.md "TLS").
//
// Contract: pure. The TLS layer fills client_identity only from a certificate that verified
// against the configured CAs; nothing here checks signatures or dates. Matching is exact in
// kind ("DNS:" matches only dNSName entries) and glob in value (core/glob.hpp), case-sensitive
// except the DNS kind, whose names are compared lower-cased (RFC 4343).
#include <string>
#include <vector>

#include "core/config.hpp"

namespace luffy {

struct client_identity {
  std::string subject_cn;         // the subject's commonName ("" when it has none)
  std::vector<std::string> sans;  // "DNS:agent.example", "URI:spiffe://...", "email:...", "IP:..."
  std::string describe() const;   // "CN=agent.example" or the first SAN, for logs and audit
};

// True when `client` (an auth.clients entry: subject or san set) names this identity.
bool client_matches(const token_config& client, const client_identity& id);

// The first entry of `clients` that matches, or nullptr.
const token_config* match_client(const std::vector<token_config>& clients,
                                 const client_identity& id);

}  // namespace luffy
