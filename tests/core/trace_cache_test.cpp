#include "core/trace_cache.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/fingerprint.hpp"
#include "test_records.hpp"

namespace {

luffy::log_record record(std::string message, std::string stack_trace, std::string type = "",
                         std::string type_message = "") {
  return luffy::test::error_record("order-api", std::move(message), std::move(stack_trace),
                                   std::move(type), std::move(type_message));
}

const std::string java_trace =
    "java.lang.IllegalStateException: Order 42 not found\n"
    "\tat com.acme.orders.OrderRepository.findById(OrderRepository.java:88)\n"
    "\tat com.acme.orders.OrderService.load(OrderService.java:41)\n"
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n"
    "Caused by: java.sql.SQLTimeoutException: Query timed out after 30s\n"
    "\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:110)\n"
    "\tat com.acme.orders.OrderRepository.query(OrderRepository.java:120)\n"
    "\t... 2 more\n";

const std::string python_trace =
    "Traceback (most recent call last):\n"
    "  File \"/srv/venv/lib/python3.11/site-packages/flask/app.py\", line 1484, in full_dispatch\n"
    "    rv = self.dispatch_request()\n"
    "  File \"/srv/app/billing/views.py\", line 12, in charge\n"
    "    raise KeyError(customer)\n"
    "KeyError: 'cus_123'\n";

// Frames without a header line: the record's fields name the exception.
const std::string headerless =
    "\tat com.acme.pay.Gateway.charge(Gateway.java:10)\n"
    "\tat com.acme.pay.Api.post(Api.java:20)\n";

void check_same(const luffy::fingerprint& a, const luffy::fingerprint& b) {
  CHECK(a.level == b.level);
  CHECK(a.key == b.key);
  CHECK(a.cluster_id == b.cluster_id);
  CHECK(a.title == b.title);
  CHECK(a.culprit == b.culprit);
  CHECK(a.exception_type == b.exception_type);
  CHECK(a.template_text == b.template_text);
  CHECK(a.language == b.language);
}

}  // namespace

TEST_CASE("trace cache: fingerprints are identical with and without it", "[trace_cache]") {
  const luffy::clustering_options opt;
  const std::vector<luffy::log_record> records = {
      record("order lookup failed for 42", java_trace),
      record("order lookup failed for 43", java_trace),  // same trace, other message
      record("charge failed", python_trace),
      record("charge failed", headerless, "com.acme.pay.CardDeclined", "card 4242 declined"),
      record("charge failed", headerless, "com.acme.pay.Timeout", ""),  // same text, other type
      record("not a trace at all", "just some text"),
      record("", ""),
      record("disk full on /var/lib", ""),
  };
  luffy::trace_cache cache(opt.rules, 16);
  for (int pass = 0; pass < 3; ++pass) {
    for (const auto& r : records) {
      luffy::template_miner m1, m2;
      check_same(luffy::compute_fingerprint(r, opt, &m1),
                 luffy::compute_fingerprint(r, opt, &m2, &cache));
    }
  }
  CHECK(cache.hits() > 0);
  // Records with the same headerless text but other fields are still two clusters.
  CHECK(luffy::compute_fingerprint(records[3], opt, nullptr, &cache).cluster_id !=
        luffy::compute_fingerprint(records[4], opt, nullptr, &cache).cluster_id);
}

TEST_CASE("trace cache: a repeated text is parsed once, memory is bounded", "[trace_cache]") {
  luffy::trace_cache cache({}, 4);
  const auto a = cache.parse(java_trace);
  const auto b = cache.parse(java_trace);
  CHECK(a.get() == b.get());  // shared, not re-parsed
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);
  REQUIRE(a->has_value());
  CHECK((*a)->chain.back().type == "java.sql.SQLTimeoutException");

  for (int i = 0; i < 100; ++i) {
    cache.parse("java.lang.RuntimeException: boom " + std::to_string(i) +
                "\n\tat a.B.c(B.java:1)\n");
    CHECK(cache.size() <= 8);  // two generations of 4
  }
  // A text still used survives rotations: it moves back to the young generation when hit.
  luffy::trace_cache hot({}, 4);
  hot.parse(python_trace);
  for (int i = 0; i < 40; ++i) {
    hot.parse("java.lang.RuntimeException: boom " + std::to_string(i) + "\n\tat a.B.c(B.java:1)\n");
    hot.parse(python_trace);
  }
  CHECK(hot.misses() == 41);

  luffy::trace_cache off({}, 0);
  off.parse(java_trace);
  off.parse(java_trace);
  CHECK(off.hits() == 0);
  CHECK(off.size() == 0);
}
