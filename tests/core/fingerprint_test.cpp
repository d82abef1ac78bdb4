#include "core/fingerprint.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "test_records.hpp"

namespace {

luffy::log_record java_record(std::string service, std::string trace) {
  return luffy::test::error_record(std::move(service), "Failed to load order", std::move(trace));
}

// Deploy A and deploy B of the same code: different line numbers, lambda ids, CGLIB suffixes,
// accessor numbers and ids in the message.
const char* k_deploy_a =
    "java.lang.IllegalStateException: Order 42 not found in repository\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n"
    "\tat com.acme.orders.OrderService$$EnhancerBySpringCGLIB$$5f1a2b.load(<generated>)\n"
    "\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)\n"
    "\tat com.acme.orders.OrderController.lambda$get$0(OrderController.java:27)\n"
    "\tat com.acme.orders.OrderController$$Lambda$123/0x0000000800c4b440.apply(Unknown Source)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n";
const char* k_deploy_b =
    "java.lang.IllegalStateException: Order 977 not found in repository\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:91)\n"
    "\tat com.acme.orders.OrderService$$EnhancerBySpringCGLIB$$99ee00.load(<generated>)\n"
    "\tat jdk.internal.reflect.GeneratedMethodAccessor57.invoke(Unknown Source)\n"
    "\tat com.acme.orders.OrderController.lambda$get$2(OrderController.java:29)\n"
    "\tat com.acme.orders.OrderController$$Lambda$871/0x0000000801a2c000.apply(Unknown Source)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1589)\n";

}  // namespace

TEST_CASE("fingerprint level 1: the same exception from two deploys is one cluster",
          "[fingerprint]") {
  const luffy::clustering_options opt;
  const auto a = luffy::compute_fingerprint(java_record("order-api", k_deploy_a), opt, nullptr);
  const auto b = luffy::compute_fingerprint(java_record("order-api", k_deploy_b), opt, nullptr);
  CHECK(a.level == 1);
  CHECK(a.cluster_id.size() == 32);
  CHECK(a.cluster_id == b.cluster_id);
  CHECK(a.key == b.key);
  CHECK(a.key ==
        "1\njava.lang.IllegalStateException\n"
        "com.acme.orders.OrderRepository.findById\n"
        "com.acme.orders.OrderService.load\n"
        "com.acme.orders.OrderController.lambda$get\n"
        "com.acme.orders.OrderController$$Lambda.apply");
  CHECK(a.title == "IllegalStateException: Order <num> not found in repository");
  CHECK(a.culprit == "com.acme.orders.OrderRepository.findById");
  CHECK(a.exception_type == "java.lang.IllegalStateException");
  CHECK(a.language == "java");
  CHECK(a.key.find("88") == std::string::npos);
}

TEST_CASE("fingerprint level 1: same type, different crash site, different cluster",
          "[fingerprint]") {
  const luffy::clustering_options opt;
  const auto a = luffy::compute_fingerprint(java_record("order-api", k_deploy_a), opt, nullptr);
  const auto c = luffy::compute_fingerprint(
      java_record("order-api",
                  "java.lang.IllegalStateException: Order 42 not found in repository\n"
                  "\tat com.acme.orders.InvoiceRepository.findById(InvoiceRepository.java:88)\n"
                  "\tat com.acme.orders.OrderService.load(OrderService.java:41)\n"),
      opt, nullptr);
  CHECK(c.level == 1);
  CHECK(a.cluster_id != c.cluster_id);
}

TEST_CASE("fingerprint: the same problem in two services is two clusters", "[fingerprint]") {
  const luffy::clustering_options opt;
  const auto a = luffy::compute_fingerprint(java_record("order-api", k_deploy_a), opt, nullptr);
  const auto b = luffy::compute_fingerprint(java_record("billing", k_deploy_a), opt, nullptr);
  CHECK(a.key == b.key);
  CHECK(a.cluster_id != b.cluster_id);
}

TEST_CASE("fingerprint level 1: root cause type and its in-app frames", "[fingerprint]") {
  const luffy::clustering_options opt;
  const auto fp = luffy::compute_fingerprint(java_record("order-api", luffy::test::k_java_sample),
                                             opt, nullptr);
  CHECK(fp.level == 1);
  CHECK(fp.exception_type == "java.sql.SQLTimeoutException");
  CHECK(fp.key ==
        "1\njava.sql.SQLTimeoutException\ncom.acme.orders.OrderRepository.findById\n"
        "com.acme.orders.OrderService.load\ncom.acme.orders.OrderController.get");
  CHECK(fp.culprit == "com.acme.orders.OrderRepository.findById");
  CHECK(fp.template_text == "Query timed out after <duration>");

  luffy::clustering_options two;
  two.top_frames = 2;
  const auto short_fp =
      luffy::compute_fingerprint(java_record("order-api", k_deploy_a), two, nullptr);
  CHECK(std::count(short_fp.key.begin(), short_fp.key.end(), '\n') == 3);
}

TEST_CASE("fingerprint level 1: no in-app frame means all frames", "[fingerprint]") {
  const luffy::clustering_options opt;
  const auto fp = luffy::compute_fingerprint(
      java_record("x",
                  "java.lang.OutOfMemoryError: Java heap space\n"
                  "\tat java.util.Arrays.copyOf(Arrays.java:3512)\n"
                  "\tat java.lang.StringBuilder.append(StringBuilder.java:179)\n"),
      opt, nullptr);
  CHECK(fp.level == 1);
  CHECK(fp.culprit.empty());
  CHECK(fp.key ==
        "1\njava.lang.OutOfMemoryError\njava.util.Arrays.copyOf\njava.lang.StringBuilder.append");
}

TEST_CASE("fingerprint level 1: Python and Node from two hosts with different roots",
          "[fingerprint]") {
  const luffy::clustering_options opt;
  luffy::log_record p1;
  p1.service_id = "billing";
  p1.stack_trace =
      "Traceback (most recent call last):\n"
      "  File \"/srv/releases/20260801/billing/worker.py\", line 57, in run_job\n"
      "  File \"/opt/venv/lib/python3.11/site-packages/stripe/api.py\", line 10, in call\n"
      "  File \"/srv/releases/20260801/billing/charge.py\", line 23, in charge_card\n"
      "ValueError: invalid literal for int() with base 10: '12.50'";
  luffy::log_record p2 = p1;
  p2.stack_trace =
      "Traceback (most recent call last):\n"
      "  File \"/srv/releases/20260902/billing/worker.py\", line 60, in run_job\n"
      "  File \"/home/u/.venv/lib/python3.12/site-packages/stripe/api.py\", line 12, in call\n"
      "  File \"/srv/releases/20260902/billing/charge.py\", line 25, in charge_card\n"
      "ValueError: invalid literal for int() with base 10: '7.10'";
  const auto a = luffy::compute_fingerprint(p1, opt, nullptr);
  const auto b = luffy::compute_fingerprint(p2, opt, nullptr);
  CHECK(a.level == 1);
  CHECK(a.cluster_id == b.cluster_id);
  CHECK(a.key == "1\nValueError\nbilling.charge.charge_card\nbilling.worker.run_job");
  CHECK(a.culprit == "billing.charge.charge_card");

  luffy::log_record n1;
  n1.service_id = "gateway";
  n1.message =
      "TypeError: Cannot read properties of undefined (reading 'id')\n"
      "    at getUser (/srv/app/releases/2024-03-01/src/routes/users.js:42:18)\n"
      "    at next (/srv/app/releases/2024-03-01/node_modules/express/lib/router/route.js:149:13)";
  luffy::log_record n2 = n1;
  n2.message =
      "TypeError: Cannot read properties of undefined (reading 'id')\n"
      "    at getUser (/app/src/routes/users.js:44:7)\n"
      "    at next (/app/node_modules/express/lib/router/route.js:149:13)";
  const auto c = luffy::compute_fingerprint(n1, opt, nullptr);
  const auto d = luffy::compute_fingerprint(n2, opt, nullptr);
  CHECK(c.level == 1);
  CHECK(c.cluster_id == d.cluster_id);
  CHECK(c.culprit == "src/routes/users.getUser");
}

TEST_CASE("fingerprint level 2: exception type + parameterised message", "[fingerprint]") {
  const luffy::clustering_options opt;
  luffy::log_record r;
  r.service_id = "order-api";
  r.message = "lookup failed";
  r.exception_type = "KeyError";
  r.exception_message = "order 42 missing since 2026-08-21";
  luffy::log_record s = r;
  s.exception_message = "order 977 missing since 2026-09-01";
  const auto a = luffy::compute_fingerprint(r, opt, nullptr);
  const auto b = luffy::compute_fingerprint(s, opt, nullptr);
  CHECK(a.level == 2);
  CHECK(a.key == "2\nKeyError\norder <num> missing since <date>");
  CHECK(a.cluster_id == b.cluster_id);
  CHECK(a.title == "KeyError: order <num> missing since <date>");
  s.exception_type = "ValueError";
  CHECK(luffy::compute_fingerprint(s, opt, nullptr).cluster_id != a.cluster_id);
}

TEST_CASE("fingerprint level 3: template miner, or the parameterised message", "[fingerprint]") {
  const luffy::clustering_options opt;
  luffy::log_record r;
  r.service_id = "order-api";
  r.message = "cache miss ratio 0.42";
  const auto plain = luffy::compute_fingerprint(r, opt, nullptr);
  CHECK(plain.level == 3);
  CHECK(plain.key == "3\ncache miss ratio <num>");
  CHECK(plain.title == "cache miss ratio <num>");
  CHECK(plain.exception_type.empty());

  luffy::template_miner miner;
  r.message = "payment for customer alice declined by issuer";
  const auto first = luffy::compute_fingerprint(r, opt, &miner);
  CHECK(first.template_text == "payment for customer alice declined by issuer");
  r.message = "payment for customer bob declined by issuer";
  const auto second = luffy::compute_fingerprint(r, opt, &miner);
  r.message = "payment for customer carol declined by issuer";
  const auto third = luffy::compute_fingerprint(r, opt, &miner);
  CHECK(second.level == 3);
  CHECK(second.template_text == "payment for customer <*> declined by issuer");
  CHECK(second.title == "payment for customer <*> declined by issuer");
  // Generalising the template keeps the cluster: the id comes from the group's anchor.
  CHECK(first.cluster_id == second.cluster_id);
  CHECK(second.cluster_id == third.cluster_id);
  CHECK(third.key == "3\npayment for customer alice declined by issuer");
  CHECK(third.template_anchor == "payment for customer alice declined by issuer");
  CHECK(third.template_ordinal == first.template_ordinal);
}

TEST_CASE("fingerprint level 3: a restored miner gives the same cluster ids", "[fingerprint]") {
  const luffy::clustering_options opt;
  luffy::log_record r;
  r.service_id = "billing";
  const char* before[] = {"payment for customer alice declined by issuer",
                          "payment for customer bob declined by issuer",
                          "ledger closed for region emea", "ledger closed for region apac",
                          "nightly export skipped"};
  luffy::template_miner original;
  std::map<std::string, luffy::fingerprint> saved;  // cluster id -> last fingerprint
  for (const char* m : before) {
    r.message = m;
    auto fp = luffy::compute_fingerprint(r, opt, &original);
    saved[fp.cluster_id] = fp;
  }
  REQUIRE(saved.size() == 3);
  // What the shard stores per level-3 cluster: anchor, ordinal, current template.
  std::vector<const luffy::fingerprint*> by_ordinal;
  for (const auto& [id, fp] : saved) {
    by_ordinal.push_back(&fp);
  }
  std::sort(by_ordinal.begin(), by_ordinal.end(),
            [](auto* a, auto* b) { return a->template_ordinal < b->template_ordinal; });
  luffy::template_miner restored;
  for (const auto* fp : by_ordinal) {
    CHECK(restored.restore(fp->template_anchor, fp->template_text, fp->template_ordinal));
  }
  CHECK_FALSE(restored.restore("two tokens", "three tokens here", 9));
  for (const char* m : {"payment for customer carol declined by issuer",
                        "ledger closed for region latam", "nightly export skipped"}) {
    r.message = m;
    const auto a = luffy::compute_fingerprint(r, opt, &original);
    const auto b = luffy::compute_fingerprint(r, opt, &restored);
    CHECK(a.cluster_id == b.cluster_id);
    CHECK(a.template_text == b.template_text);
    CHECK(saved.count(b.cluster_id) == 1);
  }
  // A new group after a restore takes an ordinal above every restored one.
  r.message = "cache warmed";
  const auto fresh = luffy::compute_fingerprint(r, opt, &restored);
  CHECK(fresh.template_ordinal == 3);
}

TEST_CASE("fingerprint: cluster ids are pinned (stable across processes)", "[fingerprint]") {
  // If this changes, every stored cluster id changes: only change it on purpose.
  CHECK(luffy::cluster_id_for("svc", "3\nhello") == luffy::cluster_id_for("svc", "3\nhello"));
  CHECK(luffy::cluster_id_for("svc", "3\nhello") != luffy::cluster_id_for("svc3", "\nhello"));
  CHECK(luffy::cluster_id_for("", "").size() == 32);
}

TEST_CASE("fingerprint level 1: the whole in-app call path, recursion collapsed", "[fingerprint]") {
  const luffy::clustering_options opt;
  auto key_of = [&](int depth, const char* entry) {
    std::string t = "Traceback (most recent call last):\n";
    t += std::string("  File \"/app/shop/views.py\", line 3, in ") + entry + "\n";
    for (int i = 0; i < 6; ++i) {
      t += "  File \"/app/shop/layer" + std::to_string(i) + ".py\", line 9, in step\n";
    }
    for (int i = 0; i < depth; ++i) {
      t += "  File \"/app/shop/tree.py\", line 5, in walk\n";
      t += "  File \"/app/shop/tree.py\", line 8, in visit\n";
    }
    t += "  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\n";
    t += "ValueError: bad node";
    luffy::log_record r;
    r.service_id = "shop";
    r.stack_trace = t;
    return luffy::compute_fingerprint(r, opt, nullptr).key;
  };
  // Mutual recursion of any depth is one run; the entry point 9 in-app frames up still counts.
  CHECK(key_of(1, "checkout") == key_of(4, "checkout"));
  CHECK(key_of(1, "checkout") != key_of(1, "refund"));
  CHECK(key_of(1, "checkout") ==
        "1\nValueError\nshop.tree.visit\nshop.tree.walk\nshop.layer5.step\nshop.layer4.step\n"
        "shop.layer3.step\nshop.layer2.step\nshop.layer1.step\nshop.layer0.step\n"
        "shop.views.checkout");
  // top_frames bounds the path (crash site first).
  luffy::clustering_options three;
  three.top_frames = 3;
  luffy::log_record r;
  r.service_id = "shop";
  r.stack_trace =
      "Traceback (most recent call last):\n"
      "  File \"/app/a.py\", line 1, in a\n  File \"/app/b.py\", line 1, in b\n"
      "  File \"/app/c.py\", line 1, in c\n  File \"/app/d.py\", line 1, in d\nKeyError: 'x'";
  CHECK(luffy::compute_fingerprint(r, three, nullptr).key == "1\nKeyError\nd.d\nc.c\nb.b");
}

TEST_CASE("fingerprint level 1: Go frames that ran the panic are not its call path",
          "[fingerprint]") {
  const luffy::clustering_options opt;
  luffy::log_record r;
  r.service_id = "cart";
  r.exception_type = "runtime.Error";
  r.exception_message = "index out of range [5] with length 3";
  r.stack_trace =
      "goroutine 21 [running]:\n"
      "runtime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:24 +0x5e\n"
      "github.com/acme/cart/internal/api.Recover.func1()\n\t/app/internal/api/mw.go:31 +0x6b\n"
      "panic({0x6c6f40?, 0xc000018108?})\n\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
      "github.com/acme/cart/internal/cart.(*Cart).Item(0xc000010000, 0x5)\n"
      "\t/app/internal/cart/cart.go:42 +0x1d\n";
  const auto fp = luffy::compute_fingerprint(r, opt, nullptr);
  CHECK(fp.key == "1\nruntime.Error\ngithub.com/acme/cart/internal/cart.(*Cart).Item");
  CHECK(fp.culprit == "github.com/acme/cart/internal/cart.(*Cart).Item");
  CHECK(fp.title == "Error: index out of range [<num>] with length <num>");
}
