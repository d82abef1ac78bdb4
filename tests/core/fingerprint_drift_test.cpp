// Metamorphic fingerprint tests: one event per runtime, rendered from a template; every drift
// transformation (another deploy, host, release, interpreter, library version, generated name,
// recursion depth, record shape) must keep cluster_id, title, exception_type and culprit; every
// "different problem" transformation (another crash site, entry point, module, exception type)
// must change cluster_id.
//
// Templates use {NAME} placeholders (expanded repeatedly, so values may hold placeholders); {L}
// is a line number drawn from the event's line seed. The same classes of drift are generated at
// scale by tests/grouping/drift_corpus.py.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/fingerprint.hpp"

namespace {

using vars = std::map<std::string, std::string>;

std::string expand(std::string text, const vars& v, int line_seed) {
  int n = 0;
  for (int pass = 0; pass < 8; ++pass) {
    std::string out;
    bool changed = false;
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] == '{') {
        const size_t close = text.find('}', i);
        if (close != std::string::npos) {
          const std::string key = text.substr(i + 1, close - i - 1);
          if (key == "L") {
            out += std::to_string(10 + (line_seed * 37 + n++ * 53) % 900);
            changed = true;
            i = close + 1;
            continue;
          }
          if (auto it = v.find(key); it != v.end()) {
            out += it->second;
            changed = true;
            i = close + 1;
            continue;
          }
        }
      }
      out += text[i++];
    }
    text = std::move(out);
    if (!changed) {
      break;
    }
  }
  return text;
}

// How one event reaches the server. Templates over the event's variables (TRACE, HEADER, FRAMES,
// TYPE, MSG, ...); fields = exception_type / exception_message are set from TYPE / MSG.
struct shape {
  const char* name;
  const char* message;
  const char* stack_trace;
  bool fields;
};

const shape k_common_shapes[] = {
    {"fields with the full trace", "request failed", "{TRACE}", true},
    {"fields with a headerless trace", "request failed", "{FRAMES}", true},
    {"trace embedded in message", "{TRACE}", "", false},
    {"embedded after a logger line",
     "2026-12-04 10:00:00,123 ERROR [worker-3] request failed\n{TRACE}", "", false},
};

struct transform {
  const char* name;
  vars set;
};

struct event_case {
  const char* name;
  vars base;
  std::vector<shape> shapes;        // language-specific shapes, besides k_common_shapes
  std::vector<transform> drifts;    // must keep the cluster
  std::vector<transform> problems;  // must change the cluster
  // False when the frames alone cannot name the root cause (a .NET chain: the inner exceptions'
  // types are only in the header line), so the frames-only shape is a different event.
  bool headerless = true;
};

luffy::log_record render(const event_case& c, const shape& s, const vars& over, int seed) {
  vars v = c.base;
  for (const auto& [k, val] : over) {
    v[k] = val;
  }
  luffy::log_record r;
  r.service_id = "shop";
  r.level = "ERROR";
  r.hostname = "web-1";
  r.message = expand(s.message, v, seed);
  r.stack_trace = expand(s.stack_trace, v, seed);
  if (s.fields) {
    r.exception_type = expand("{TYPE}", v, seed);
    r.exception_message = expand("{MSG}", v, seed);
  }
  return r;
}

std::vector<event_case> cases() {
  std::vector<event_case> out;

  // ---------------------------------------------------------------------------------- Java
  out.push_back(
      {"java",
       {{"TYPE", "java.lang.IllegalStateException"},
        {"MSG", "Order {ID} not found in repository"},
        {"ID", "42"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{HEADER}\n{FRAMES}"},
        {"FRAMES",
         "\tat com.acme.orders.{CLS}.{FN}({CLS}.java:{L}) ~[{APPJAR}]\n"
         "\tat {PROXY}.findById(Unknown Source) ~[na:na]\n"
         "\tat com.acme.orders.OrderService{CGLIB}.load(OrderService.java:{L}) ~[{APPJAR}]\n"
         "\tat {REFLECT}.GeneratedMethodAccessor{ACC}.invoke(Unknown Source) ~[na:na]\n"
         "\tat {JBASE}java.lang.reflect.Method.invoke(Method.java:{L}) ~[na:na]\n"
         "\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke("
         "InvocableHandlerMethod.java:{L}) ~[spring-web-{SPRINGV}.jar:{SPRINGV}]\n"
         "\tat com.acme.orders.{ENTRY}.lambda$handle${LN}({ENTRY}.java:{L}) ~[{APPJAR}]\n"
         "\tat com.acme.orders.{ENTRY}$$Lambda{LAMBDA}.apply(Unknown Source) ~[{APPJAR}]\n"
         "\tat {JBASE}java.lang.Thread.run(Thread.java:{L}) ~[na:na]"},
        {"CLS", "OrderRepository"},
        {"FN", "findById"},
        {"ENTRY", "OrderController"},
        {"APPJAR", "app.jar:1.0"},
        {"PROXY", "jdk.proxy2.$Proxy45"},
        {"CGLIB", "$$EnhancerBySpringCGLIB$$5f1a2b"},
        {"REFLECT", "jdk.internal.reflect"},
        {"ACC", "12"},
        {"JBASE", "java.base/"},
        {"SPRINGV", "5.3.20"},
        {"LN", "0"},
        {"LAMBDA", "$123/0x0000000800c4b440"}},
       {{"spring boot line prefix",
         "2026-12-04 10:00:00.123 ERROR 1 --- [nio-8080-exec-1] c.a.o.OrderController : Request "
         "failed: {HEADER}\n{FRAMES}",
         "", false},
        {"exception in thread", "Exception in thread \"main\" {TRACE}", "", false},
        {"logback prefix on the header",
         "10:00:00.123 [http-nio-8080-exec-7] ERROR com.acme.orders.OrderController - {HEADER}\n"
         "{FRAMES}",
         "", false}},
       {{"other ids", {{"ID", "977"}}},
        {"jar versions", {{"APPJAR", "classes!/:0.0.2-SNAPSHOT"}, {"SPRINGV", "5.3.31"}}},
        {"JDK 8", {{"JBASE", ""}, {"REFLECT", "sun.reflect"}, {"PROXY", "com.sun.proxy.$Proxy12"}}},
        {"JDK 17 module version", {{"JBASE", "java.base@17.0.2/"}}},
        {"generated names",
         {{"CGLIB", "$$SpringCGLIB$$0"},
          {"ACC", "57"},
          {"LN", "2"},
          {"LAMBDA", "$871/0x0000000801a2c000"},
          {"PROXY", "jdk.proxy3.$Proxy231"}}},
        {"JDK 21 hidden lambda class", {{"LAMBDA", "/0x00007f3c1c0a1238"}}}},
       {{"other crash function", {{"FN", "findAll"}}},
        {"other crash class", {{"CLS", "InvoiceRepository"}}},
        {"other entry point", {{"ENTRY", "AdminController"}}},
        {"other type", {{"TYPE", "java.lang.IllegalArgumentException"}}}}});

  // ---------------------------------------------------------------------------------- Python
  out.push_back(
      {"python",
       {{"TYPE", "ValueError"},
        {"MSG", "invalid literal for int() with base 10: '{ID}.50'"},
        {"ID", "12"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{FRAMES}\n{HEADER}"},
        {"FRAMES",
         "Traceback (most recent call last):\n"
         "  File \"{PYLIB}/flask/app.py\", line {L}, in full_dispatch_request\n"
         "    rv = self.dispatch_request()\n"
         "  File \"{PROOT}/shop/views.py\", line {L}, in {ENTRY}\n"
         "    return orders.place(request.json)\n"
         "  File \"{PROOT}/shop/orders.py\", line {L}, in place\n"
         "    return pricing.total(cart)\n"
         "  File \"{PROOT}/shop/pricing.py\", line {L}, in total\n"
         "    return sum_lines(cart)\n"
         "{REC}"
         "  File \"{PROOT}/shop/pricing.py\", line {L}, in sum_lines\n"
         "    return billing.charge(cart)\n"
         "  File \"{PROOT}/shop/{MOD}.py\", line {L}, in {FN}\n"
         "    amounts = [parse(x) for x in items]\n"
         "{LISTCOMP}"
         "  File \"{PROOT}/shop/{MOD}.py\", line {L}, in parse\n"
         "    return int(x)\n"
         "           ^^^^^^"},
        {"REC",
         "  File \"{PROOT}/shop/pricing.py\", line {L}, in walk\n    return walk(node.parent)\n"},
        {"LISTCOMP",
         "  File \"{PROOT}/shop/{MOD}.py\", line {L}, in <listcomp>\n"
         "    amounts = [parse(x) for x in items]\n"},
        {"PYLIB", "/usr/local/lib/python3.11/site-packages"},
        {"PROOT", "/app"},
        {"ENTRY", "checkout"},
        {"MOD", "billing"},
        {"FN", "charge"}},
       {{"celery task line",
         "Task shop.tasks.charge_order[0f8e2a4c-55b1-4f7e-9d0a-3c2b1a09e8d7] raised unexpected: "
         "{TYPE}(\"{MSG}\")\n{TRACE}",
         "", false},
        {"server banner",
         "[2026-12-04 10:00:00 +0000] [7] [ERROR] Error handling request /orders\n{TRACE}", "",
         false}},
       {{"other ids", {{"ID", "7"}}},
        {"venv in /opt, Python 3.12 (comprehension inlined)",
         {{"PYLIB", "/opt/venv/lib/python3.12/site-packages"}, {"LISTCOMP", ""}}},
        {"virtualenvwrapper",
         {{"PYLIB", "/home/deploy/.virtualenvs/shop/lib/python3.11/site-packages"}}},
        {"Debian dist-packages", {{"PYLIB", "/usr/lib/python3/dist-packages"}}},
        {"release directory", {{"PROOT", "/srv/shop/releases/20260801120000"}}},
        {"checkout in a home directory", {{"PROOT", "/home/deploy/shop"}}},
        {"docker /usr/src/app", {{"PROOT", "/usr/src/app"}}},
        {"capistrano current", {{"PROOT", "/opt/shop/current"}}},
        {"deeper recursion",
         {{"REC",
           "  File \"{PROOT}/shop/pricing.py\", line {L}, in walk\n    return walk(node.parent)\n"
           "  File \"{PROOT}/shop/pricing.py\", line {L}, in walk\n    return walk(node.parent)\n"
           "  File \"{PROOT}/shop/pricing.py\", line {L}, in walk\n    return "
           "walk(node.parent)\n"}}}},
       {{"other entry point (deep)", {{"ENTRY", "refund"}}},
        {"other crash function", {{"FN", "capture"}}},
        {"same function in another module", {{"MOD", "payments"}}},
        {"other type", {{"TYPE", "TypeError"}}}}});

  // ---------------------------------------------------------------- Python, chained exception
  // The root cause (printed first) has a traceback from the frame that caught it; the entry
  // point is only in the outer traceback.
  out.push_back(
      {"python chain",
       {{"TYPE", "shop.errors.UpstreamError"},
        {"MSG", "payment gateway failed for order {ID}"},
        {"ID", "42"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{FRAMES}\n{HEADER}"},
        {"FRAMES",
         "Traceback (most recent call last):\n"
         "  File \"{PROOT}/shop/http.py\", line {L}, in fetch\n"
         "    return session.get(url, timeout=5)\n"
         "  File \"{PYLIB}/requests/sessions.py\", line {L}, in get\n"
         "    return self.request(\"GET\", url, **kwargs)\n"
         "  File \"{PYLIB}/requests/adapters.py\", line {L}, in send\n"
         "    raise ConnectionError(e, request=request)\n"
         "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pay.acme.io', port=443): "
         "Max retries exceeded\n"
         "\n"
         "{LINK}\n"
         "\n"
         "Traceback (most recent call last):\n"
         "  File \"{PYLIB}/flask/app.py\", line {L}, in full_dispatch_request\n"
         "    rv = self.dispatch_request()\n"
         "  File \"{PROOT}/shop/views.py\", line {L}, in {ENTRY}\n"
         "    return pay(order)\n"
         "  File \"{PROOT}/shop/http.py\", line {L}, in fetch\n"
         "    raise UpstreamError(f\"payment gateway failed for order {{order.id}}\")"},
        {"LINK", "During handling of the above exception, another exception occurred:"},
        {"PYLIB", "/usr/local/lib/python3.11/site-packages"},
        {"PROOT", "/app"},
        {"ENTRY", "checkout"}},
       {{"indented behind a logger prefix",
         "2026-12-04 10:00:00,123 ERROR shop.views: Unhandled Traceback (most recent call last):\n"
         "{INDENTED}",
         "", false}},
       {{"raise from",
         {{"LINK", "The above exception was the direct cause of the following exception:"}}},
        {"other roots",
         {{"PROOT", "/home/deploy/shop"}, {"PYLIB", "/opt/venv/lib/python3.12/site-packages"}}}},
       {{"other entry point", {{"ENTRY", "refund"}}}}});
  {
    // The same traceback, every line indented by two (as some loggers print it), its first line
    // behind the logger's prefix.
    event_case& c = out.back();
    std::string rest = c.base["FRAMES"] + "\n{HEADER}";
    rest = rest.substr(rest.find('\n') + 1);
    std::string indented = "  ";
    for (char ch : rest) {
      indented += ch;
      if (ch == '\n') {
        indented += "  ";
      }
    }
    c.base["INDENTED"] = indented;
  }

  // ---------------------------------------------------------------------------------- Node.js
  out.push_back(
      {"node",
       {{"TYPE", "TypeError"},
        {"MSG", "Cannot read properties of undefined (reading 'id')"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{HEADER}\n{FRAMES}"},
        {"FRAMES",
         "    at {FN} ({NROOT}/src/lib/{MOD}.js:{L}:{L})\n"
         "    at validate ({NROOT}/public/build/checkout{WPH}.js:1:{L})\n"
         "    at async {ENTRY} ({NROOT}/src/routes/orders.js:{L}:{L})\n"
         "    at async Promise.all (index {IDX})\n"
         "    at Layer.handle [as handle_request] "
         "({NROOT}/node_modules/{NEST}express/lib/router/layer.js:{L}:{L})\n"
         "    at process.processTicksAndRejections (node:internal/process/task_queues:{L}:{L})"},
        {"FN", "getUser"},
        {"MOD", "users"},
        {"ENTRY", "createOrder"},
        {"NROOT", "/app"},
        {"NEST", ""},
        {"IDX", "0"},
        {"WPH", ".3f2a9c1b"}},
       {{"express prefix", "Error handling POST /orders/991 -> {HEADER}\n{FRAMES}", "", false},
        {"uncaught", "Uncaught {HEADER}\n{FRAMES}", "", false},
        {"pino prefix on the header",
         "[10:00:00.123] ERROR (shop/42): request failed {HEADER}\n{FRAMES}", "", false}},
       {{"release directory", {{"NROOT", "/srv/shop/releases/2026-08-01T10-00-00"}}},
        {"docker /usr/src/app", {{"NROOT", "/usr/src/app"}}},
        {"node image /home/node/app", {{"NROOT", "/home/node/app"}}},
        {"checkout in /srv", {{"NROOT", "/srv/gateway"}}},
        {"nested node_modules", {{"NEST", "body-parser/node_modules/"}}},
        {"pnpm store", {{"NEST", ".pnpm/express@4.18.2/node_modules/"}}},
        {"webpack chunk hash", {{"WPH", ".9be07d4e"}}},
        {"promise index", {{"IDX", "3"}}}},
       {{"other crash function", {{"FN", "getOrder"}}},
        {"same function in another module", {{"MOD", "accounts"}}},
        {"other entry point", {{"ENTRY", "refundOrder"}}},
        {"other type", {{"TYPE", "RangeError"}}}}});

  // ----------------------------------------------------------- Node.js, Error.cause chain
  // The root cause (the innermost [cause]) was created inside undici: only runtime frames. The
  // application's call path is in the outer error's stack.
  out.push_back(
      {"node cause",
       {{"TYPE", "Error"},
        {"MSG", "failed to load rates for order {ID}"},
        {"ID", "42"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{HEADER}\n{FRAMES}"},
        {"FRAMES",
         "    at loadRates ({NROOT}/src/lib/rates.js:{L}:{L})\n"
         "    at async {ENTRY} ({NROOT}/src/routes/orders.js:{L}:{L}) {\n"
         "  [cause]: TypeError: fetch failed\n"
         "      at node:internal/deps/undici/undici:{L}:{L}\n"
         "      at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {\n"
         "    [cause]: Error: connect ECONNREFUSED 10.0.0.{ID}:443\n"
         "        at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{L}:{L}) {\n"
         "      errno: -111,\n"
         "      code: 'ECONNREFUSED'\n"
         "    }\n"
         "  }\n"
         "}"},
        {"ENTRY", "createOrder"},
        {"NROOT", "/app"}},
       {},
       {{"other ids", {{"ID", "7"}}}, {"docker /usr/src/app", {{"NROOT", "/usr/src/app"}}}},
       {{"other entry point", {{"ENTRY", "refundOrder"}}}}});

  // ---------------------------------------------------------------------------------- Go
  out.push_back(
      {"go",
       {{"TYPE", "runtime.Error"},
        {"MSG", "index out of range [{ID}] with length 3"},
        {"GOMSG", "runtime error: {MSG}"},
        {"ID", "5"},
        {"TRACE", "panic: {GOMSG}\n\ngoroutine {GID} [running]:\n{GOFRAMES}\nexit status 2"},
        {"FRAMES", "goroutine {GID} [running]:\n{GOFRAMES}"},
        {"GOFRAMES",
         "github.com/acme/shop/internal/{MOD}.(*Cart).{FN}({ARGS})\n"
         "\t{GROOT}/internal/{MOD}/cart.go:{L} +0x1d\n"
         "github.com/acme/shop/internal/api.{ENTRY}({ARGS})\n"
         "\t{GROOT}/internal/api/handlers.go:{L} +0x{HX}\n"
         "net/http.HandlerFunc.ServeHTTP(0xc000120000?, {0x7f1e20?, 0xc0001a2000?}, 0x0?)\n"
         "\t/usr/local/go/src/net/http/server.go:{L} +0x29\n"
         "github.com/go-chi/chi/v5.(*Mux).routeHTTP(0xc000092060, {0x7f1e20, 0xc0001a2000}, "
         "0xc00019e000)\n"
         "\t{GOMOD}/github.com/go-chi/chi/v5@v{CHIV}/mux.go:{L} +0x1a4"},
        {"MOD", "cart"},
        {"FN", "Item"},
        {"ENTRY", "CreateOrder"},
        {"ARGS", "0xc000010000, 0x5"},
        {"GID", "1"},
        {"HX", "2f"},
        {"GROOT", "/app"},
        {"GOMOD", "/root/go/pkg/mod"},
        {"CHIV", "5.0.10"}},
       {{"net/http recovered panic",
         "2026/12/04 10:00:00 http: panic serving 10.0.0.5:51234: {GOMSG}\n"
         "goroutine 33 [running]:\n"
         "net/http.(*conn).serve.func1()\n"
         "\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n"
         "panic({0x6c6f40?, 0xc000018108?})\n"
         "\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
         "{GOFRAMES}",
         "", false},
        {"recover middleware with debug.Stack", "panic recovered",
         "goroutine 21 [running]:\n"
         "runtime/debug.Stack()\n"
         "\t/usr/local/go/src/runtime/debug/stack.go:24 +0x5e\n"
         "github.com/acme/shop/internal/api.Recover.func1()\n"
         "\t{GROOT}/internal/api/middleware.go:{L} +0x6b\n"
         "panic({0x6c6f40?, 0xc000018108?})\n"
         "\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
         "{GOFRAMES}",
         true}},
       {{"other ids and pointers",
         {{"ID", "9"}, {"ARGS", "0xc0000a2000, 0x9"}, {"GID", "7"}, {"HX", "31"}}},
        {"build directories", {{"GROOT", "/home/ci/builds/1234/shop"}}},
        {"module versions", {{"CHIV", "5.0.12"}, {"GOMOD", "/home/app/go/pkg/mod"}}}},
       {{"other crash function", {{"FN", "Remove"}}},
        {"other package", {{"MOD", "basket"}}},
        {"other entry point", {{"ENTRY", "RefundOrder"}}},
        {"other panic",
         {{"GOMSG", "order store closed"}, {"TYPE", "panic"}, {"MSG", "order store closed"}}}}});

  // ---------------------------------------------------------------------------------- .NET
  out.push_back(
      {"dotnet",
       {{"TYPE", "System.InvalidOperationException"},
        {"MSG", "Order {ID} could not be placed"},
        {"ID", "42"},
        {"HEADER", "{TYPE}: {MSG}"},
        {"TRACE", "{HEADER}\n{FRAMES}"},
        {"FRAMES",
         "   at Acme.Orders.{CLS}.{ASYNC} in {DROOT}/Acme.Orders/{CLS}.cs:line {L}\n"
         "--- End of stack trace from previous location ---\n"
         "   at System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)\n"
         "   at Acme.Orders.Api.<>c__DisplayClass{DC}.<{ENTRY}>b__{B}(HttpContext ctx) in "
         "{DROOT}/Acme.Orders/Api.cs:line {L}\n"
         "   at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)"},
        {"ASYNC", "<{FN}>d__{D}.MoveNext()"},
        {"CLS", "OrderService"},
        {"FN", "PlaceAsync"},
        {"ENTRY", "MapOrders"},
        {"D", "5"},
        {"DC", "2_0"},
        {"B", "0"},
        {"DROOT", "/src"}},
       {{"unhandled", "Unhandled exception. {HEADER}\n{FRAMES}", "", false},
        {"serilog prefix on the header", "[10:00:00 ERR] Request failed {HEADER}\n{FRAMES}", "",
         false}},
       {{"other build counters", {{"D", "7"}, {"DC", "3_1"}, {"B", "2_1"}}},
        {"windows build agent", {{"DROOT", "C:\\agent\\_work\\1\\s"}}},
        {"runtime that prints async methods by name", {{"ASYNC", "{FN}(Order order)"}}},
        {"mono IL offsets",
         {{"FRAMES",
           "  at Acme.Orders.{CLS}.<{FN}>d__{D}.MoveNext () [0x0001a] in "
           "<8f2c3e1d4b5a4c3e8d2f1a0b9c8d7e6f>:0\n"
           "  at Acme.Orders.Api.<>c__DisplayClass{DC}.<{ENTRY}>b__{B} (HttpContext ctx) "
           "[0x00007] in <8f2c3e1d4b5a4c3e8d2f1a0b9c8d7e6f>:0\n"
           "  at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke (HttpContext "
           "httpContext) [0x00000] in <1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6>:0"}}}},
       {{"other crash method", {{"FN", "CancelAsync"}}},
        {"other crash class", {{"CLS", "InvoiceService"}}},
        {"other entry point", {{"ENTRY", "MapAdmin"}}},
        {"other type", {{"TYPE", "System.ArgumentNullException"}}}}});

  // ------------------------------------------------------------------- .NET, inner exceptions
  // The innermost exception's frames end at the frame that wrapped it; the entry point is in the
  // outer frames. .NET Core prints each inner exception on its own line, .NET Framework inline.
  out.push_back(
      {"dotnet inner",
       {{"TYPE", "Acme.DataException"},
        {"MSG", "Saving order {ID} failed"},
        {"ID", "42"},
        {"HEADER", "{TYPE}: {MSG}{INNER}"},
        {"INNER",
         "\n ---> Npgsql.NpgsqlException (0x80004005): Exception while connecting\n"
         " ---> System.Net.Sockets.SocketException (111): Connection refused"},
        {"TRACE", "{HEADER}\n{FRAMES}"},
        {"FRAMES",
         "   at System.Net.Sockets.Socket.Connect(EndPoint remoteEP)\n"
         "   at Npgsql.NpgsqlConnector.Open(NpgsqlTimeout timeout)\n"
         "   --- End of inner exception stack trace ---\n"
         "   at Npgsql.NpgsqlConnector.Open(NpgsqlTimeout timeout)\n"
         "   at Acme.Orders.OrderRepository.Save(Order o) in {DROOT}/OrderRepository.cs:line {L}\n"
         "   --- End of inner exception stack trace ---\n"
         "   at Acme.Orders.OrderRepository.Save(Order o) in {DROOT}/OrderRepository.cs:line {L}\n"
         "   at Acme.Orders.Api.{ENTRY}(Order o) in {DROOT}/Api.cs:line {L}\n"
         "   at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)"},
        {"ENTRY", "Post"},
        {"DROOT", "/src/Acme.Orders"}},
       {},
       {{".NET Framework inline inner exceptions",
         {{"INNER",
           " ---> Npgsql.NpgsqlException: Exception while connecting ---> "
           "System.Net.Sockets.SocketException: Connection refused"}}},
        {"windows build agent", {{"DROOT", "D:\\a\\1\\s\\Acme.Orders"}}}},
       {{"other entry point", {{"ENTRY", "Put"}}}}});
  out.back().headerless = false;

  // ---------------------------------------------------------------------------------- Ruby
  out.push_back(
      {"ruby",
       {{"TYPE", "Orders::NotFound"},
        {"MSG", "Order {ID} not found"},
        {"ID", "7"},
        {"HEADER", "{TYPE} ({MSG}):"},
        {"F1", "{RR}app/models/{MOD}.rb:{L}:in {Q}{FNPFX}{FN}'"},
        {"REST",
         "{RR}app/views/orders/show.html.erb:{L}:in {Q}_app_views_orders_show_html_erb__{ERB}'\n"
         "{GEMS}/actionview-{RAILSV}/lib/action_view/template.rb:{L}:in {Q}block in render'\n"
         "{RR}app/controllers/orders_controller.rb:{L}:in {Q}{ENTRYPFX}{ENTRY}'\n"
         "{GEMS}/actionpack-{RAILSV}/lib/abstract_controller/base.rb:{L}:in {Q}process_action'"},
        {"REST_FROM",
         "\tfrom {RR}app/views/orders/show.html.erb:{L}:in "
         "{Q}_app_views_orders_show_html_erb__{ERB}'\n"
         "\tfrom {GEMS}/actionview-{RAILSV}/lib/action_view/template.rb:{L}:in {Q}block in "
         "render'\n"
         "\tfrom {RR}app/controllers/orders_controller.rb:{L}:in {Q}{ENTRYPFX}{ENTRY}'\n"
         "\tfrom {GEMS}/actionpack-{RAILSV}/lib/abstract_controller/base.rb:{L}:in "
         "{Q}process_action'"},
        {"FRAMES", "{F1}\n{REST}"},
        {"TRACE", "{F1}: {MSG} ({TYPE})\n{REST_FROM}"},
        {"RR", "/app/"},
        {"MOD", "order"},
        {"FN", "find!"},
        {"ENTRY", "show"},
        {"Q", "`"},
        {"FNPFX", ""},
        {"ENTRYPFX", ""},
        {"ERB", "3169824812917355624_47323436521400"},
        {"GEMS", "/usr/local/bundle/gems"},
        {"RAILSV", "7.1.2"}},
       {{"rails log", "{HEADER}\n\n{FRAMES}", "", false},
        {"rails log with a logger prefix",
         "E, [2026-12-04T10:00:00.123456 #1234] ERROR -- : [9f2c1a] {HEADER}\n{FRAMES}", "",
         false}},
       {{"relative paths (backtrace cleaner)", {{"RR", ""}}},
        {"capistrano release", {{"RR", "/srv/shop/releases/20260801120000/"}}},
        {"rails docker image", {{"RR", "/rails/"}}},
        {"checkout in /var/www", {{"RR", "/var/www/shop/"}}},
        {"rbenv gems", {{"GEMS", "/home/deploy/.rbenv/versions/3.3.0/lib/ruby/gems/3.3.0/gems"}}},
        {"bundler path",
         {{"GEMS", "/srv/shop/shared/bundle/ruby/3.3.0/gems"}, {"RAILSV", "7.1.3.4"}}},
        {"template counters", {{"ERB", "1214433019840302934_61240"}}},
        {"Ruby 3.4 labels", {{"Q", "'"}, {"FNPFX", "Order."}, {"ENTRYPFX", "OrdersController#"}}}},
       {{"other crash method", {{"FN", "reload!"}}},
        {"other model", {{"MOD", "invoice"}}},
        {"other action", {{"ENTRY", "update"}}},
        {"other type", {{"TYPE", "ActiveRecord::RecordNotFound"}}}}});
  return out;
}

struct result {
  luffy::fingerprint fp;
  std::string what;
};

luffy::fingerprint fingerprint_of(const luffy::log_record& r) {
  return luffy::compute_fingerprint(r, luffy::clustering_options{}, nullptr);
}

std::vector<shape> all_shapes(const event_case& c) {
  std::vector<shape> s;
  for (const shape& x : k_common_shapes) {
    if (c.headerless || &x != &k_common_shapes[1]) {
      s.push_back(x);
    }
  }
  s.insert(s.end(), c.shapes.begin(), c.shapes.end());
  return s;
}

void check_same(const luffy::fingerprint& base, const luffy::fingerprint& fp) {
  CHECK(fp.level == 1);
  CHECK(fp.title == base.title);
  CHECK(fp.exception_type == base.exception_type);
  CHECK(fp.culprit == base.culprit);
  CHECK(fp.key == base.key);
  CHECK(fp.cluster_id == base.cluster_id);
}

}  // namespace

TEST_CASE("drift: every shape of one event gives one cluster, title, type and culprit",
          "[fingerprint][drift]") {
  for (const event_case& c : cases()) {
    const luffy::fingerprint base = fingerprint_of(render(c, k_common_shapes[0], {}, 1));
    REQUIRE(base.level == 1);
    CHECK_FALSE(base.culprit.empty());
    for (const shape& s : all_shapes(c)) {
      INFO(c.name << " / " << s.name);
      check_same(base, fingerprint_of(render(c, s, {}, 1)));
    }
  }
}

TEST_CASE("drift: deploys, hosts, versions and generated names keep the cluster",
          "[fingerprint][drift]") {
  for (const event_case& c : cases()) {
    const luffy::fingerprint base = fingerprint_of(render(c, k_common_shapes[0], {}, 1));
    {
      INFO(c.name << " / other line numbers");
      check_same(base, fingerprint_of(render(c, k_common_shapes[0], {}, 2)));
    }
    for (const transform& t : c.drifts) {
      // Every drift in every shape, so a fix for one shape cannot hide a miss in another.
      for (const shape& s : all_shapes(c)) {
        INFO(c.name << " / " << t.name << " / " << s.name);
        check_same(base, fingerprint_of(render(c, s, t.set, 3)));
      }
    }
  }
}

TEST_CASE("drift: all drifts at once keep the cluster", "[fingerprint][drift]") {
  for (const event_case& c : cases()) {
    const luffy::fingerprint base = fingerprint_of(render(c, k_common_shapes[0], {}, 1));
    vars all;
    for (const transform& t : c.drifts) {
      for (const auto& [k, v] : t.set) {
        all[k] = v;
      }
    }
    for (const shape& s : all_shapes(c)) {
      INFO(c.name << " / all drifts / " << s.name);
      check_same(base, fingerprint_of(render(c, s, all, 4)));
    }
  }
}

TEST_CASE("drift: a different problem is a different cluster, in every shape",
          "[fingerprint][drift]") {
  for (const event_case& c : cases()) {
    const luffy::fingerprint base = fingerprint_of(render(c, k_common_shapes[0], {}, 1));
    for (const transform& t : c.problems) {
      for (const shape& s : all_shapes(c)) {
        INFO(c.name << " / " << t.name << " / " << s.name);
        const luffy::fingerprint fp = fingerprint_of(render(c, s, t.set, 1));
        CHECK(fp.level == 1);
        CHECK(fp.cluster_id != base.cluster_id);
      }
    }
  }
}

TEST_CASE("drift: the same problem in another service is another cluster", "[fingerprint][drift]") {
  for (const event_case& c : cases()) {
    luffy::log_record r = render(c, k_common_shapes[0], {}, 1);
    const luffy::fingerprint a = fingerprint_of(r);
    r.service_id = "shop-admin";
    CHECK(fingerprint_of(r).cluster_id != a.cluster_id);
  }
}
