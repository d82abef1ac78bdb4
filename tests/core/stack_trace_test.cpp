#include "core/stack_trace.hpp"

#include <catch2/catch.hpp>

using luffy::detect_trace_language;

TEST_CASE("detect: each runtime's trace is recognised", "[stack_trace]") {
  CHECK(detect_trace_language("java.lang.X: y\n\tat a.B.c(B.java:1)") == "java");
  CHECK(detect_trace_language("X\n\tat a.B.c(Native Method)") == "java");
  CHECK(detect_trace_language("Traceback (most recent call last):\n  File \"x.py\", line 1") ==
        "python");
  CHECK(detect_trace_language("Error: x\n    at f (/app/x.js:1:2)") == "node");
  CHECK(detect_trace_language("Error: x\n    at /app/x.js:1:2") == "node");
  CHECK(detect_trace_language("panic: x\n\ngoroutine 1 [running]:\nmain.main()") == "go");
  CHECK(detect_trace_language("System.Exception: x\n   at A.B.C() in /x.cs:line 3") == "dotnet");
  CHECK(detect_trace_language("System.Exception: x\n   at A.B.C(Int32 id)") == "dotnet");
  CHECK(detect_trace_language("/app/x.rb:3:in `foo': boom (RuntimeError)") == "ruby");
  CHECK(detect_trace_language("GET /orders/41 200 12ms").empty());
  CHECK(detect_trace_language("we met at noon").empty());
}

TEST_CASE("text helpers: reduce_path and parse_header", "[stack_trace]") {
  using namespace luffy::trace_text;
  CHECK(reduce_path("/srv/app/releases/20240301/src/x.js") == "src/x.js");
  CHECK(reduce_path("/app/src/x.js") == "src/x.js");
  // The project directory is the host's, whatever its name: every host gives the same path.
  CHECK(reduce_path("/home/alice/proj/billing/a.py") == "billing/a.py");
  CHECK(reduce_path("/home/deploy/shop/shop/views.py") == "shop/views.py");
  // a checkout named like its package is the package deployed alone
  CHECK(reduce_path("/workspace/billing/billing/settings.py") == "billing/settings.py");
  CHECK(reduce_path("/app/billing/settings.py") == "billing/settings.py");
  CHECK(reduce_path("/workspace/billing/billing") == "billing/billing");
  // below releases/ is a release, whatever its name; elsewhere v2 is a name (api/v2)
  CHECK(reduce_path("/srv/app/releases/v2/src/users.js") == "src/users.js");
  CHECK(reduce_path("/srv/app/releases/blue/src/users.js") == "src/users.js");
  CHECK(reduce_path("/app/src/api/v2/users.js") == "src/api/v2/users.js");
  CHECK(reduce_path("/srv/app/releases/users.js") == "users.js");
  CHECK(reduce_path("/app/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/srv/shop-api/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/usr/src/app/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/home/bob/src/shop/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/home/runner/work/shop/shop/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/opt/shop/current/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/var/www/shop/app/models/order.rb") == "app/models/order.rb");
  CHECK(reduce_path("/rails/app/models/order.rb") == "app/models/order.rb");
  CHECK(reduce_path("/app/app/models/order.rb") == "app/models/order.rb");
  CHECK(reduce_path("/home/node/app/src/x.js") == "src/x.js");
  CHECK(reduce_path("/usr/src/app/src/x.js") == "src/x.js");
  CHECK(reduce_path("app/models/order.rb") == "app/models/order.rb");
  CHECK(reduce_path("/app/main.py") == "main.py");
  CHECK(reduce_path("/home/deploy/shop/main.py") == "main.py");
  CHECK(reduce_path("/Users/bob/Projects/shop/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("C:\\Users\\bob\\source\\repos\\Shop\\src\\x.js") == "src/x.js");
  CHECK(reduce_path("/var/app/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("/var/app/current/shop/views.py") == "shop/views.py");
  CHECK(reduce_path("C:\\builds\\agent\\src\\Foo.cs") == "agent/src/Foo.cs");
  CHECK(reduce_path("/opt/shop/v1.4.2/lib/x.rb") == "lib/x.rb");
  const auto h = parse_header("java.lang.IllegalStateException: Order 42", true);
  REQUIRE(h);
  CHECK(h->type == "java.lang.IllegalStateException");
  CHECK(h->message == "Order 42");
  CHECK_FALSE(parse_header("Failed to load order 42", false));
  CHECK_FALSE(parse_header("Note: something", true));
  CHECK(parse_header("Note: something", false));
  CHECK(parse_header("KeyError", false));
  CHECK_FALSE(parse_header("hello", false));
}

TEST_CASE("text helpers: find_header behind prefixes, strip_build_hash", "[stack_trace]") {
  using namespace luffy::trace_text;
  auto type_of = [](std::string_view line, bool strict) {
    const auto h = find_header(line, strict);
    return h ? std::string(h->type) + "|" + std::string(h->message) : std::string("none");
  };
  CHECK(type_of("Error handling POST /orders/991 -> TypeError: Cannot read", true) ==
        "TypeError|Cannot read");
  CHECK(type_of("10:00:00.123 [main] ERROR com.acme.Orders - com.acme.OrderMissing: 7", true) ==
        "com.acme.OrderMissing|7");
  CHECK(type_of("2026-12-04 ERROR com.acme.OrderService: Failed: java.io.IOException: disk",
                false) == "java.io.IOException|disk");
  CHECK(type_of("java.lang.IllegalStateException: wrapped java.io.IOException: x", true) ==
        "java.lang.IllegalStateException|wrapped java.io.IOException: x");
  CHECK(type_of("[10:00:00 ERR] Request failed System.InvalidOperationException: x", true) ==
        "System.InvalidOperationException|x");
  CHECK(type_of("app.ERROR: request failed", true) == "none");
  CHECK(type_of("Failed to load order: timeout", true) == "none");
  CHECK(type_of("Note: something", false) == "Note|something");
  CHECK(strip_build_hash("dist/main.3f2a9c1b") == "dist/main");
  CHECK(strip_build_hash("static/js/vendors~main.4f3e2a.chunk") == "static/js/vendors~main.chunk");
  CHECK(strip_build_hash("assets/index-BkNMx3Hq") == "assets/index");
  CHECK(strip_build_hash("chunks/pages-orders-3f2a9c1b8e1d") == "chunks/pages-orders");
  CHECK(strip_build_hash("src/routes/user-v2") == "src/routes/user-v2");
  CHECK(strip_build_hash("src/lib/decade.facade") == "src/lib/decade.facade");
  CHECK(strip_build_hash("dist/server.deeaccdc") == "dist/server");
  CHECK(strip_build_hash("1234567") == "1234567");
}

TEST_CASE("extract: stack_trace field first, then message, then exception fields",
          "[stack_trace]") {
  luffy::frame_rules rules;
  luffy::log_record r;
  r.message = "Payment provider call failed";
  r.stack_trace =
      "java.net.SocketTimeoutException: Read timed out\n"
      "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)\n"
      "\tat com.acme.orders.PaymentClient.charge(PaymentClient.java:61)";
  auto info = luffy::extract_exception(r, rules);
  CHECK(info.language == "java");
  REQUIRE(info.root_cause());
  CHECK(info.root_cause()->type == "java.net.SocketTimeoutException");
  REQUIRE(info.root_cause()->frames.size() == 2);
  CHECK_FALSE(info.root_cause()->frames[0].in_app);
  CHECK(info.root_cause()->frames[1].in_app);

  // Fluent Bit's multiline filter puts the whole trace into message.
  luffy::log_record m;
  m.message =
      "Unhandled exception in job charge_card\n"
      "Traceback (most recent call last):\n"
      "  File \"/app/billing/charge.py\", line 23, in charge_card\n"
      "ValueError: bad amount";
  info = luffy::extract_exception(m, rules);
  CHECK(info.language == "python");
  CHECK(info.root_cause()->type == "ValueError");
  CHECK(info.has_frames());

  // Structured fields only.
  luffy::log_record s;
  s.message = "lookup failed";
  s.exception_type = "KeyError";
  s.exception_message = "'sku-9'";
  info = luffy::extract_exception(s, rules);
  CHECK(info.language.empty());
  REQUIRE(info.chain.size() == 1);
  CHECK(info.chain[0].type == "KeyError");
  CHECK_FALSE(info.has_frames());

  // A headerless trace takes its type from the fields.
  luffy::log_record h;
  h.message = "boom";
  h.exception_type = "com.acme.BoomException";
  h.stack_trace = "\tat com.acme.A.b(A.java:1)\n\tat com.acme.C.d(C.java:2)";
  info = luffy::extract_exception(h, rules);
  CHECK(info.root_cause()->type == "com.acme.BoomException");
  CHECK(info.root_cause()->frames.size() == 2);

  // Nothing at all.
  luffy::log_record plain;
  plain.message = "GET /orders/41 200 12ms";
  info = luffy::extract_exception(plain, rules);
  CHECK(info.chain.empty());
  CHECK(info.root_cause() == nullptr);
  CHECK_FALSE(info.has_frames());
}
