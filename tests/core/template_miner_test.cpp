#include "core/template_miner.hpp"

#include <catch2/catch.hpp>

#include "core/parameterize.hpp"

TEST_CASE("template miner: variable words meet in one template", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("user alice logged in from web");
  CHECK(a.is_new);
  CHECK(a.template_text == "user alice logged in from web");
  CHECK(a.previous_template.empty());
  const auto b = m.add("user bob logged in from web");
  CHECK_FALSE(b.is_new);
  CHECK(b.group_id == a.group_id);
  CHECK(b.template_text == "user <*> logged in from web");
  CHECK(b.previous_template == "user alice logged in from web");
  const auto c = m.add("user carol logged in from web");
  CHECK(c.template_text == "user <*> logged in from web");
  CHECK(c.previous_template.empty());
  CHECK(m.group_count() == 1);
}

TEST_CASE("template miner: different messages stay apart", "[template_miner]") {
  luffy::template_miner m;
  const auto a = m.add("cache miss ratio <num>");
  const auto b = m.add("disk almost full on <path>");
  const auto c = m.add("cache hit ratio <num>");
  const auto d = m.add("queue drained in <duration>");
  CHECK(a.is_new);
  CHECK(b.is_new);
  CHECK_FALSE(c.is_new);  // 3 of 4 tokens agree
  CHECK(c.template_text == "cache <*> ratio <num>");
  CHECK(d.is_new);
  CHECK(m.group_count() == 3);
  // token count differs: never the same group
  CHECK(m.add("cache miss ratio <num> now").is_new);
}

TEST_CASE("template miner: threshold controls merging", "[template_miner]") {
  luffy::template_miner strict(0.9);
  strict.add("payment failed for customer alice");
  CHECK(strict.add("payment failed for customer bob").is_new);  // 4/5 = 0.8 < 0.9
  luffy::template_miner loose(0.5);
  loose.add("payment failed for customer alice");
  CHECK_FALSE(loose.add("payment failed for customer bob").is_new);
}

TEST_CASE("template miner: deterministic for the same input order", "[template_miner]") {
  const char* lines[] = {"job charge_card started",          "job refund started",
                         "job charge_card finished in 12ms", "worker 3 idle",
                         "job refund finished in 9ms",       "worker 12 idle",
                         "GET /orders/41 200 12ms"};
  luffy::template_miner a;
  luffy::template_miner b;
  for (const char* l : lines) {
    const std::string p = luffy::parameterize(l);
    const auto x = a.add(p);
    const auto y = b.add(p);
    CHECK(x.template_text == y.template_text);
    CHECK(x.group_id == y.group_id);
    CHECK(x.is_new == y.is_new);
  }
  CHECK(a.add(luffy::parameterize("worker 7 idle")).template_text == "worker <num> idle");
}

TEST_CASE("template miner: crowded nodes route to the wildcard branch", "[template_miner]") {
  luffy::template_miner m(0.5, 3);
  for (const char* w : {"alpha", "beta", "gamma", "delta", "epsilon"}) {
    m.add(std::string(w) + " service restarted");
  }
  // The later first words went to the wildcard branch and merged there.
  CHECK(m.add("zeta service restarted").template_text == "<*> service restarted");
  CHECK(m.add("").template_text.empty());
}
