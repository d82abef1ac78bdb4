#include <catch2/catch.hpp>

#include "core/stack_trace.hpp"
#include "test_records.hpp"

using luffy::parse_java_trace;
using luffy::test::k_java_sample;

TEST_CASE("java: header, frames, Caused by chain and '... N more'", "[stack_trace][java]") {
  const auto info = parse_java_trace(k_java_sample);
  REQUIRE(info);
  CHECK(info->language == "java");
  REQUIRE(info->chain.size() == 2);
  const auto& top = info->chain[0];
  CHECK(top.type == "java.lang.IllegalStateException");
  CHECK(top.message == "Order 42 not found in repository");
  REQUIRE(top.frames.size() == 4);
  CHECK(top.frames[0].module == "com.acme.orders.OrderRepository");
  CHECK(top.frames[0].function == "findById");
  CHECK(top.frames[0].file == "OrderRepository.java");
  CHECK(top.frames[0].line == 88);
  // java.base/ module prefix is dropped
  CHECK(top.frames[3].module == "java.lang.Thread");
  CHECK(top.frames[3].function == "run");

  const auto* root = info->root_cause();
  REQUIRE(root == &info->chain[1]);
  CHECK(root->type == "java.sql.SQLTimeoutException");
  CHECK(root->message == "Query timed out after 5000ms");
  // 2 own frames + the 4 shared frames of the enclosing trace
  REQUIRE(root->frames.size() == 6);
  CHECK(root->frames[0].module == "org.postgresql.jdbc.PgStatement");
  CHECK(root->frames[2].module == "com.acme.orders.OrderRepository");
  CHECK(root->frames[5].module == "java.lang.Thread");
}

TEST_CASE("java: Native Method, Unknown Source and generated names are normalised",
          "[stack_trace][java]") {
  const char* trace =
      "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke "
      "\"String.length()\" because \"s\" is null\n"
      "\tat com.acme.App.lambda$run$0(App.java:12)\n"
      "\tat com.acme.App$$Lambda$123/0x0000000800c4b440.accept(Unknown Source)\n"
      "\tat com.acme.web.OrderController$$EnhancerBySpringCGLIB$$1a2b3c4d.create(<generated>)\n"
      "\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)\n"
      "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
      "\tat jdk.proxy2/jdk.proxy2.$Proxy45.save(Unknown Source)\n"
      "\tat app//com.acme.Main.main(Main.java:5) ~[app.jar:1.0]\n";
  const auto info = parse_java_trace(trace);
  REQUIRE(info);
  REQUIRE(info->chain.size() == 1);
  const auto& l = info->chain[0];
  CHECK(l.type == "java.lang.NullPointerException");
  CHECK(l.message.starts_with("Cannot invoke"));
  REQUIRE(l.frames.size() == 7);
  CHECK(l.frames[0].function == "lambda$run");
  CHECK(l.frames[1].module == "com.acme.App$$Lambda");
  CHECK(l.frames[1].function == "accept");
  CHECK(l.frames[1].file.empty());
  CHECK(l.frames[1].line == 0);
  CHECK(l.frames[2].module == "com.acme.web.OrderController");
  CHECK(l.frames[3].module == "jdk.internal.reflect.GeneratedMethodAccessor");
  CHECK(l.frames[4].module == "jdk.internal.reflect.NativeMethodAccessorImpl");
  CHECK(l.frames[4].file.empty());
  CHECK(l.frames[5].module == "jdk.proxy.$Proxy");
  CHECK(l.frames[6].module == "com.acme.Main");
  CHECK(l.frames[6].line == 5);
}

TEST_CASE("java: two deploys with different lambda ids give identical frames",
          "[stack_trace][java]") {
  const auto a = parse_java_trace(
      "java.lang.RuntimeException: boom\n"
      "\tat com.acme.Foo$$Lambda$88/0x0000000100a1c840.run(Unknown Source)\n"
      "\tat com.acme.Foo.lambda$start$3(Foo.java:20)\n");
  const auto b = parse_java_trace(
      "java.lang.RuntimeException: boom\n"
      "\tat com.acme.Foo$$Lambda/0x00007f3c8c0e2a10.run(Unknown Source)\n"
      "\tat com.acme.Foo.lambda$start$7(Foo.java:23)\n");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->chain[0].frames.size() == 2);
  REQUIRE(b->chain[0].frames.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(a->chain[0].frames[i].module == b->chain[0].frames[i].module);
    CHECK(a->chain[0].frames[i].function == b->chain[0].frames[i].function);
  }
}

TEST_CASE("java: Suppressed blocks are skipped, the cause chain continues", "[stack_trace][java]") {
  const char* trace =
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
      "\t... 1 more\n";
  const auto info = parse_java_trace(trace);
  REQUIRE(info);
  REQUIRE(info->chain.size() == 2);
  CHECK(info->chain[0].frames.size() == 2);
  CHECK(info->root_cause()->type == "java.net.SocketException");
  REQUIRE(info->root_cause()->frames.size() == 3);
  CHECK(info->root_cause()->frames[0].module == "sun.nio.ch.NioSocketImpl");
  CHECK(info->root_cause()->frames[2].function == "export");
}

TEST_CASE("java: logback preamble, multi-line message and Kotlin frames", "[stack_trace][java]") {
  const char* trace =
      "Failed to process message 7\n"
      "com.acme.billing.ChargeDeclinedException: card declined\n"
      "reason code 51\n"
      "\tat com.acme.billing.ChargeService.charge(ChargeService.kt:77)\n"
      "\tat com.acme.billing.ChargeService$charge$1.invokeSuspend(ChargeService.kt)\n"
      "\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)\n"
      "\t... 12 common frames omitted\n";
  const auto info = parse_java_trace(trace);
  REQUIRE(info);
  const auto& l = info->chain[0];
  CHECK(l.type == "com.acme.billing.ChargeDeclinedException");
  CHECK(l.message == "card declined\nreason code 51");
  REQUIRE(l.frames.size() == 3);
  CHECK(l.frames[0].file == "ChargeService.kt");
  CHECK(l.frames[1].module == "com.acme.billing.ChargeService$charge$1");
  CHECK(l.frames[1].line == 0);
}

TEST_CASE("java: text without frames is not a Java trace", "[stack_trace][java]") {
  CHECK_FALSE(parse_java_trace("java.lang.IllegalStateException: no frames here"));
  CHECK_FALSE(parse_java_trace(""));
}
