#include "core/frame_classifier.hpp"

#include <catch2/catch.hpp>

using luffy::is_in_app;
using luffy::stack_frame;

namespace {
stack_frame frame(std::string module, std::string file = "") {
  return stack_frame{std::move(module), std::string("fn"), std::move(file), 0, false};
}
}  // namespace

TEST_CASE("frame classifier: per-language defaults", "[frame_classifier]") {
  const luffy::frame_rules none;
  CHECK(is_in_app("java", frame("com.acme.orders.OrderService"), none));
  CHECK_FALSE(is_in_app("java", frame("java.lang.Thread"), none));
  CHECK_FALSE(is_in_app("java", frame("org.springframework.web.Servlet"), none));
  CHECK_FALSE(is_in_app("java", frame("com.zaxxer.hikari.pool.ProxyStatement"), none));

  CHECK(is_in_app("python", frame("billing.charge", "/app/billing/charge.py"), none));
  CHECK_FALSE(is_in_app(
      "python", frame("requests.api", "/venv/lib/python3.11/site-packages/requests/api.py"), none));
  CHECK_FALSE(
      is_in_app("python", frame("json.decoder", "/usr/lib/python3.11/json/decoder.py"), none));
  CHECK_FALSE(
      is_in_app("python", frame("importlib._bootstrap", "<frozen importlib._bootstrap>"), none));

  CHECK(is_in_app("node", frame("src/routes/users", "/app/src/routes/users.js"), none));
  CHECK_FALSE(is_in_app(
      "node", frame("express/lib/router/layer", "/app/node_modules/express/lib/router/layer.js"),
      none));
  CHECK_FALSE(is_in_app(
      "node", frame("node:internal/process/task_queues", "node:internal/process/task_queues"),
      none));
  CHECK_FALSE(is_in_app("node", frame("index 0", "index 0"), none));

  CHECK(is_in_app("go", frame("main", "/app/main.go"), none));
  CHECK(is_in_app("go", frame("github.com/acme/shop/orders", "/build/orders/ship.go"), none));
  CHECK_FALSE(is_in_app("go", frame("net/http", "/usr/local/go/src/net/http/server.go"), none));
  CHECK_FALSE(is_in_app(
      "go", frame("github.com/lib/pq", "/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go"),
      none));
  // a GOPATH checkout is the application; GOROOT below /go/src is not
  CHECK(is_in_app(
      "go", frame("github.com/acme/shop/orders", "/go/src/github.com/acme/shop/orders/ship.go"),
      none));
  CHECK_FALSE(is_in_app("go", frame("net/http", "/usr/local/go/src/net/http/server.go"), none));
  CHECK_FALSE(is_in_app("go", frame("runtime", "/go/src/runtime/panic.go"), none));
  // -trimpath builds print dependencies with their version but without /pkg/mod/
  CHECK_FALSE(
      is_in_app("go", frame("github.com/lib/pq", "github.com/lib/pq@v1.10.9/conn.go"), none));

  CHECK(is_in_app("dotnet", frame("Acme.Orders.OrderService"), none));
  CHECK_FALSE(is_in_app("dotnet", frame("System.Linq.Enumerable"), none));
  CHECK_FALSE(is_in_app("dotnet", frame("Microsoft.AspNetCore.Mvc.X"), none));

  CHECK(is_in_app("ruby", frame("app/models/order", "/app/app/models/order.rb"), none));
  CHECK_FALSE(
      is_in_app("ruby", frame("actionpack/lib/x", "/usr/local/bundle/gems/ap-7/lib/x.rb"), none));
}

TEST_CASE("frame classifier: configured prefixes win, longest prefix decides",
          "[frame_classifier]") {
  luffy::frame_rules rules;
  rules.in_app_prefixes = {"org.springframework.samples", "com.acme"};
  rules.not_in_app_prefixes = {"com.acme.vendor", "/app/src/generated/"};
  CHECK(is_in_app("java", frame("org.springframework.samples.petclinic.Owner"), rules));
  CHECK_FALSE(is_in_app("java", frame("org.springframework.web.Servlet"), rules));
  CHECK(is_in_app("java", frame("com.acme.orders.X"), rules));
  CHECK_FALSE(is_in_app("java", frame("com.acme.vendor.lib.Y"), rules));
  CHECK_FALSE(is_in_app("node", frame("src/generated/api", "/app/src/generated/api.js"), rules));
  CHECK(is_in_app("node", frame("src/routes/users", "/app/src/routes/users.js"), rules));
}
