// Golden cluster ids for core/grouping_v1: legacy_cluster_id must return, byte for byte, the id
// that the UNMODIFIED code of commit fd2f299 gave each record at level 1 or 2 (nullopt where it
// used level 3). The ids below were NOT produced by the copy: a throwaway program outside the repo
// compiled the golden-inputs block of this file verbatim against luffy_core built from fd2f299
// (headers from `git archive fd2f299 core tests/core/fixture_files.hpp`) and printed
// compute_fingerprint(record, opt, nullptr).cluster_id for each input, with opt.top_frames and
// opt.rules taken from the input; it also checked that the trace_cache path gives the same id.
// Never regenerate them from grouping_v1 itself: a mismatch here means the copy drifted.
#include "core/grouping_v1/legacy_fingerprint.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fixture_files.hpp"

namespace {

// ---- golden inputs (the generator compiled this block verbatim against fd2f299) ----
struct golden_input {
  const char* name;
  luffy::log_record record;
  std::vector<std::string> in_app_prefixes;
  std::vector<std::string> not_in_app_prefixes;
  size_t top_frames = 5;
};

luffy::log_record rec(std::string service, std::string message, std::string stack_trace = "",
                      std::string exception_type = "", std::string exception_message = "") {
  luffy::log_record r;
  r.service_id = std::move(service);
  r.level = "ERROR";
  r.message = std::move(message);
  r.stack_trace = std::move(stack_trace);
  r.exception_type = std::move(exception_type);
  r.exception_message = std::move(exception_message);
  return r;
}

// The n-th run of raw (non-JSON) lines of the fixture sample-app.log: 0 Java, 1 Python, 2 Node.
std::string fixture_trace(size_t n) {
  const std::string text = luffy::test::read_file(luffy::test::fixtures_dir() / "sample-app.log");
  std::vector<std::string> runs;
  bool in_run = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '{') {
      in_run = false;
      continue;
    }
    if (!in_run) {
      runs.emplace_back();
      in_run = true;
    } else {
      runs.back() += '\n';
    }
    runs.back() += line;
  }
  return n < runs.size() ? runs[n] : std::string();
}

// The n-th line of the n-th fixture trace (a record of a tail input without a multiline parser).
std::string fixture_line(size_t trace, size_t line) {
  const std::string t = fixture_trace(trace);
  size_t pos = 0;
  for (size_t i = 0; i < line && pos != std::string::npos; ++i) {
    pos = t.find('\n', pos);
    pos = pos == std::string::npos ? pos : pos + 1;
  }
  return pos == std::string::npos ? std::string() : t.substr(pos, t.find('\n', pos) - pos);
}

const char* const k_java_deploy_a =
    "java.lang.IllegalStateException: Order 42 not found in repository\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n"
    "\tat com.acme.orders.OrderService$$EnhancerBySpringCGLIB$$5f1a2b.load(<generated>)\n"
    "\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)\n"
    "\tat com.acme.orders.OrderController.lambda$get$0(OrderController.java:27)\n"
    "\tat com.acme.orders.OrderController$$Lambda$123/0x0000000800c4b440.apply(Unknown Source)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n";
const char* const k_java_deploy_b =
    "java.lang.IllegalStateException: Order 977 not found in repository\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:91)\n"
    "\tat com.acme.orders.OrderService$$EnhancerBySpringCGLIB$$99ee00.load(<generated>)\n"
    "\tat jdk.internal.reflect.GeneratedMethodAccessor57.invoke(Unknown Source)\n"
    "\tat com.acme.orders.OrderController.lambda$get$2(OrderController.java:29)\n"
    "\tat com.acme.orders.OrderController$$Lambda$871/0x0000000801a2c000.apply(Unknown Source)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1589)\n";
const char* const k_python_release =
    "Traceback (most recent call last):\n"
    "  File \"/srv/releases/20260801/billing/worker.py\", line 57, in run_job\n"
    "  File \"/opt/venv/lib/python3.11/site-packages/stripe/api.py\", line 10, in call\n"
    "  File \"/srv/releases/20260801/billing/charge.py\", line 23, in charge_card\n"
    "ValueError: invalid literal for int() with base 10: '12.50'";
const char* const k_dotnet_generic =
    "System.InvalidOperationException: Sequence contains no elements\n"
    "   at System.Linq.ThrowHelper.ThrowNoElementsException()\n"
    "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n"
    "   at Acme.Orders.OrderService.GetOrder(Int32 id) in "
    "/src/Acme.Orders/OrderService.cs:line 42\n"
    "   at Acme.Orders.Controllers.OrdersController.Get(Int32 id) in "
    "C:\\build\\src\\Controllers\\OrdersController.cs:line 18\n"
    "   at lambda_method12(Closure , Object , Object[] )\n";
const char* const k_go_nil =
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a3b2c]\n"
    "\n"
    "goroutine 1 [running]:\n"
    "github.com/acme/shop/internal/db.(*Store).Get(0xc000010000, {0x0, 0x0})\n"
    "\t/home/ci/work/shop/internal/db/store.go:42 +0x1d\n"
    "main.main.func1()\n"
    "\t/app/main.go:21 +0x25\n"
    "main.main()\n"
    "\t/app/main.go:15 +0x3e\n"
    "exit status 2\n";
const char* const k_go_custom =
    "panic: order 42: invalid state \"shipped\" [recovered]\n"
    "\n"
    "goroutine 18 [running]:\n"
    "panic({0x6b2f40?, 0xc0001a2000?})\n"
    "\t/usr/local/go/src/runtime/panic.go:914 +0x21f\n"
    "net/http.(*conn).serve.func1()\n"
    "\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n"
    "github.com/acme/shop/orders.Ship(...)\n"
    "\t/build/orders/ship.go:88\n"
    "created by net/http.(*Server).Serve in goroutine 1\n"
    "\t/usr/local/go/src/net/http/server.go:3086 +0x5cb\n"
    "\n"
    "goroutine 1 [IO wait]:\n"
    "main.main()\n"
    "\t/build/main.go:9 +0x1\n";
const char* const k_node_async =
    "Error: connect ECONNREFUSED 10.0.0.7:6379\n"
    "    at async OrderService.place (/srv/app/releases/2024-03-01T10-00-00/src/orders.js:10:5)\n"
    "    at /srv/app/releases/2024-03-01T10-00-00/src/server.js:77:12\n"
    "    at new Repo (file:///srv/app/current/src/repo.mjs:3:7)\n"
    "    at async Promise.all (index 0)\n"
    "{ code: 'ECONNREFUSED' }\n";

std::vector<golden_input> golden_inputs() {
  std::vector<golden_input> v;
  // The fixture traces of sample-app.log, in stack_trace, in message, and line by line.
  v.push_back({"fixture java in stack_trace",
               rec("order-api", "Failed to load order 42", fixture_trace(0)),
               {},
               {}});
  v.push_back({"fixture java in message", rec("order-api", fixture_trace(0)), {}, {}});
  v.push_back({"fixture python in stack_trace",
               rec("billing-worker", "Unhandled exception in job charge_card", fixture_trace(1)),
               {},
               {}});
  v.push_back({"fixture python in message after a preamble",
               rec("billing-worker", "Unhandled exception in job charge_card\n" + fixture_trace(1)),
               {},
               {}});
  v.push_back({"fixture node in stack_trace",
               rec("gateway", "Uncaught exception, process exiting", fixture_trace(2)),
               {},
               {}});
  v.push_back({"fixture node in message", rec("gateway", fixture_trace(2)), {}, {}});
  v.push_back({"fixture JSON stack_trace field",
               rec("order-api", "Payment provider call failed",
                   "java.net.SocketTimeoutException: Read timed out\n\tat "
                   "java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)\n\tat "
                   "com.acme.orders.PaymentClient.charge(PaymentClient.java:61)"),
               {},
               {}});
  v.push_back({"fixture java, in-app and not-in-app prefixes",
               rec("order-api", "Failed to load order 42", fixture_trace(0)),
               {"org.postgresql", "com.acme"},
               {"com.acme.orders.OrderRepository"}});
  v.push_back({"fixture java, top 2 frames",
               rec("order-api", "Failed to load order 42", fixture_trace(0)),
               {},
               {},
               2});
  v.push_back({"fixture java, top 1 frame, other service",
               rec("billing", "Failed to load order 42", fixture_trace(0)),
               {},
               {},
               1});
  v.push_back({"fixture java, top 0 frames",
               rec("order-api", "Failed to load order 42", fixture_trace(0)),
               {},
               {},
               0});
  v.push_back({"fixture java, empty service id", rec("", "x", fixture_trace(0)), {}, {}});
  v.push_back({"fixture java header line alone", rec("order-api", fixture_line(0, 0)), {}, {}});
  v.push_back({"fixture java frame line alone", rec("order-api", fixture_line(0, 1)), {}, {}});
  v.push_back(
      {"fixture python last line alone", rec("billing-worker", fixture_line(1, 5)), {}, {}});
  v.push_back({"fixture node frame line alone", rec("gateway", fixture_line(2, 1)), {}, {}});
  // Java.
  v.push_back({"java deploy a", rec("order-api", "Failed to load order", k_java_deploy_a), {}, {}});
  v.push_back({"java deploy b", rec("order-api", "Failed to load order", k_java_deploy_b), {}, {}});
  v.push_back({"java deploy a, in-app prefix for jdk",
               rec("order-api", "Failed to load order", k_java_deploy_a),
               {"jdk.internal"},
               {}});
  v.push_back({"java other crash site",
               rec("order-api", "Failed to load order",
                   "java.lang.IllegalStateException: Order 42 not found in repository\n"
                   "\tat com.acme.orders.InvoiceRepository.findById(InvoiceRepository.java:88)\n"
                   "\tat com.acme.orders.OrderService.load(OrderService.java:41)\n"),
               {},
               {}});
  v.push_back({"java no in-app frame",
               rec("x", "Failed to load order",
                   "java.lang.OutOfMemoryError: Java heap space\n"
                   "\tat java.util.Arrays.copyOf(Arrays.java:3512)\n"
                   "\tat java.lang.StringBuilder.append(StringBuilder.java:179)\n"),
               {},
               {}});
  v.push_back({"java thread header and generated names",
               rec("app", "crash",
                   "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke "
                   "\"String.length()\" because \"s\" is null\n"
                   "\tat com.acme.App.lambda$run$0(App.java:12)\n"
                   "\tat com.acme.App$$Lambda$123/0x0000000800c4b440.accept(Unknown Source)\n"
                   "\tat com.acme.web.OrderController$$EnhancerBySpringCGLIB$$1a2b3c4d.create("
                   "<generated>)\n"
                   "\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)\n"
                   "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native "
                   "Method)\n"
                   "\tat jdk.proxy2/jdk.proxy2.$Proxy45.save(Unknown Source)\n"
                   "\tat app//com.acme.Main.main(Main.java:5) ~[app.jar:1.0]\n"),
               {},
               {}});
  v.push_back({"java suppressed and caused by",
               rec("exporter", "export failed",
                   "java.io.IOException: write failed\n"
                   "\tat com.acme.io.Writer.flush(Writer.java:30)\n"
                   "\tat com.acme.io.Exporter.export(Exporter.java:12)\n"
                   "\tSuppressed: java.io.IOException: close failed\n"
                   "\t\tat com.acme.io.Writer.close(Writer.java:44)\n"
                   "\t\t... 1 more\n"
                   "\tCaused by: java.lang.IllegalStateException: stream closed\n"
                   "\t\tat com.acme.io.Stream.check(Stream.java:9)\n"
                   "Caused by: java.net.SocketException: Broken pipe\n"
                   "\tat java.base/sun.nio.ch.NioSocketImpl.implWrite(NioSocketImpl.java:420)\n"
                   "\tat com.acme.io.Writer.flush(Writer.java:28)\n"
                   "\t... 1 more\n"),
               {},
               {}});
  v.push_back({"java logback preamble and kotlin frames in message",
               rec("billing",
                   "Failed to process message 7\n"
                   "com.acme.billing.ChargeDeclinedException: card declined\n"
                   "reason code 51\n"
                   "\tat com.acme.billing.ChargeService.charge(ChargeService.kt:77)\n"
                   "\tat com.acme.billing.ChargeService$charge$1.invokeSuspend(ChargeService.kt)\n"
                   "\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)\n"
                   "\t... 12 common frames omitted\n"),
               {},
               {}});
  v.push_back({"java headerless trace takes the type from the fields",
               rec("app", "boom", "\tat com.acme.A.b(A.java:1)\n\tat com.acme.C.d(C.java:2)",
                   "com.acme.BoomException", "boom 42"),
               {},
               {}});
  // Python.
  v.push_back({"python release roots", rec("billing", "", k_python_release), {}, {}});
  v.push_back({"python release roots, stripe in-app",
               rec("billing", "", k_python_release),
               {"stripe"},
               {"billing.worker"}});
  v.push_back({"python site-packages, venvs, stdlib",
               rec("shop", "request failed",
                   "Traceback (most recent call last):\n"
                   "  File \"/srv/app/releases/20240301120000/shop/views.py\", line 10, in "
                   "<module>\n"
                   "    main()\n"
                   "  File \"/home/deploy/.venv/lib/python3.11/site-packages/requests/api.py\", "
                   "line 73, in get\n"
                   "    return request(\"get\", url, params=params, **kwargs)\n"
                   "  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\n"
                   "    raise JSONDecodeError(\"Expecting value\", s, err.value) from None\n"
                   "  File \"<frozen importlib._bootstrap>\", line 1204, in _gcd_import\n"
                   "  File \"/app/shop/__init__.py\", line 3, in <lambda>\n"
                   "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
                   "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n"),
               {},
               {}});
  v.push_back({"python chained exceptions",
               rec("orders", "request failed",
                   "Traceback (most recent call last):\n"
                   "  File \"/app/orders/repo.py\", line 12, in find\n"
                   "    return self._rows[order_id]\n"
                   "KeyError: 'ord-42'\n"
                   "\n"
                   "The above exception was the direct cause of the following exception:\n"
                   "\n"
                   "Traceback (most recent call last):\n"
                   "  File \"/app/orders/api.py\", line 30, in get_order\n"
                   "    order = repo.find(order_id)\n"
                   "  File \"/app/orders/repo.py\", line 14, in find\n"
                   "    raise OrderNotFound(order_id) from e\n"
                   "orders.errors.OrderNotFound: ord-42\n"
                   "\n"
                   "During handling of the above exception, another exception occurred:\n"
                   "\n"
                   "Traceback (most recent call last):\n"
                   "  File \"/app/orders/api.py\", line 33, in get_order\n"
                   "    [x for x in log_failure()]\n"
                   "  File \"/app/orders/api.py\", line 33, in <listcomp>\n"
                   "    [x for x in log_failure()]\n"
                   "RuntimeError\n"),
               {},
               {}});
  // Node.
  v.push_back({"node async, anonymous, new, file://", rec("orders", "", k_node_async), {}, {}});
  v.push_back({"node async, express and src in-app",
               rec("orders", "", k_node_async),
               {"src/server"},
               {"src/orders"}});
  v.push_back({"node Error.cause",
               rec("cart", "checkout failed",
                   "Error: checkout failed\n"
                   "    at checkout (/app/src/cart.js:20:11)\n"
                   "    at async handler (/app/src/server.js:9:3) {\n"
                   "  [cause]: Error: connect ECONNREFUSED 10.0.0.7:5432\n"
                   "      at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {\n"
                   "    errno: -111,\n"
                   "    code: 'ECONNREFUSED'\n"
                   "  }\n"
                   "}\n"
                   "next log line\n"
                   "    at not (/a/frame.js:1:1)\n"),
               {},
               {}});
  v.push_back({"node release directory in message",
               rec("gateway",
                   "TypeError: Cannot read properties of undefined (reading 'id')\n"
                   "    at getUser (/srv/app/releases/2024-03-01/src/routes/users.js:42:18)\n"
                   "    at next (/srv/app/releases/2024-03-01/node_modules/express/lib/router/"
                   "route.js:149:13)"),
               {},
               {}});
  // Go.
  v.push_back({"go nil pointer panic", rec("shop", "", k_go_nil), {}, {}});
  v.push_back({"go custom panic", rec("shop", "", k_go_custom), {}, {}});
  v.push_back({"go custom panic, net/http in-app", rec("shop", "", k_go_custom), {"net/http"}, {}});
  v.push_back({"go fatal error",
               rec("shop", "",
                   "fatal error: concurrent map writes\n\ngoroutine 7 [running]:\n"
                   "main.worker(0xc0000b4000)\n\t/app/worker.go:30 +0x45\n"),
               {},
               {}});
  v.push_back({"go index out of range",
               rec("svc", "request failed",
                   "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 "
                   "[running]:\n"
                   "github.com/acme/shop/orders.(*Cart).Item(0xc000010000, 0x5)\n"
                   "\t/home/ci/builds/1234/shop/orders/cart.go:42 +0x1d\nmain.main()\n"
                   "\t/app/main.go:15 +0x25\n"),
               {},
               {}});
  // .NET.
  v.push_back(
      {"dotnet generic methods and lambda_method", rec("orders", "", k_dotnet_generic), {}, {}});
  v.push_back({"dotnet, controllers not in-app, System.Linq in-app",
               rec("orders", "", k_dotnet_generic),
               {"System.Linq"},
               {"Acme.Orders.Controllers"}});
  v.push_back(
      {"dotnet inner exceptions and async state machines",
       rec("orders", "place failed",
           "Unhandled exception. Acme.Orders.OrderFailedException: Order 42 failed ---> "
           "System.ArgumentNullException: Value cannot be null. (Parameter 'customer')\n"
           "   at Acme.Orders.Validation.<>c__DisplayClass2_0.<Check>b__0(Order o) in "
           "/src/Validation.cs:line 12\n"
           "   at Acme.Orders.OrderService.<PlaceAsync>d__5.MoveNext() in "
           "/src/OrderService.cs:line 61\n"
           "   --- End of inner exception stack trace ---\n"
           "   at Acme.Orders.OrderService.<PlaceAsync>d__5.MoveNext() in "
           "/src/OrderService.cs:line 70\n"
           "--- End of stack trace from previous location ---\n"
           "   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.Execute()\n"),
       {},
       {}});
  v.push_back({"dotnet windows paths",
               rec("svc", "request failed",
                   "System.NullReferenceException: Object reference not set to an instance of an "
                   "object.\n"
                   "   at Acme.Orders.OrderService.<PlaceAsync>d__7.MoveNext() in "
                   "C:\\agent\\_work\\1\\s\\Acme.Orders\\OrderService.cs:line 64\n"
                   "   at Acme.Orders.Api.<>c__DisplayClass3_1.<Map>b__2(HttpContext ctx) in "
                   "C:\\agent\\_work\\1\\s\\Acme.Orders\\Api.cs:line 13\n"),
               {},
               {}});
  // Ruby.
  v.push_back({"ruby interpreter format",
               rec("shop", "",
                   "/app/app/models/order.rb:42:in `find!': Order 7 not found (Orders::NotFound)\n"
                   "\tfrom /usr/local/bundle/gems/actionpack-7.1.2/lib/abstract_controller/"
                   "base.rb:224:in `process'\n"
                   "\tfrom /app/app/controllers/orders_controller.rb:10:in `block (2 levels) in "
                   "show'\n"
                   "\tfrom /app/app/controllers/orders_controller.rb:8:in "
                   "'OrdersController#show'\n"),
               {},
               {}});
  v.push_back({"ruby rails logger format",
               rec("shop", "",
                   "ActiveRecord::RecordNotFound (Couldn't find User with 'id'=42):\n"
                   "  \n"
                   "app/controllers/users_controller.rb:10:in `show'\n"
                   "app/controllers/application_controller.rb:5:in `around'\n"),
               {},
               {}});
  v.push_back({"ruby release directories and vendored gems",
               rec("svc", "request failed",
                   "/app/releases/20260801120000/app/models/order.rb:42:in `find!': Order 7 not "
                   "found (Orders::NotFound)\n"
                   "\tfrom /app/releases/20260801120000/vendor/bundle/ruby/3.3.0/gems/"
                   "actionpack-7.1.2/lib/abstract_controller/base.rb:224:in `process'\n"
                   "\tfrom /app/releases/20260801120000/app/controllers/orders_controller.rb:10:in "
                   "`block (2 levels) in show'\n"),
               {},
               {}});
  // Level 2: exception fields only.
  v.push_back(
      {"level 2 KeyError with a date",
       rec("order-api", "lookup failed", "", "KeyError", "order 42 missing since 2026-08-21"),
       {},
       {}});
  v.push_back({"level 2 KeyError, quoted sku",
               rec("order-api", "lookup failed", "", "KeyError", "'sku-9'"),
               {},
               {}});
  v.push_back({"level 2 type without message",
               rec("order-api", "lookup failed", "", "java.util.NoSuchElementException"),
               {},
               {}});
  v.push_back({"level 2 header-only trace with the exception fields",
               rec("order-api", "Failed to load order 42", fixture_line(0, 0),
                   "java.lang.IllegalStateException", "Order 42 not found in repository"),
               {},
               {}});
  v.push_back({"level 2 go error type",
               rec("shop", "fetch failed", "", "*url.Error",
                   "Get \"http://inventory:8080/items/17\": dial tcp 10.0.0.1:8080: connect: "
                   "connection refused"),
               {},
               {}});
  v.push_back({"exception message without type is level 3",
               rec("order-api", "lookup failed", "", "", "order 42 missing"),
               {},
               {}});
  v.push_back({"level 2 parameterised placeholders",
               rec("payments", "charge failed", "", "PaymentError",
                   "POST https://api.stripe.com/v1/charges?id=4 failed for bob.smith+x@acme.io at "
                   "2026-08-21T10:15:00.101Z after 30s (5000ms), trace "
                   "550e8400-e29b-41d4-a716-446655440000 via 10.0.0.5:5432 [fe80::1]:8080 "
                   "db-1.prod.internal mac aa:bb:cc:dd:ee:ff size 512MB ptr 0xc000010000 sha "
                   "deadbeefcafe1234 path /var/lib/app/x.db route /orders/41 user=\"John Smith\" "
                   "HTTP/1.1 v2 user_42 -7 3.14 1,024 j-1001 [5] 10:15:00\nsecond line 99"),
               {},
               {}});
  v.push_back({"level 2 UTF-8 message",
               rec("intl", "échec", "", "Ошибка", "заказ 42 не найден — ünïcødé 3.5€"),
               {},
               {}});
  // Level 3: no exception.
  v.push_back({"level 3 route", rec("order-api", "GET /orders/41 200 12ms"), {}, {}});
  v.push_back({"level 3 ratio", rec("order-api", "cache miss ratio 0.42"), {}, {}});
  v.push_back({"level 3 error word without trace",
               rec("order-api", "Failed to load order 42: error"),
               {},
               {}});
  return v;
}
// ---- end of golden inputs ----

// What fd2f299 printed for golden_inputs(), in order; nullptr where it used level 3.
const char* const k_golden_ids[] = {
    "34994b4720a7bd1fc36105c9860b6668",  // L1 fixture java in stack_trace
    "34994b4720a7bd1fc36105c9860b6668",  // L1 fixture java in message
    "54655983f4f826323bf5530bda7d61a3",  // L1 fixture python in stack_trace
    "54655983f4f826323bf5530bda7d61a3",  // L1 fixture python in message after a preamble
    "648bc8568749eb8eaefc17a5a534007c",  // L1 fixture node in stack_trace
    "648bc8568749eb8eaefc17a5a534007c",  // L1 fixture node in message
    "5860cab4f2049966051b654a0bbf5677",  // L1 fixture JSON stack_trace field
    "963e3fc0bb38e3c002276bf0b4e3ac38",  // L1 fixture java, in-app and not-in-app prefixes
    "a76030f364d29625c5a8ccffac6ef6eb",  // L1 fixture java, top 2 frames
    "ae668af13906696be0c5d0c7d355b7ff",  // L1 fixture java, top 1 frame, other service
    "658b4f89d8956f740d532730c975602e",  // L1 fixture java, top 0 frames
    "fb41ba7d88331aa7bdc078da748b148a",  // L1 fixture java, empty service id
    nullptr,                             // L3 fixture java header line alone
    nullptr,                             // L3 fixture java frame line alone
    nullptr,                             // L3 fixture python last line alone
    nullptr,                             // L3 fixture node frame line alone
    "aaa8294da1dcd5f0de47b7826b8df049",  // L1 java deploy a
    "aaa8294da1dcd5f0de47b7826b8df049",  // L1 java deploy b
    "d26fe2ab2733f3b66705676bb5083930",  // L1 java deploy a, in-app prefix for jdk
    "95d73ee61fb5945e3ad7b39ce5c97f51",  // L1 java other crash site
    "f8d23e46a4177b27e628929502360341",  // L1 java no in-app frame
    "dc9f820a29f1ece6f55b6780bf1318d9",  // L1 java thread header and generated names
    "11ee6edea5aba2335305980c3c9fd558",  // L1 java suppressed and caused by
    "ea0c2e745c2d7bcf6396c272b334754d",  // L1 java logback preamble and kotlin frames in message
    "00aa03ebf7c37731cda6987eb48e4146",  // L1 java headerless trace takes the type from the fields
    "694c46952b6b2eb303096e98f04df852",  // L1 python release roots
    "28ee5783f59abcad5531594893d579e8",  // L1 python release roots, stripe in-app
    "917d7f66fdbc8273ef3e6c337bbf0e9b",  // L1 python site-packages, venvs, stdlib
    "0c31f1a27ae3658e9390a9de9323b122",  // L1 python chained exceptions
    "012556ae91fa3c3342fb004a668c5304",  // L1 node async, anonymous, new, file://
    "59c6a9b01472085dc0e3a8d2eab5e06b",  // L1 node async, express and src in-app
    "99594cc78dac49bbc190e5bea54e7c73",  // L1 node Error.cause
    "648bc8568749eb8eaefc17a5a534007c",  // L1 node release directory in message
    "32b2ec8089ea8852697d72f71ed0b2c1",  // L1 go nil pointer panic
    "789936f0bc60fa3e579f144adcc86066",  // L1 go custom panic
    "c90d6e47bc67886a9584e6b126c4f34c",  // L1 go custom panic, net/http in-app
    "a081db05e86a19890c2b92087353dd1a",  // L1 go fatal error
    "96a8e592d6907d6870aadffcd7442ac0",  // L1 go index out of range
    "e86d64bbea707ca5d257cec69b1e5ad5",  // L1 dotnet generic methods and lambda_method
    "7f7418321873140c7f8a802f767da703",  // L1 dotnet, controllers not in-app, System.Linq in-app
    "7dd6da2a6387a79b70464b9bb72c5a3f",  // L1 dotnet inner exceptions and async state machines
    "54eae6d5a4bc0a7567f0cc90f43cd819",  // L1 dotnet windows paths
    "a74e3b3b606e8c3c07e8beff85da3efa",  // L1 ruby interpreter format
    "5c4323c881b3c579091d2e45d15a00d9",  // L1 ruby rails logger format
    "ea50a9a0ba0fae52e70571fcdb825c18",  // L1 ruby release directories and vendored gems
    "494708e8cad0babae63e73b98fac059e",  // L2 level 2 KeyError with a date
    "b31d01570d8bc2b853d646a302c60a39",  // L2 level 2 KeyError, quoted sku
    "934309344ddd3f03d3bd7dad5584ad41",  // L2 level 2 type without message
    "fe32fd9e257db760cce032a272224f03",  // L2 level 2 header-only trace with the exception fields
    "57ed37bb7c4a0ac69af2eec047305ad5",  // L2 level 2 go error type
    nullptr,                             // L3 exception message without type is level 3
    "20eb66d17720728aa6c6d400a3da9112",  // L2 level 2 parameterised placeholders
    "6a0158b61d9409009c40f17dc34f91a0",  // L2 level 2 UTF-8 message
    nullptr,                             // L3 level 3 route
    nullptr,                             // L3 level 3 ratio
    nullptr,                             // L3 level 3 error word without trace
};

bool is_lower_hex_32(const std::string& s) {
  if (s.size() != 32) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("grouping_v1: the fixture traces are there", "[grouping_v1]") {
  for (size_t i = 0; i < 3; ++i) {
    INFO(i);
    CHECK(fixture_trace(i).find('\n') != std::string::npos);
  }
  CHECK(fixture_trace(3).empty());
  CHECK(luffy::grouping_v1::version == 1);
}

TEST_CASE("grouping_v1: legacy_cluster_id gives the cluster ids of fd2f299", "[grouping_v1]") {
  const std::vector<golden_input> inputs = golden_inputs();
  REQUIRE(inputs.size() == std::size(k_golden_ids));
  size_t level_1_or_2 = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const golden_input& c = inputs[i];
    INFO(i << ": " << c.name);
    const std::optional<std::string> id = luffy::grouping_v1::legacy_cluster_id(
        c.record, c.in_app_prefixes, c.not_in_app_prefixes, c.top_frames);
    if (k_golden_ids[i] == nullptr) {
      CHECK_FALSE(id.has_value());
      continue;
    }
    ++level_1_or_2;
    REQUIRE(id.has_value());
    CHECK(is_lower_hex_32(*id));
    CHECK(*id == k_golden_ids[i]);
    // Pure: a second call gives the same id.
    CHECK(luffy::grouping_v1::legacy_cluster_id(c.record, c.in_app_prefixes, c.not_in_app_prefixes,
                                                c.top_frames) == id);
  }
  CHECK(level_1_or_2 >= 25);
}
