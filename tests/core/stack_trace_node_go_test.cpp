#include <catch2/catch.hpp>

#include "core/stack_trace.hpp"

TEST_CASE("node: the fixture trace", "[stack_trace][node]") {
  const char* trace =
      "TypeError: Cannot read properties of undefined (reading 'id')\n"
      "    at getUser (/app/src/routes/users.js:42:18)\n"
      "    at Layer.handle [as handle_request] "
      "(/app/node_modules/express/lib/router/layer.js:95:5)\n"
      "    at next (/app/node_modules/express/lib/router/route.js:149:13)\n"
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";
  const auto info = luffy::parse_node_trace(trace);
  REQUIRE(info);
  CHECK(info->language == "node");
  REQUIRE(info->chain.size() == 1);
  const auto& l = info->chain[0];
  CHECK(l.type == "TypeError");
  CHECK(l.message == "Cannot read properties of undefined (reading 'id')");
  REQUIRE(l.frames.size() == 4);
  CHECK(l.frames[0].function == "getUser");
  CHECK(l.frames[0].module == "src/routes/users");
  CHECK(l.frames[0].line == 42);
  CHECK(l.frames[1].function == "Layer.handle");
  CHECK(l.frames[1].module == "express/lib/router/layer");
  CHECK(l.frames[3].module == "node:internal/process/task_queues");
}

TEST_CASE("node: async, anonymous, new, file:// and release directories", "[stack_trace][node]") {
  const char* trace =
      "Error: connect ECONNREFUSED 10.0.0.7:6379\n"
      "    at async OrderService.place (/srv/app/releases/2024-03-01T10-00-00/src/orders.js:10:5)\n"
      "    at /srv/app/releases/2024-03-01T10-00-00/src/server.js:77:12\n"
      "    at new Repo (file:///srv/app/current/src/repo.mjs:3:7)\n"
      "    at async Promise.all (index 0)\n"
      "{ code: 'ECONNREFUSED' }\n";
  const auto info = luffy::parse_node_trace(trace);
  REQUIRE(info);
  const auto& l = info->chain[0];
  CHECK(l.type == "Error");
  REQUIRE(l.frames.size() == 4);
  CHECK(l.frames[0].function == "OrderService.place");
  CHECK(l.frames[0].module == "src/orders");
  CHECK(l.frames[1].function == "<anonymous>");
  CHECK(l.frames[1].module == "src/server");
  CHECK(l.frames[1].line == 77);
  CHECK(l.frames[2].function == "new Repo");
  CHECK(l.frames[2].module == "src/repo");
  CHECK(l.frames[3].function == "Promise.all");
  CHECK(l.frames[3].file == "index 0");
}

TEST_CASE("node: Error.cause printed by util.inspect is the root cause", "[stack_trace][node]") {
  const char* trace =
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
      "    at not (/a/frame.js:1:1)\n";
  const auto info = luffy::parse_node_trace(trace);
  REQUIRE(info);
  REQUIRE(info->chain.size() == 2);
  CHECK(info->chain[0].message == "checkout failed");
  REQUIRE(info->chain[0].frames.size() == 2);
  CHECK(info->chain[0].frames[1].function == "handler");
  CHECK(info->chain[0].frames[1].module == "src/server");
  CHECK(info->root_cause()->message == "connect ECONNREFUSED 10.0.0.7:5432");
  REQUIRE(info->root_cause()->frames.size() == 1);
  CHECK(info->root_cause()->frames[0].module == "node:net");
  CHECK(info->root_cause()->frames[0].function == "TCPConnectWrap.afterConnect");
}

TEST_CASE("go: nil pointer panic with goroutine trace", "[stack_trace][go]") {
  const char* trace =
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
  const auto info = luffy::parse_go_trace(trace);
  REQUIRE(info);
  CHECK(info->language == "go");
  const auto& l = info->chain.at(0);
  CHECK(l.type == "runtime.Error");
  CHECK(l.message == "invalid memory address or nil pointer dereference");
  REQUIRE(l.frames.size() == 3);
  CHECK(l.frames[0].module == "github.com/acme/shop/internal/db");
  CHECK(l.frames[0].function == "(*Store).Get");
  CHECK(l.frames[0].file == "/home/ci/work/shop/internal/db/store.go");
  CHECK(l.frames[0].line == 42);
  CHECK(l.frames[1].module == "main");
  CHECK(l.frames[1].function == "main.func1");
}

TEST_CASE("go: custom panic, only the panicking goroutine is parsed", "[stack_trace][go]") {
  const char* trace =
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
  const auto info = luffy::parse_go_trace(trace);
  REQUIRE(info);
  const auto& l = info->chain.at(0);
  CHECK(l.type == "panic");
  CHECK(l.message == "order 42: invalid state \"shipped\"");
  REQUIRE(l.frames.size() == 3);
  CHECK(l.frames[0].module == "runtime");
  CHECK(l.frames[0].function == "panic");
  CHECK(l.frames[1].module == "net/http");
  CHECK(l.frames[1].function == "(*conn).serve.func1");
  CHECK(l.frames[2].module == "github.com/acme/shop/orders");
  CHECK(l.frames[2].function == "Ship");
  CHECK(l.frames[2].line == 88);
}

TEST_CASE("go: fatal error", "[stack_trace][go]") {
  const auto info = luffy::parse_go_trace(
      "fatal error: concurrent map writes\n\ngoroutine 7 [running]:\n"
      "main.worker(0xc0000b4000)\n\t/app/worker.go:30 +0x45\n");
  REQUIRE(info);
  CHECK(info->chain.at(0).type == "fatal error");
  CHECK(info->chain.at(0).message == "concurrent map writes");
  REQUIRE(info->chain.at(0).frames.size() == 1);
  CHECK(info->chain.at(0).frames[0].function == "worker");
}

TEST_CASE("node: system error codes after the name, prefixed headers", "[stack_trace][node]") {
  const auto info = luffy::parse_node_trace(
      "TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type string\n"
      "    at readFile (/app/src/files.js:10:3)\n"
      "    at async Promise.all (index 2)\n");
  REQUIRE(info);
  CHECK(info->chain.at(0).type == "TypeError");
  CHECK(info->chain.at(0).message == "The \"path\" argument must be of type string");
  REQUIRE(info->chain.at(0).frames.size() == 2);
  CHECK(info->chain.at(0).frames[1].module.empty());
  CHECK(info->chain.at(0).frames[1].function == "Promise.all");
  const auto prefixed = luffy::parse_node_trace(
      "Error handling POST /orders/991 -> RangeError: Invalid array length\n"
      "    at build (/srv/shop/releases/2026-08-01T10-00-00/dist/main.3f2a9c1b.js:1:2231)\n");
  REQUIRE(prefixed);
  CHECK(prefixed->chain.at(0).type == "RangeError");
  CHECK(prefixed->chain.at(0).frames.at(0).module == "dist/main");
}

TEST_CASE("go: headers behind prefixes and runtime errors named from fields", "[stack_trace][go]") {
  const auto served = luffy::parse_go_trace(
      "2026/12/04 10:00:00 http: panic serving 10.0.0.5:51234: runtime error: index out of range "
      "[5] with length 3\ngoroutine 33 [running]:\nmain.main()\n\t/app/main.go:9 +0x1\n");
  REQUIRE(served);
  CHECK(served->chain.at(0).type == "runtime.Error");
  CHECK(served->chain.at(0).message == "index out of range [5] with length 3");
  luffy::log_record r;
  r.stack_trace = "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:9 +0x1\n";
  r.exception_type = "panic";
  r.exception_message = "runtime error: index out of range [5] with length 3";
  const auto ex = luffy::extract_exception(r, luffy::frame_rules{});
  REQUIRE(ex.root_cause());
  CHECK(ex.root_cause()->type == "runtime.Error");
  CHECK(ex.root_cause()->message == "index out of range [5] with length 3");
}
