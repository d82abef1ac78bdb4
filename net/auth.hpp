#pragma once
// Bearer-token authentication for every authenticated route.
//
// Contract:
//  - Static tokens are stored only as SHA-256 digests. A presented token is hashed and compared
//    with every configured digest in constant time (no early exit, no length leak), so the
//    response time says nothing about how close a guess was.
//  - A token that looks like a JWT (three dot-separated parts) is verified with HS256 against
//    auth.jwt.secret (when set): signature, `exp`, `nbf`, and `iss`/`aud` when configured. Its
//    `services` claim (array of ids, or "*") and optional `default_service` become the scope.
//  - Every token carries scopes (what it may do): ingest (POST /api/v1/ingest/*), read (the
//    cluster API), admin (/api/v1/admin/*). Static tokens: auth.tokens[].scopes, default ingest
//    and read, plus admin with `admin: true`. JWTs: the `scope` claim (space-separated string or
//    array), default ingest and read; unknown scope names are ignored. The router answers 403
//    insufficient_scope before the handler runs (net/route_dispatch.cpp).
//  - A TLS client certificate verified against server.tls.client_ca_file is a credential when
//    no Authorization header is sent: the first auth.clients entry whose subject (CN glob) or
//    san matches gives its services and scopes; its name appears as "cert:<name>". A verified
//    certificate no entry maps is 401 unknown_client_certificate.
//  - Missing or wrong credentials -> 401. Which services a valid token may write is checked by
//    the parser per record (403). Tokens never appear in logs or error bodies.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"
#include "core/client_identity.hpp"
#include "core/config.hpp"

namespace luffy {

// Scope bits of auth_result::scopes.
enum : unsigned { scope_ingest = 1, scope_read = 2, scope_admin = 4 };

// The bit of a scope name ("ingest", "read", "admin"), 0 for any other name.
unsigned scope_bit(std::string_view name);

struct auth_result {
  bool ok = false;
  std::string error;    // machine code: missing_token, invalid_token, expired_token
  std::string message;  // human explanation, never containing the token
  auth_scope scope;
  bool admin = false;  // holds the admin scope
  unsigned scopes = 0;
  bool has(unsigned scope) const { return (scopes & scope) == scope; }
};

class authenticator {
 public:
  explicit authenticator(const luffy_config& cfg);
  // `client`: the connection's verified TLS client certificate (nullptr: none). It is the
  // credential only when no Authorization header is sent: a token, when present, decides.
  auth_result authenticate(const std::string& authorization_header,
                           const client_identity* client = nullptr) const;
  bool disabled() const { return disabled_; }

 private:
  struct entry {
    std::array<unsigned char, 32> digest{};
    token_config config;
  };
  auth_result from_jwt(const std::string& token) const;
  // A token's or a client certificate's configured services and scopes, granted.
  static auth_result granted(const token_config& c);

  bool disabled_ = false;
  std::vector<entry> tokens_;
  std::vector<token_config> clients_;  // auth.clients, first match wins
  std::string jwt_secret_, jwt_issuer_, jwt_audience_;
};

}  // namespace luffy
