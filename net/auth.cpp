#include "net/auth.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JWT/JWTException.h>
#include <Poco/JWT/Signer.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>

#include <algorithm>

#include "core/hex.hpp"

namespace luffy {

namespace {

std::array<unsigned char, 32> sha256(const std::string& s) {
  Poco::SHA2Engine e(Poco::SHA2Engine::SHA_256);
  e.update(s);
  const auto& d = e.digest();
  std::array<unsigned char, 32> out{};
  std::copy_n(d.begin(), std::min<size_t>(d.size(), 32), out.begin());
  return out;
}

std::array<unsigned char, 32> from_hex(const std::string& hex) {
  std::array<unsigned char, 32> out{};
  auto val = [](char c) { return std::max(0, hex_value(c)); };  // the loader checked the digits
  for (size_t i = 0; i < 32 && 2 * i + 1 < hex.size(); ++i) {
    out[i] = static_cast<unsigned char>(val(hex[2 * i]) << 4 | val(hex[2 * i + 1]));
  }
  return out;
}

bool equal_ct(const std::array<unsigned char, 32>& a, const std::array<unsigned char, 32>& b) {
  unsigned char diff = 0;
  for (size_t i = 0; i < 32; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

auth_result fail(std::string code, std::string message) {
  auth_result r;
  r.error = std::move(code);
  r.message = std::move(message);
  return r;
}

}  // namespace

unsigned scope_bit(std::string_view name) {
  if (name == "ingest") {
    return scope_ingest;
  }
  if (name == "read") {
    return scope_read;
  }
  if (name == "admin") {
    return scope_admin;
  }
  return 0;
}

authenticator::authenticator(const luffy_config& cfg)
    : disabled_(cfg.auth.disabled),
      clients_(cfg.auth.clients),
      jwt_secret_(cfg.auth.jwt_secret),
      jwt_issuer_(cfg.auth.jwt_issuer),
      jwt_audience_(cfg.auth.jwt_audience) {
  for (const auto& t : cfg.auth.tokens) {
    if (t.token_sha256.empty()) {
      continue;  // an optional token_file that is not there grants nothing
    }
    entry e;
    e.digest = from_hex(t.token_sha256);
    e.config = t;
    tokens_.push_back(std::move(e));
  }
}

auth_result authenticator::authenticate(const std::string& header,
                                        const client_identity* client) const {
  if (disabled_) {
    auth_result r;
    r.ok = true;
    r.scope.token_name = "anonymous";
    r.scope.all_services = true;
    r.admin = true;
    r.scopes = scope_ingest | scope_read | scope_admin;
    return r;
  }
  constexpr std::string_view scheme = "Bearer ";
  if (header.empty() && client != nullptr) {
    // A verified client certificate and no token: the certificate is the credential.
    const token_config* match = match_client(clients_, *client);
    if (match == nullptr) {
      return fail("unknown_client_certificate",
                  "the client certificate " + client->describe() +
                      " matches no auth.clients entry; map it there or send 'Authorization: "
                      "Bearer <token>'");
    }
    auth_result r = granted(*match);
    r.scope.token_name = "cert:" + match->name;
    return r;
  }
  if (header.empty()) {
    return fail("missing_token",
                "missing Authorization header; send 'Authorization: Bearer <token>'");
  }
  if (header.size() <= scheme.size() ||
      !std::equal(scheme.begin(), scheme.end(), header.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return fail("invalid_token", "Authorization header must use the Bearer scheme");
  }
  std::string token = header.substr(scheme.size());
  while (!token.empty() && token.back() == ' ')
    token.pop_back();
  while (!token.empty() && token.front() == ' ')
    token.erase(0, 1);
  if (!jwt_secret_.empty() && std::count(token.begin(), token.end(), '.') == 2) {
    return from_jwt(token);
  }
  const auto digest = sha256(token);
  const entry* match = nullptr;
  for (const auto& e : tokens_) {
    // Every entry is compared; the match is remembered without branching out early.
    const bool eq = equal_ct(digest, e.digest);
    match = eq ? &e : match;
  }
  if (match == nullptr) {
    return fail("invalid_token", "the bearer token is not valid");
  }
  return granted(match->config);
}

auth_result authenticator::granted(const token_config& c) {
  auth_result r;
  r.ok = true;
  if (c.scopes) {
    for (const auto& s : *c.scopes) {
      r.scopes |= scope_bit(s);
    }
  } else {
    r.scopes = scope_ingest | scope_read;
  }
  if (c.admin) {
    r.scopes |= scope_admin;
  }
  r.admin = r.has(scope_admin);
  r.scope.token_name = c.name;
  r.scope.default_service = c.default_service;
  r.scope.all_services = std::find(c.services.begin(), c.services.end(), "*") != c.services.end();
  if (!r.scope.all_services) {
    r.scope.services = c.services;
  }
  return r;
}

auth_result authenticator::from_jwt(const std::string& token) const {
  try {
    Poco::JWT::Signer signer(jwt_secret_);  // HS256 only
    Poco::JWT::Token t = signer.verify(token);
    const auto& p = t.payload();
    const auto now = Poco::Timestamp().epochTime();
    if (p.has("exp") && p.getValue<Poco::Int64>("exp") < now) {
      return fail("expired_token", "the JWT has expired");
    }
    if (p.has("nbf") && p.getValue<Poco::Int64>("nbf") > now) {
      return fail("invalid_token", "the JWT is not valid yet (nbf)");
    }
    if (!jwt_issuer_.empty() && t.getIssuer() != jwt_issuer_) {
      return fail("invalid_token", "the JWT issuer is not accepted");
    }
    if (!jwt_audience_.empty()) {
      const auto aud = t.getAudience();
      if (std::find(aud.begin(), aud.end(), jwt_audience_) == aud.end()) {
        return fail("invalid_token", "the JWT audience is not accepted");
      }
    }
    auth_result r;
    r.ok = true;
    r.scope.token_name = t.getSubject().empty() ? "jwt" : "jwt:" + t.getSubject();
    if (p.has("default_service")) {
      r.scope.default_service = p.getValue<std::string>("default_service");
    }
    if (p.has("services")) {
      auto arr = p.getArray("services");
      if (arr) {
        for (size_t i = 0; i < arr->size(); ++i) {
          const auto s = arr->getElement<std::string>(static_cast<unsigned>(i));
          if (s == "*") {
            r.scope.all_services = true;
          } else {
            r.scope.services.push_back(s);
          }
        }
      } else if (p.getValue<std::string>("services") == "*") {
        r.scope.all_services = true;
      }
    }
    if (p.has("scope")) {
      auto arr = p.getArray("scope");
      if (arr) {
        for (size_t i = 0; i < arr->size(); ++i) {
          r.scopes |= scope_bit(arr->getElement<std::string>(static_cast<unsigned>(i)));
        }
      } else {
        const auto text = p.getValue<std::string>("scope");
        size_t start = 0;
        while (start < text.size()) {
          size_t end = text.find(' ', start);
          if (end == std::string::npos) {
            end = text.size();
          }
          r.scopes |= scope_bit(std::string_view(text).substr(start, end - start));
          start = end + 1;
        }
      }
    } else {
      r.scopes = scope_ingest | scope_read;
    }
    r.admin = r.has(scope_admin);
    if (!r.scope.all_services && r.scope.services.empty()) {
      return fail("invalid_token", "the JWT has no services claim");
    }
    return r;
  } catch (const Poco::Exception&) {
    return fail("invalid_token", "the JWT signature or format is not valid");
  } catch (const std::exception&) {
    return fail("invalid_token", "the JWT claims are not valid");
  }
}

}  // namespace luffy
