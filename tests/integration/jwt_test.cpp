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
