// core/client_identity: which auth.clients entry a verified certificate's subject and SANs name.
#include "core/client_identity.hpp"

#include <catch2/catch.hpp>

using namespace luffy;

namespace {

token_config by_subject(std::string glob) {
  token_config t;
  t.name = "s";
  t.subject = std::move(glob);
  t.services = {"*"};
  return t;
}

token_config by_san(std::string san) {
  token_config t;
  t.name = "n";
  t.san = std::move(san);
  t.services = {"*"};
  return t;
}

}  // namespace

TEST_CASE("client certificates match by subject CN glob, exactly in case", "[client_identity]") {
  client_identity id{"fluent-bit.node-7.agents", {}};
  CHECK(client_matches(by_subject("fluent-bit.node-7.agents"), id));
  CHECK(client_matches(by_subject("fluent-bit.*.agents"), id));
  CHECK_FALSE(client_matches(by_subject("Fluent-Bit.*.agents"), id));
  CHECK_FALSE(client_matches(by_subject("fluent-bit"), id));  // whole text, not a prefix
  CHECK_FALSE(client_matches(by_subject("*"), client_identity{"", {"DNS:a"}}));  // no CN at all
}

TEST_CASE("client certificates match by SAN kind and value", "[client_identity]") {
  client_identity id{"x",
                     {"DNS:Agent-1.Example.org", "URI:spiffe://prod/ns/logging/sa/fluent-bit",
                      "email:ops@example.org", "IP:10.0.0.7"}};
  CHECK(client_matches(by_san("DNS:*.example.org"), id));  // DNS compared lower-cased
  CHECK(client_matches(by_san("URI:spiffe://prod/ns/logging/*"), id));
  CHECK_FALSE(client_matches(by_san("URI:spiffe://staging/*"), id));
  CHECK(client_matches(by_san("email:ops@example.org"), id));
  CHECK(client_matches(by_san("IP:10.0.0.7"), id));
  CHECK_FALSE(client_matches(by_san("IP:10.0.0.*"), id));  // addresses are exact
  // The kind must agree: a DNS pattern never matches a URI or an email with the same text.
  CHECK_FALSE(client_matches(by_san("DNS:ops@example.org"), id));
  CHECK_FALSE(client_matches(by_san("email:agent-1.example.org"), id));
  // A malformed entry (no kind) matches nothing rather than everything.
  CHECK_FALSE(client_matches(by_san("*"), id));
  CHECK_FALSE(client_matches(by_san(""), id));
}

TEST_CASE("the first matching client entry wins, in configuration order", "[client_identity]") {
  std::vector<token_config> clients = {by_subject("billing-*"), by_san("DNS:*.agents"),
                                       by_subject("*")};
  clients[0].name = "billing";
  clients[1].name = "agents";
  clients[2].name = "anyone";
  CHECK(match_client(clients, client_identity{"billing-7", {"DNS:x.agents"}})->name == "billing");
  CHECK(match_client(clients, client_identity{"web", {"DNS:x.agents"}})->name == "agents");
  CHECK(match_client(clients, client_identity{"web", {}})->name == "anyone");
  CHECK(match_client({}, client_identity{"web", {}}) == nullptr);
  CHECK(client_identity{"", {"DNS:a"}}.describe() == "DNS:a");
  CHECK(client_identity{"a", {"DNS:b"}}.describe() == "CN=a");
}
