// Optional JWT (HS256) bearer tokens: services claim, expiry, issuer/audience, bad signature.
#include <Poco/JSON/Array.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timestamp.h>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace luffy::test;

namespace {

std::string make_jwt(const std::string& secret, const std::vector<std::string>& services,
                     long exp_offset_s = 3600, const std::string& iss = "luffy-tests",
                     const std::string& aud = "luffy-ingest") {
  Poco::JWT::Token t;
  t.setIssuer(iss);
  t.setAudience(aud);
  t.setSubject("agent-7");
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& s : services)
    arr->add(s);
  t.payload().set("services", arr);
  t.payload().set("exp", static_cast<Poco::Int64>(Poco::Timestamp().epochTime() + exp_offset_s));
  Poco::JWT::Signer signer(secret);
  return signer.sign(t, Poco::JWT::Signer::ALGO_HS256);
}

http_call post(const std::string& token, const std::string& service) {
  return ingest_post(R"([{"message":"jwt record","service_id":")" + service + R"("}])", token);
}

}  // namespace

TEST_CASE("JWT bearer tokens: services claim, expiry, issuer, audience, signature", "[auth][jwt]") {
  redis_process redis;
  server_process server(R"(
auth:
  jwt: {secret: "0123456789abcdef0123456789abcdef", issuer: luffy-tests, audience: luffy-ingest}
)" + storage_yaml(redis));
  const std::string secret = "0123456789abcdef0123456789abcdef";
  CHECK(server.call(post(make_jwt(secret, {"checkout"}), "checkout")).status == 202);
  auto r = server.call(post(make_jwt(secret, {"checkout"}), "billing"));
  CHECK(r.status == 403);
  CHECK(server.call(post(make_jwt(secret, {"*"}), "billing")).status == 202);
  r = server.call(post(make_jwt(secret, {"checkout"}, -60), "checkout"));
  CHECK(r.status == 401);
  CHECK(json_str(r.body, "error") == "expired_token");
  CHECK(server.call(post(make_jwt("another-secret-another-secret-00", {"checkout"}), "checkout"))
            .status == 401);
  CHECK(
      server.call(post(make_jwt(secret, {"checkout"}, 3600, "someone-else"), "checkout")).status ==
      401);
  CHECK(
      server
          .call(post(make_jwt(secret, {"checkout"}, 3600, "luffy-tests", "other-aud"), "checkout"))
          .status == 401);
}

namespace {

std::string base64url(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(abc[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) {
    out.push_back(abc[((val << 8) >> (bits + 8)) & 0x3F]);
  }
  return out;
}

}  // namespace

// The classic JWT forgeries: `alg: none` with an empty signature, the header switched to
// another algorithm (HS512 with the same secret, RS256 with the secret as a "public key"), and
// a valid token's payload swapped for a wider one under the old signature. Every one is 401.
TEST_CASE("JWT forgeries: alg none, another algorithm, a swapped payload", "[auth][jwt]") {
  redis_process redis;
  const std::string secret = "0123456789abcdef0123456789abcdef";
  server_process server(R"(
auth:
  jwt: {secret: "0123456789abcdef0123456789abcdef"}
)" + storage_yaml(redis));
  const long exp = static_cast<long>(Poco::Timestamp().epochTime() + 3600);
  const std::string payload =
      base64url(R"({"sub":"mallory","services":["*"],"exp":)" + std::to_string(exp) + "}");
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string header = base64url(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})");
    for (const std::string& sig : {std::string(), std::string("x")}) {
      INFO(alg << " signature '" << sig << "'");
      auto r = server.call(post(header + "." + payload + "." + sig, "checkout"));
      CHECK(r.status == 401);
      CHECK(json_str(r.body, "error") == "invalid_token");
    }
  }
  Poco::JWT::Token t;
  t.setSubject("mallory");
  Poco::JSON::Array::Ptr all = new Poco::JSON::Array;
  all->add("*");
  t.payload().set("services", all);
  t.payload().set("exp", static_cast<Poco::Int64>(exp));
  Poco::JWT::Signer signer(secret);
  signer.addAlgorithm(Poco::JWT::Signer::ALGO_HS512);
  CHECK(server.call(post(signer.sign(t, Poco::JWT::Signer::ALGO_HS512), "checkout")).status == 401);
  // RS256 header over an HMAC made with the shared secret (the key-confusion attack).
  const std::string rs_header = base64url(R"({"alg":"RS256","typ":"JWT"})");
  const std::string hs = signer.sign(t, Poco::JWT::Signer::ALGO_HS256);
  const std::string hs_sig = hs.substr(hs.rfind('.') + 1);
  CHECK(server.call(post(rs_header + "." + payload + "." + hs_sig, "checkout")).status == 401);
  // A genuine checkout-only token whose payload is replaced by one for every service.
  Poco::JWT::Token narrow;
  Poco::JSON::Array::Ptr one = new Poco::JSON::Array;
  one->add("checkout");
  narrow.payload().set("services", one);
  narrow.payload().set("exp", static_cast<Poco::Int64>(exp));
  const std::string genuine = Poco::JWT::Signer(secret).sign(narrow, Poco::JWT::Signer::ALGO_HS256);
  CHECK(server.call(post(genuine, "checkout")).status == 202);
  const auto dot1 = genuine.find('.'), dot2 = genuine.rfind('.');
  const std::string swapped = genuine.substr(0, dot1 + 1) + payload + genuine.substr(dot2);
  CHECK(server.call(post(swapped, "billing")).status == 401);
}
