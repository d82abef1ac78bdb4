#include "core/cluster_preview.hpp"

#include "core/body_decoder.hpp"

#include <catch2/catch.hpp>
#include <fstream>

TEST_CASE("preview: jsonl record with a stack trace", "[cluster_preview]") {
  const luffy::clustering_options opt;
  luffy::template_miner miner;
  const std::string line =
      R"j({"timestamp":"2026-08-21T10:15:04.707Z","level":"error","service":"order-api",)j"
      R"j("logger":"com.acme.orders.PaymentClient","message":"Payment provider call failed",)j"
      R"j("stack_trace":"java.net.SocketTimeoutException: Read timed out\n\tat )j"
      R"j(java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)\n\tat )j"
      R"j(com.acme.orders.PaymentClient.charge(PaymentClient.java:61)"})j";
  const std::string out = luffy::cluster_preview_line(line, "jsonl", opt, miner);
  CHECK(out.starts_with("{\"cluster_id\":\""));
  CHECK(out.find("\"level\":1,") != std::string::npos);
  CHECK(out.find("\"title\":\"SocketTimeoutException: Read timed out\"") != std::string::npos);
  CHECK(out.find("\"culprit\":\"com.acme.orders.PaymentClient.charge\"") != std::string::npos);
  CHECK(out.find("\"service_id\":\"order-api\"") != std::string::npos);
  // deterministic
  luffy::template_miner other;
  CHECK(luffy::cluster_preview_line(line, "jsonl", opt, other) == out);
}

TEST_CASE("preview: text lines go through the template miner", "[cluster_preview]") {
  const luffy::clustering_options opt;
  luffy::template_miner miner;
  const std::string a = luffy::cluster_preview_line("GET /orders/41 200 12ms", "text", opt, miner);
  const std::string b = luffy::cluster_preview_line("GET /orders/43 200 9ms", "text", opt, miner);
  CHECK(a.find("\"level\":3") != std::string::npos);
  CHECK(a.find("\"template\":\"GET /orders/<num> <num> <duration>\"") != std::string::npos);
  CHECK(a == b);
}

TEST_CASE("preview: invalid json and escaping", "[cluster_preview]") {
  const luffy::clustering_options opt;
  luffy::template_miner miner;
  CHECK(luffy::cluster_preview_line("{not json", "jsonl", opt, miner).starts_with("{\"error\":"));
  CHECK(luffy::json_quote("a\"b\\c\nd\te\x01") == "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  CHECK(luffy::json_quote("héllo") == "\"héllo\"");
}

TEST_CASE("preview: batch merges split traces and keeps miners per service", "[cluster_preview]") {
  const luffy::clustering_options opt;
  const std::vector<std::string> lines = {
      R"({"level":"ERROR","service":"billing","message":"job failed","file_path":"/f"})",
      R"({"log":"Traceback (most recent call last):","file_path":"/f"})",
      R"({"log":"  File \"/app/billing/charge.py\", line 23, in charge_card","file_path":"/f"})",
      R"({"log":"ValueError: bad amount","file_path":"/f"})",
      "garbage",
      R"({"level":"INFO","service":"gateway","message":"user 7 logged in"})",
  };
  const auto out = luffy::cluster_preview_batch(lines, "jsonl", opt);
  REQUIRE(out.size() == 3);
  CHECK(out[0].find("\"level\":1") != std::string::npos);
  CHECK(out[0].find("\"culprit\":\"billing.charge.charge_card\"") != std::string::npos);
  CHECK(out[1].starts_with("{\"error\":"));
  CHECK(out[2].find("\"template\":\"user <num> logged in\"") != std::string::npos);

  luffy::cluster_previewer p(opt);
  const std::string x = p.line(R"({"service":"a","message":"disk full on node-1"})", "jsonl");
  const std::string y = p.line(R"({"service":"b","message":"disk full on node-1"})", "jsonl");
  CHECK(x.substr(0, 50) != y.substr(0, 50));  // different services, different cluster ids
}

TEST_CASE("preview: the real json_lines tail capture clusters its three traces at level 1",
          "[cluster_preview]") {
  std::ifstream in(std::string(LUFFY_FIXTURES_DIR) + "/captures/json_lines.tail.body");
  REQUIRE(in);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) {
    lines.push_back(l);
  }
  REQUIRE(lines.size() == 29);
  const luffy::clustering_options opt;
  const auto out = luffy::cluster_preview_batch(lines, "jsonl", opt);
  REQUIRE(out.size() == 9);
  CHECK(out[1].find("\"level\":1") != std::string::npos);
  CHECK(out[1].find("\"exception_type\":\"java.sql.SQLTimeoutException\"") != std::string::npos);
  CHECK(out[3].find("\"culprit\":\"billing.charge.charge_card\"") != std::string::npos);
  CHECK(out[5].find("\"culprit\":\"src/routes/users.getUser\"") != std::string::npos);
  // The stack_trace field of the fifth JSON record: level 1 without any merging.
  CHECK(out[6].find("\"culprit\":\"com.acme.orders.PaymentClient.charge\"") != std::string::npos);
  CHECK(out[7].find("\"template\":\"cache miss ratio <num>\"") != std::string::npos);
  // The two GET lines share a template and a cluster.
  CHECK(out[0].substr(0, 48) == out[8].substr(0, 48));
}

TEST_CASE("preview: jsonl lines are decoded by the server's body decoder", "[cluster_preview]") {
  const luffy::clustering_options opt;
  // A repeated key means what it means to the server's decoder, not a second guess.
  const std::string twice = R"({"service_id":"s","level":"error","message":"disk quota exceeded",)"
                            R"("message":"payment declined by issuer"})";
  std::string body = twice;
  luffy::body_decoder decoder;
  const auto res = decoder.decode(body, luffy::media_type::json, luffy::decode_options{}, true);
  REQUIRE(res.records.size() == 1);
  luffy::template_miner miner;
  const std::string out = luffy::cluster_preview_line(twice, "jsonl", opt, miner);
  CHECK(out.find("\"title\":\"" + res.records[0].message + "\"") != std::string::npos);
  // A record the server rejects is named as such, not clustered.
  luffy::template_miner m2;
  const std::string none = luffy::cluster_preview_line(R"({"service_id":"s"})", "jsonl", opt, m2);
  CHECK(none.starts_with("{\"error\":\"rejected\""));
  CHECK(luffy::cluster_preview_line("{not json", "jsonl", opt, m2)
            .starts_with("{\"error\":\"invalid json\""));
}
