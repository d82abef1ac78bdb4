// Static checks of the shipped Fluent Bit configs (fluent-bit/*.conf, fluent-bit.yaml)
// for the mistakes a real Fluent Bit 4.2.8 exposed in the original design
// (shared/fixtures/fluent-bit/corrected/README.md).
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "deploy_test_util.hpp"

using namespace deploy_test;

namespace {

const std::set<std::string> kBuiltinMultiline = {"docker", "cri", "java", "go", "ruby", "python"};

std::vector<fs::path> classic_configs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(source_dir() / "fluent-bit")) {
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".conf" && name.rfind("fluent-bit", 0) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct parser_names {
  std::set<std::string> regular;
  std::set<std::string> multiline;
};

parser_names defined_parsers() {
  parser_names p;
  for (const auto& s : parse_classic(read_file(source_dir() / "fluent-bit/parsers.conf"))) {
    if (s.name == "PARSER") {
      p.regular.insert(s.get("name"));
    } else if (s.name == "MULTILINE_PARSER") {
      p.multiline.insert(s.get("name"));
    }
  }
  return p;
}

std::vector<section> sections_named(const std::vector<section>& all, const std::string& name,
                                    const std::string& plugin = "") {
  std::vector<section> out;
  for (const auto& s : all) {
    if (s.name == name && (plugin.empty() || lower(s.get("name")) == plugin)) {
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("fluent-bit: the expected configs exist", "[fluent-bit]") {
  for (const char* f :
       {"fluent-bit.conf", "fluent-bit.yaml", "parsers.conf", "extract_exception.lua",
        "fluent-bit-json.conf", "fluent-bit-plaintext.conf", "fluent-bit-kubernetes.conf",
        "fluent-bit-sampling.conf", "Dockerfile", "README.md"}) {
    INFO(f);
    CHECK(fs::exists(source_dir() / "fluent-bit" / f));
  }
}

TEST_CASE("fluent-bit: parser names are built-ins or defined in parsers.conf", "[fluent-bit]") {
  const auto defined = defined_parsers();
  REQUIRE(defined.multiline.count("app_json_with_traces") == 1);
  for (const auto& path : classic_configs()) {
    INFO(path.filename().string());
    const auto secs = parse_classic(read_file(path));
    for (const auto& s : secs) {
      for (const auto& v : s.all("multiline.parser")) {
        for (const auto& name : split_csv(v)) {
          INFO("multiline.parser " << name);
          CHECK((kBuiltinMultiline.count(name) == 1 || defined.multiline.count(name) == 1));
        }
      }
      for (const auto& name : s.all("parser")) {
        INFO("parser " << name);
        CHECK(defined.regular.count(name) == 1);
      }
    }
  }
}

TEST_CASE("fluent-bit: tail joins traces in the input (multiline.parser), not after grep",
          "[fluent-bit]") {
  for (const char* f :
       {"fluent-bit.conf", "fluent-bit-plaintext.conf", "fluent-bit-kubernetes.conf"}) {
    INFO(f);
    const auto secs = parse_classic(read_file(source_dir() / "fluent-bit" / f));
    const auto tails = sections_named(secs, "INPUT", "tail");
    REQUIRE(tails.size() == 1);
    CHECK(tails[0].has("multiline.parser"));
    // tail ignores Parser when multiline.parser is set: it must not be there
    CHECK_FALSE(tails[0].has("parser"));
    // a multiline filter, if any, must come before grep
    int grep_at = -1;
    int ml_at = -1;
    for (int i = 0; i < static_cast<int>(secs.size()); ++i) {
      const auto plugin = lower(secs[i].get("name"));
      if (secs[i].name == "FILTER" && plugin == "grep" && grep_at < 0) {
        grep_at = i;
      }
      if (secs[i].name == "FILTER" && plugin == "multiline") {
        ml_at = i;
      }
    }
    REQUIRE(grep_at >= 0);
    CHECK(ml_at < grep_at);
  }
}

TEST_CASE("fluent-bit: filesystem buffering, tail DB and Mem_Buf_Limit", "[fluent-bit]") {
  for (const auto& path : classic_configs()) {
    INFO(path.filename().string());
    const auto secs = parse_classic(read_file(path));
    const auto svc = sections_named(secs, "SERVICE");
    REQUIRE(svc.size() == 1);
    CHECK_FALSE(svc[0].get("storage.path").empty());
    CHECK(lower(svc[0].get("storage.metrics")) == "on");
    for (const auto& in : sections_named(secs, "INPUT")) {
      CHECK(lower(in.get("storage.type")) == "filesystem");
      CHECK_FALSE(in.get("mem_buf_limit").empty());
      if (lower(in.get("name")) == "tail") {
        CHECK_FALSE(in.get("db").empty());
      }
    }
  }
}

TEST_CASE("fluent-bit: http output to luffy-ingest", "[fluent-bit]") {
  for (const auto& path : classic_configs()) {
    INFO(path.filename().string());
    const auto secs = parse_classic(read_file(path));
    const auto outs = sections_named(secs, "OUTPUT", "http");
    REQUIRE(outs.size() == 1);
    const auto& o = outs[0];
    CHECK(o.get("uri") == "/api/v1/ingest/logs");
    const auto format = lower(o.get("format"));
    CHECK((format == "json" || format == "msgpack"));
    CHECK(lower(o.get("compress")) == "gzip");
    CHECK_FALSE(o.get("retry_limit").empty());
    CHECK_FALSE(o.get("storage.total_limit_size").empty());
    CHECK(lower(o.get("net.keepalive")) == "on");
    if (format == "json") {
      CHECK(o.get("json_date_key") == "date");  // the server's ingest.date_key default
    }
    bool auth = false;
    for (const auto& h : o.all("header")) {
      INFO("Header " << h);
      // Fluent Bit sets Content-Type itself; a Header line would send it twice
      CHECK(lower(h).rfind("content-type", 0) == std::string::npos);
      if (h == "Authorization Bearer ${LUFFY_TOKEN}") {
        auth = true;
      }
    }
    CHECK(auth);
  }
}

TEST_CASE("fluent-bit: opensearch outputs suppress _type (OpenSearch 2.x)", "[fluent-bit]") {
  for (const auto& path : classic_configs()) {
    INFO(path.filename().string());
    for (const auto& o : sections_named(parse_classic(read_file(path)), "OUTPUT", "opensearch")) {
      CHECK(lower(o.get("suppress_type_name")) == "on");
      CHECK_FALSE(o.has("type"));
    }
  }
}

TEST_CASE("fluent-bit: lua filters name an existing script and function", "[fluent-bit]") {
  for (const auto& path : classic_configs()) {
    INFO(path.filename().string());
    for (const auto& f : sections_named(parse_classic(read_file(path)), "FILTER", "lua")) {
      const auto script = source_dir() / "fluent-bit" / f.get("script");
      INFO(script.string());
      REQUIRE(fs::exists(script));
      CHECK(read_file(script).find("function " + f.get("call") + "(") != std::string::npos);
    }
  }
}

TEST_CASE("fluent-bit: kubernetes config takes service_id from the application pod",
          "[fluent-bit]") {
  const auto text = read_file(source_dir() / "fluent-bit/fluent-bit-kubernetes.conf");
  const auto secs = parse_classic(text);
  CHECK(sections_named(secs, "FILTER", "kubernetes").size() == 1);
  bool k8s_lua = false;
  for (const auto& f : sections_named(secs, "FILTER", "lua")) {
    k8s_lua = k8s_lua || f.get("call") == "k8s_service_id";
  }
  CHECK(k8s_lua);
  // not from the agent's own environment (the DaemonSet's label names the agent)
  CHECK(text.find("${SERVICE_ID}") == std::string::npos);
}

TEST_CASE("fluent-bit: fluent-bit.yaml holds the same pipeline as fluent-bit.conf",
          "[fluent-bit]") {
  const auto docs = load_all(source_dir() / "fluent-bit/fluent-bit.yaml");
  REQUIRE(docs.size() == 1);
  const auto& y = docs[0];
  const auto secs = parse_classic(read_file(source_dir() / "fluent-bit/fluent-bit.conf"));

  CHECK(y["service"]["parsers_file"].as<std::string>() == "parsers.conf");
  CHECK(y["service"]["storage.path"].as<std::string>() ==
        sections_named(secs, "SERVICE")[0].get("storage.path"));

  auto names = [](const YAML::Node& list) {
    std::vector<std::string> v;
    for (const auto& n : list) {
      v.push_back(lower(n["name"].as<std::string>()) + " " + n["match"].as<std::string>(""));
    }
    return v;
  };
  auto classic_names = [&](const std::string& kind) {
    std::vector<std::string> v;
    for (const auto& s : sections_named(secs, kind)) {
      v.push_back(lower(s.get("name")) + " " + (kind == "INPUT" ? std::string() : s.get("match")));
    }
    return v;
  };
  CHECK(names(y["pipeline"]["filters"]) == classic_names("FILTER"));
  CHECK(names(y["pipeline"]["outputs"]) == classic_names("OUTPUT"));
  REQUIRE(y["pipeline"]["inputs"].size() == 1);

  const auto in = y["pipeline"]["inputs"][0];
  const auto tail = sections_named(secs, "INPUT", "tail")[0];
  CHECK(in["multiline.parser"].as<std::string>() == tail.get("multiline.parser"));
  CHECK(in["path"].as<std::string>() == tail.get("path"));
  CHECK(in["storage.type"].as<std::string>() == "filesystem");

  const auto out = y["pipeline"]["outputs"][0];
  CHECK(out["format"].as<std::string>() == "json");
  CHECK(out["compress"].as<std::string>() == "gzip");
  CHECK(out["retry_limit"].as<std::string>() ==
        sections_named(secs, "OUTPUT", "http")[0].get("retry_limit"));
  REQUIRE(out["header"].IsSequence());
  REQUIRE(out["header"].size() == 1);
  CHECK(out["header"][0].as<std::string>() == "Authorization Bearer ${LUFFY_TOKEN}");
}
