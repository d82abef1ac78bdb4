// The server groups exactly as `luffy-ingest cluster` does (one code path): a labelled fleet of
// real-looking error records (tests/grouping/fleet_corpus.py: six runtimes, every shape, deploy
// drift, plain messages) posted over HTTP ends in clusters whose ids and counts equal the offline
// command's output over the same records in the same order.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <thread>

#include "harness.hpp"

using namespace luffy::test;

TEST_CASE("server clusters equal the offline cluster command over a labelled fleet",
          "[clustering][grouping]") {
  const auto dir = make_temp_dir("parity");
  const std::string corpus = (dir / "fleet.jsonl").string();
  const std::string gen = std::string("python3 ") + LUFFY_SOURCE_DIR +
                          "/tests/grouping/fleet_corpus.py --records 900 --seed 7 --out " + corpus;
  REQUIRE(std::system(gen.c_str()) == 0);
  const auto records = lines_of(read_text(corpus));
  REQUIRE(records.size() == 900);

  // Offline: one JSON line per record, in order.
  const auto [code, out] = run_binary({"cluster", "--input-format", "jsonl"}, {}, corpus);
  REQUIRE(code == 0);
  const auto preview = lines_of(out);
  REQUIRE(preview.size() == records.size());
  std::map<std::string, long> expected;
  for (const auto& p : preview) {
    const std::string id = json_str(p, "cluster_id");
    REQUIRE(id.size() == 32);
    ++expected[id];
  }

  redis_process redis;
  server_process server(R"(
auth:
  tokens:
    - {name: all, token: tok, services: ["*"], default_service: app}
)" + storage_yaml(redis));
  // In order, one request at a time: level-3 templates depend on the order a service's messages
  // arrive in, as they do offline.
  long accepted = 0;
  for (size_t i = 0; i < records.size(); i += 50) {
    std::string body = "[";
    for (size_t j = i; j < std::min(records.size(), i + 50); ++j)
      body += (j > i ? "," : "") + records[j];
    body += "]";
    const auto r = server.call(ingest_post(body));
    REQUIRE(r.status == 202);
    REQUIRE(json_int(r.body, "duplicate_count") == 0);
    accepted += json_int(r.body, "accepted_count");
  }
  REQUIRE(accepted == static_cast<long>(records.size()));
  for (int i = 0; i < 600 && stats_field(redis, "processed") < accepted; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(stats_field(redis, "processed") == accepted);

  std::map<std::string, long> actual;
  for (const auto& id :
       redis.cmd({"ZRANGE", luffy::clusters_index_key("luffy", "count"), "0", "-1"}).elements)
    actual[id.str] =
        std::stol(redis.cmd({"HGET", luffy::cluster_key("luffy", id.str), "count"}).str);
  CHECK(actual.size() == expected.size());
  CHECK(actual == expected);
}
