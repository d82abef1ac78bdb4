#include "net/router.hpp"

#include <catch2/catch.hpp>
#include <string>

using luffy::find_route;
using luffy::route_id;
using luffy::route_matches;

TEST_CASE("router: every route of the table is found by its own method and path", "[router]") {
  for (const auto& r : luffy::routes) {
    std::string path(r.path);
    const auto brace = path.find('{');
    if (brace != std::string::npos) {
      path.replace(brace, path.find('}') - brace + 1, "c-42");
    }
    const auto m = find_route(r.method, path);
    REQUIRE(m.matched != nullptr);
    CHECK(m.matched->id == r.id);
    CHECK(m.method_ok);
    CHECK(m.param == (brace != std::string::npos ? "c-42" : ""));
  }
}

TEST_CASE("router: an unknown path is a 404 (no route)", "[router]") {
  CHECK(find_route("GET", "/nope").matched == nullptr);
  CHECK(find_route("GET", "/index.html").matched == nullptr);
  CHECK(find_route("GET", "/console/").matched == nullptr);
  CHECK(find_route("GET", "/console/a/b").matched == nullptr);
  CHECK(find_route("POST", "/api/v1/ingest").matched == nullptr);
  CHECK(find_route("GET", "/healthz").matched == nullptr);
  CHECK(find_route("GET", "/health/").matched == nullptr);
  CHECK(find_route("GET", "/api/v1/clusters/abc/extra").matched == nullptr);
  // A parameter segment matches one non-empty segment.
  CHECK(find_route("GET", "/api/v1/clusters/").matched == nullptr);
  CHECK(find_route("POST", "/api/v1/clusters//resolve").matched == nullptr);
}

TEST_CASE("router: / is the console's page and /console/{asset} one of its files", "[router]") {
  auto index = find_route("GET", "/?x=1");
  REQUIRE(index.matched != nullptr);
  CHECK(index.matched->id == route_id::console_index);
  CHECK_FALSE(index.matched->authenticated);
  auto asset = find_route("GET", "/console/console.js");
  REQUIRE(asset.matched != nullptr);
  CHECK(asset.matched->id == route_id::console_asset);
  CHECK(asset.param == "console.js");
  CHECK_FALSE(find_route("POST", "/").method_ok);
}

TEST_CASE("router: a known path with another method is a 405 naming the route", "[router]") {
  auto m = find_route("GET", "/api/v1/ingest/logs");
  REQUIRE(m.matched != nullptr);
  CHECK_FALSE(m.method_ok);
  CHECK(m.matched->id == route_id::ingest_logs);
  CHECK(m.matched->method == "POST");  // the Allow value
  CHECK_FALSE(m.reads_body());
  CHECK(m.param.empty());

  m = find_route("DELETE", "/api/v1/clusters/c1");
  REQUIRE(m.matched != nullptr);
  CHECK_FALSE(m.method_ok);
  CHECK(m.matched->id == route_id::cluster_get);

  m = find_route("POST", "/health");
  REQUIRE(m.matched != nullptr);
  CHECK_FALSE(m.method_ok);
  CHECK(m.matched->method == "GET");

  // Methods are case-sensitive (RFC 9110 §9.1).
  m = find_route("post", "/api/v1/ingest/logs");
  REQUIRE(m.matched != nullptr);
  CHECK_FALSE(m.method_ok);
}

TEST_CASE("router: the query string is ignored", "[router]") {
  auto m = find_route("GET", "/api/v1/clusters?service=api&limit=5");
  REQUIRE(m.matched != nullptr);
  CHECK(m.method_ok);
  CHECK(m.matched->id == route_id::clusters_list);

  m = find_route("GET", "/api/v1/clusters/abc?x=1");
  REQUIRE(m.matched != nullptr);
  CHECK(m.matched->id == route_id::cluster_get);
  CHECK(m.param == "abc");

  CHECK(find_route("GET", "/nope?/health").matched == nullptr);
}

TEST_CASE("router: path parameters and the routes that read a body", "[router]") {
  auto m = find_route("POST", "/api/v1/clusters/svc:abc123/merge");
  REQUIRE(m.matched != nullptr);
  CHECK(m.matched->id == route_id::cluster_merge);
  CHECK(m.param == "svc:abc123");
  CHECK(m.reads_body());

  m = find_route("POST", "/api/v1/clusters/xyz/resolve");
  REQUIRE(m.matched != nullptr);
  CHECK(m.matched->id == route_id::cluster_resolve);
  CHECK(m.param == "xyz");
  CHECK_FALSE(m.reads_body());

  CHECK(find_route("POST", "/api/v1/ingest/logs").reads_body());
  CHECK(find_route("POST", "/api/v1/ingest/logs/single").reads_body());
  CHECK_FALSE(find_route("GET", "/health").reads_body());
  CHECK_FALSE(find_route("GET", "/nope").reads_body());
}

TEST_CASE("router: route_matches segment by segment", "[router]") {
  std::string param;
  CHECK(route_matches("/health", "/health", param));
  CHECK_FALSE(route_matches("/health", "/health/x", param));
  CHECK_FALSE(route_matches("/a/b", "/a", param));
  CHECK(route_matches("/a/{id}/c", "/a/42/c", param));
  CHECK(param == "42");
  CHECK_FALSE(route_matches("/a/{id}/c", "/a/42/d", param));
  CHECK_FALSE(route_matches("/a/{id}", "/a/", param));
  CHECK_FALSE(route_matches("/a/{id}", "/a", param));
}
