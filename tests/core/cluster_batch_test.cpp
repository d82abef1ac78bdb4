// core/cluster_batch: per-cluster sums of a run of fingerprinted records, with the bounds the
// cluster shard relies on (samples per cluster, clusters per apply).
#include "core/cluster_batch.hpp"

#include <catch2/catch.hpp>

using namespace luffy;

namespace {

fingerprint fp_of(const std::string& id, int level = 2, const std::string& tmpl = "t") {
  fingerprint fp;
  fp.cluster_id = id;
  fp.level = level;
  fp.title = "title " + tmpl;
  fp.template_text = tmpl;
  fp.exception_type = level == 3 ? "" : "E";
  return fp;
}

log_record rec_at(int64_t us, const std::string& host = "h", const std::string& env = "prod") {
  log_record r;
  r.timestamp_us = us;
  r.service_id = "svc";
  r.level = "ERROR";
  r.hostname = host;
  r.environment = env;
  return r;
}

}  // namespace

TEST_CASE("cluster_batch: sums records per cluster in first-seen order", "[cluster_batch]") {
  cluster_batch b(5, 100);
  CHECK(b.size() == 0);
  CHECK_FALSE(b.contains("a"));
  b.add(fp_of("a"), rec_at(120'000'000), {0, 0});
  b.add(fp_of("b"), rec_at(10'000'000, "h2", "stage"), {0, 1});
  b.add(fp_of("a"), rec_at(60'000'000, "h3"), {1, 0});
  b.add(fp_of("a"), rec_at(125'000'000), {1, 1});
  CHECK(b.contains("a"));
  CHECK(b.size() == 2);
  CHECK(b.records() == 4);
  REQUIRE(b.sums().size() == 2);
  const auto& a = b.sums()[0];
  CHECK(a.fp.cluster_id == "a");
  CHECK(a.service_id == "svc");
  CHECK(a.severity == "ERROR");
  CHECK(a.count == 3);
  CHECK(a.first_us == 60'000'000);
  CHECK(a.last_us == 125'000'000);
  CHECK(a.minutes == std::map<int64_t, uint64_t>{{1, 1}, {2, 2}});
  CHECK(a.hosts == std::set<std::string>{"h", "h3"});
  CHECK(a.environments == std::set<std::string>{"prod"});
  CHECK(a.samples == std::vector<sample_ref>{{0, 0}, {1, 0}, {1, 1}});
  CHECK(b.sums()[1].fp.cluster_id == "b");
  CHECK(b.sums()[1].count == 1);
  CHECK(b.sums()[1].environments == std::set<std::string>{"stage"});
}

TEST_CASE("cluster_batch: keeps the newest samples only", "[cluster_batch]") {
  cluster_batch b(2, 100);
  for (size_t i = 0; i < 5; ++i) {
    b.add(fp_of("a"), rec_at(0), {i, 7});
  }
  CHECK(b.sums()[0].count == 5);
  CHECK(b.sums()[0].samples == std::vector<sample_ref>{{3, 7}, {4, 7}});

  cluster_batch none(0, 100);
  none.add(fp_of("a"), rec_at(0), {0, 0});
  CHECK(none.sums()[0].samples.empty());
  CHECK(none.sums()[0].count == 1);
}

TEST_CASE("cluster_batch: hosts and environments lose newlines, empty ones are left out",
          "[cluster_batch]") {
  cluster_batch b(5, 100);
  b.add(fp_of("a"), rec_at(0, "web\n1", "pr\rod"), {0, 0});
  b.add(fp_of("a"), rec_at(0, "", ""), {0, 1});
  b.add(fp_of("a"), rec_at(0, "web 1", "pr od"), {0, 2});
  CHECK(b.sums()[0].hosts == std::set<std::string>{"web 1"});
  CHECK(b.sums()[0].environments == std::set<std::string>{"pr od"});
}

TEST_CASE("cluster_batch: the first record's fields stay, a newer level-3 template replaces",
          "[cluster_batch]") {
  cluster_batch b(5, 100);
  auto first = rec_at(0);
  first.level = "WARN";
  b.add(fp_of("l3", 3, "Order <num> failed"), first, {0, 0}, "legacy-1");
  auto second = rec_at(0);
  second.level = "ERROR";
  second.service_id = "other";
  b.add(fp_of("l3", 3, "Order <*> failed"), second, {0, 1}, "legacy-2");
  const auto& s = b.sums()[0];
  CHECK(s.severity == "WARN");
  CHECK(s.service_id == "svc");
  CHECK(s.legacy_id == "legacy-1");  // only the record that opens the cluster brings one
  CHECK(s.fp.template_text == "Order <*> failed");
  CHECK(s.fp.title == "title Order <*> failed");

  // Levels 1 and 2 keep the first record's template and title.
  b.add(fp_of("l2", 2, "first"), rec_at(0), {1, 0});
  b.add(fp_of("l2", 2, "second"), rec_at(0), {1, 1});
  CHECK(b.sums()[1].fp.template_text == "first");
  CHECK(b.sums()[1].fp.title == "title first");
  CHECK(b.sums()[1].legacy_id.empty());
}

TEST_CASE("cluster_batch: full once it holds max_clusters clusters", "[cluster_batch]") {
  cluster_batch b(5, 2);
  b.add(fp_of("a"), rec_at(0), {0, 0});
  CHECK_FALSE(b.full());
  b.add(fp_of("b"), rec_at(0), {0, 1});
  CHECK(b.full());
  // The caller stops only between entries: the rest of an entry still goes in.
  b.add(fp_of("c"), rec_at(0), {0, 2});
  CHECK(b.size() == 3);
  CHECK(b.full());
}

TEST_CASE("cluster_batch: event minutes of times before 1970 truncate toward zero",
          "[cluster_batch]") {
  cluster_batch b(5, 100);
  b.add(fp_of("a"), rec_at(-90'000'000), {0, 0});  // -1.5 minutes
  b.add(fp_of("a"), rec_at(-30'000'000), {0, 1});  // -0.5 minutes
  CHECK(b.sums()[0].minutes == std::map<int64_t, uint64_t>{{-1, 1}, {0, 1}});
  CHECK(b.sums()[0].first_us == -90'000'000);
  CHECK(b.sums()[0].last_us == -30'000'000);
}
