#include "core/grouping_rules.hpp"

#include <catch2/catch.hpp>

#include "core/cluster_preview.hpp"
#include "core/frame_classifier.hpp"
#include "test_records.hpp"

using namespace luffy;
using luffy::test::error_record;

namespace {

stack_frame frame(std::string module, std::string file = "") {
  return stack_frame{std::move(module), std::string("fn"), std::move(file), 0, false};
}

fingerprint_rule_config rule(std::vector<fingerprint_match> match, std::string fp,
                             std::string title = "") {
  return {std::move(match), std::move(fp), std::move(title)};
}

const char* k_timeout_trace =
    "java.util.concurrent.TimeoutException: upstream payments timed out after 30s\n"
    "\tat com.acme.pay.Client.call(Client.java:10)\n"
    "\tat com.acme.pay.Service.charge(Service.java:20)";

}  // namespace

TEST_CASE("in-app globs: the most specific rule wins, not-in-app on ties", "[grouping_rules]") {
  const frame_rules rules =
      make_frame_rules("com.acme., src/**", "com.acme.*.generated.*, *node_modules*");
  REQUIRE(rules.in_app_prefixes == std::vector<std::string>{"com.acme."});
  REQUIRE(rules.in_app_globs == std::vector<std::string>{"src/**"});
  REQUIRE(rules.not_in_app_globs.size() == 2);
  CHECK(is_in_app("java", frame("com.acme.orders.Repo"), rules));
  // 19 literal characters beat the 9-character prefix.
  CHECK_FALSE(is_in_app("java", frame("com.acme.orders.generated.Mapper"), rules));
  // A glob against the file: src/** makes a node frame in-app ...
  CHECK(is_in_app("node", frame("x", "src/routes/users.js"), rules));
  // ... but the more specific not-in-app rule wins inside vendored code.
  CHECK_FALSE(is_in_app("node", frame("x", "src/node_modules/a/b.js"), rules));
  // Globs beat the per-language defaults.
  const frame_rules spring = make_frame_rules("org.springframework.*.Acme*", "");
  CHECK(is_in_app("java", frame("org.springframework.web.AcmeFilter"), spring));
  CHECK_FALSE(is_in_app("java", frame("org.springframework.web.Servlet"), spring));
  // Equal specificity: not-in-app wins.
  const frame_rules tie = make_frame_rules("com.acme.x*", "com.acme.x");
  CHECK_FALSE(is_in_app("java", frame("com.acme.xyz"), tie));
}

TEST_CASE("fingerprint rules: config problems name their key path", "[grouping_rules][config]") {
  const std::vector<fingerprint_rule_config> rules = {
      rule({{"exception_type", "*Timeout*"}}, "ok"),
      rule({{"message", "[oops"}}, "bad-glob"),
      rule({{"msg", "*x*"}}, "unknown-field"),
      rule({{"service_id", "a"}}, ""),
      rule({}, "no-match"),
  };
  const auto problems = check_fingerprint_rules(rules);
  REQUIRE(problems.size() == 4);
  CHECK(problems[0].starts_with("clustering.fingerprint_rules[1].match.message: bad glob"));
  CHECK(problems[1].starts_with("clustering.fingerprint_rules[2].match.msg: unknown field"));
  CHECK(problems[2] == "clustering.fingerprint_rules[3].fingerprint: must not be empty");
  CHECK(problems[3].starts_with("clustering.fingerprint_rules[4].match: name at least one field"));

  luffy_config cfg;
  cfg.auth.disabled = true;
  cfg.clustering.in_app_prefixes = "com.acme., src/[x";
  const auto v = validate(cfg);
  REQUIRE(v.size() == 1);
  CHECK(v[0].starts_with("clustering.in_app_prefixes[1]: bad glob \"src/[x\""));
}

TEST_CASE("fingerprint rules: first match wins, all matchers must match", "[grouping_rules]") {
  const grouping_rules rules({
      rule({{"service_id", "checkout"}, {"exception_type", "*Timeout*"}, {"message", "*upstream*"}},
           "upstream-timeouts", "Upstream timeouts"),
      rule({{"logger", "com.acme.noisy.*"}}, "noisy-logger"),
      rule({{"level", "FATAL"}}, "fatal"),
  });
  REQUIRE(rules.size() == 3);
  const clustering_options opt;

  // The exception type comes from the field, or from the parsed trace when the field is empty.
  auto a = error_record("checkout", "call failed: upstream payments", k_timeout_trace);
  auto b = error_record("checkout", "upstream refused", "", "TimeoutException");
  auto fa = group_record(a, opt, rules, nullptr);
  auto fb = group_record(b, opt, rules, nullptr);
  CHECK(fa.level == 4);
  CHECK(fa.cluster_id == fb.cluster_id);
  CHECK(fa.cluster_id == cluster_id_for("checkout", "4\nupstream-timeouts"));
  CHECK(fa.title == "Upstream timeouts");
  CHECK(fa.exception_type == "java.util.concurrent.TimeoutException");
  CHECK(fb.exception_type == "TimeoutException");

  // Another service: one cluster per (service, fingerprint) — and here the rule does not apply.
  auto c = error_record("billing", "call failed: upstream payments", k_timeout_trace);
  CHECK(group_record(c, opt, rules, nullptr).level == 1);
  // The message does not match: normal grouping.
  auto d = error_record("checkout", "database is down", k_timeout_trace);
  CHECK(group_record(d, opt, rules, nullptr).cluster_id ==
        compute_fingerprint(d, opt, nullptr).cluster_id);

  auto e = error_record("any", "x");
  e.logger = "com.acme.noisy.Poller";
  e.level = "FATAL";
  CHECK(group_record(e, opt, rules, nullptr).cluster_id ==
        cluster_id_for("any", "4\nnoisy-logger"));  // the first matching rule
  CHECK(group_record(e, opt, rules, nullptr).title == "noisy-logger");

  // A matched rule does not touch the miner; no rules at all is exactly compute_fingerprint.
  template_miner miner;
  auto f = error_record("svc", "the cache warmed up slowly");
  f.level = "FATAL";
  CHECK(group_record(f, opt, rules, &miner).level == 4);
  CHECK(miner.group_count() == 0);
  template_miner m1, m2;
  auto g = error_record("svc", "nightly export skipped");
  CHECK(group_record(g, opt, grouping_rules{}, &m1).cluster_id ==
        compute_fingerprint(g, opt, &m2).cluster_id);
}

TEST_CASE("fingerprint rules: the trace cache gives the same answer", "[grouping_rules]") {
  const grouping_rules rules({rule({{"exception_type", "java.util.concurrent.*"}}, "juc")});
  const clustering_options opt;
  trace_cache cache(opt.rules, 16);
  auto a = error_record("svc", "m", k_timeout_trace);
  CHECK(group_record(a, opt, rules, nullptr, &cache).cluster_id ==
        group_record(a, opt, rules, nullptr).cluster_id);
  CHECK(group_record(a, opt, rules, nullptr, &cache).level == 4);
}

TEST_CASE("offline preview goes through the same rules", "[grouping_rules][cluster_preview]") {
  luffy_config cfg;
  cfg.clustering.fingerprint_rules = {
      rule({{"message", "*upstream*"}}, "upstream", "Upstream trouble")};
  cfg.clustering.not_in_app_prefixes = "com.acme.pay.Cl*";
  auto g = grouping_from_config(cfg);
  CHECK(g.options.rules.not_in_app_globs == std::vector<std::string>{"com.acme.pay.Cl*"});
  cluster_previewer preview(g.options, g.rules);
  const std::string out =
      preview.line(R"({"service_id":"checkout","message":"upstream 502 from payments"})", "jsonl");
  CHECK(out.find("\"level\":4") != std::string::npos);
  CHECK(out.find("\"cluster_id\":\"" + cluster_id_for("checkout", "4\nupstream") + "\"") !=
        std::string::npos);
  CHECK(out.find("\"title\":\"Upstream trouble\"") != std::string::npos);
  // The not-in-app glob changed the culprit: Client.call is not in-app now.
  log_record r = error_record("checkout", "boom", k_timeout_trace);
  CHECK(group_record(r, g.options, g.rules, nullptr).culprit == "com.acme.pay.Service.charge");
}

namespace {

// Stands in for a template_miner whose add(message, may_create) can refuse to create a group.
struct refusing_miner {
  struct match {
    std::string template_text, anchor;
    uint64_t ordinal = 0;
    bool overflow = false;
  };
  std::vector<std::string> known;  // anchors of existing groups; template = "<anchor> (*)"
  match add(std::string_view message, bool may_create) {
    for (size_t i = 0; i < known.size(); ++i) {
      if (known[i] == message) {
        return {known[i] + " <*>", known[i], i + 1, false};
      }
    }
    CHECK_FALSE(may_create);
    return {"", "", 0, true};
  }
};

}  // namespace

TEST_CASE("over the bound: level 3 joins existing groups only, or has no anchor",
          "[grouping_rules][explosion]") {
  STATIC_REQUIRE(miner_can_refuse<refusing_miner>);
  const clustering_options opt;
  // The live template_miner, with or without add(message, may_create): never grows here.
  template_miner live;
  auto flood = error_record("svc", "qwhzx kkrtm pplsv");
  const auto fp = group_record(flood, opt, grouping_rules{}, &live, nullptr, false);
  CHECK(fp.level == 3);
  CHECK(fp.template_anchor.empty());
  CHECK(fp.cluster_id == compute_fingerprint(flood, opt, nullptr).cluster_id);
  CHECK(live.group_count() == 0);
  // Rules and exceptions are unaffected.
  auto trace = error_record("svc", "m", k_timeout_trace);
  CHECK(group_record(trace, opt, grouping_rules{}, &live, nullptr, false).cluster_id ==
        compute_fingerprint(trace, opt, nullptr).cluster_id);

  // A miner that can refuse: a known message joins its group (its cluster id), an unknown one
  // keeps the parameterised message's id without an anchor.
  refusing_miner m;
  m.known = {"disk almost full on volume"};
  fingerprint known =
      compute_fingerprint(error_record("svc", "disk almost full on volume"), opt, nullptr);
  join_existing_group(known, "svc", &m);
  CHECK(known.template_anchor == "disk almost full on volume");
  CHECK(known.template_text == "disk almost full on volume <*>");
  CHECK(known.title == "disk almost full on volume <*>");
  CHECK(known.cluster_id == cluster_id_for("svc", "3\ndisk almost full on volume"));
  fingerprint unknown = compute_fingerprint(flood, opt, nullptr);
  const std::string id = unknown.cluster_id;
  join_existing_group(unknown, "svc", &m);
  CHECK(unknown.template_anchor.empty());
  CHECK(unknown.cluster_id == id);
}
