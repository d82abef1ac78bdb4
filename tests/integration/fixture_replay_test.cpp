// Replays every real Fluent Bit capture byte for byte, with its captured headers, and checks that
// exactly the records it holds land in the journal. Record counts come from the fixture itself,
// decoded here with other code than the server's (Poco JSON, msgpack-cxx, Poco inflate).
#include <Poco/InflatingStream.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <msgpack.hpp>
#include <sstream>

#include "harness.hpp"

using namespace luffy::test;
namespace fs = std::filesystem;

namespace {

struct capture {
  fs::path body_path;
  std::vector<std::pair<std::string, std::string>> headers;  // as captured, minus Host
  std::string body;
};

capture load_capture(const fs::path& body_path) {
  capture c;
  c.body_path = body_path;
  c.body = read_text(body_path);
  auto hp = body_path;
  hp.replace_extension(".headers.txt");
  std::ifstream in(hp);
  std::string line;
  std::getline(in, line);  // request line
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      break;
    const auto colon = line.find(':');
    std::string k = line.substr(0, colon), v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ')
      v.erase(0, 1);
    if (Poco::icompare(k, "Host") == 0)
      continue;  // the test server's port differs
    c.headers.emplace_back(k, v);
  }
  return c;
}

std::string header(const capture& c, const std::string& name) {
  for (const auto& [k, v] : c.headers) {
    if (Poco::icompare(k, name) == 0)
      return v;
  }
  return "";
}

// Counts top-level JSON objects in a json_stream body, honouring strings and escapes.
// The capture as a request, with the test token when the capture carries no Authorization.
http_call replay_call(const capture& c) {
  http_call call;
  call.headers = c.headers;
  if (header(c, "Authorization").empty()) {
    call.headers.emplace_back("Authorization", "Bearer test-token-123");
  }
  call.body = c.body;
  return call;
}

size_t count_stream_objects(const std::string& s) {
  size_t n = 0;
  int depth = 0;
  bool in_str = false, esc = false;
  for (char ch : s) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (ch == '\\')
        esc = true;
      else if (ch == '"')
        in_str = false;
      continue;
    }
    if (ch == '"')
      in_str = true;
    else if (ch == '{') {
      if (depth++ == 0)
        ++n;
    } else if (ch == '}')
      --depth;
  }
  return n;
}

size_t count_records(const capture& c) {
  std::string body = c.body;
  if (header(c, "Content-Encoding") == "gzip") {
    std::istringstream in(body);
    Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::string out;
    Poco::StreamCopier::copyToString(inflater, out);
    body = out;
  }
  const std::string ct = header(c, "Content-Type");
  if (ct == "application/msgpack") {
    size_t off = 0, n = 0;
    while (off < body.size()) {
      msgpack::object_handle oh = msgpack::unpack(body.data(), body.size(), off);
      ++n;
    }
    return n;
  }
  if (ct == "application/x-ndjson") {
    size_t n = 0;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty())
        ++n;
    }
    return n;
  }
  if (body.front() == '[') {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Array::Ptr>()->size();
  }
  return count_stream_objects(body);
}

}  // namespace

TEST_CASE("every Fluent Bit capture is accepted and fully journaled", "[fixtures]") {
  redis_process redis;
  server_process server(R"(
auth:
  tokens:
    - {name: fluent-bit, token: test-token-123, services: ["*"], default_service: sample-app}
)" + journal_only_yaml(redis));
  size_t replayed = 0;
  for (const char* dir : {"captures", "captures-v5.1.1"}) {
    std::vector<fs::path> bodies;
    for (const auto& e : fs::directory_iterator(fixtures_dir() / dir)) {
      if (e.path().extension() == ".body")
        bodies.push_back(e.path());
    }
    std::sort(bodies.begin(), bodies.end());
    for (const auto& path : bodies) {
      INFO(path.string());
      redis.cmd({"FLUSHALL"});  // each capture alone: dedup across captures is tested elsewhere
      auto cap = load_capture(path);
      const size_t expected = count_records(cap);
      REQUIRE(expected > 0);
      const auto r = server.call(replay_call(cap));
      REQUIRE(r.status == 202);
      const long accepted = json_int(r.body, "accepted_count");
      const long merged = json_int(r.body, "merged_count");
      CHECK(json_int(r.body, "received_count") == static_cast<long>(expected));
      CHECK(json_int(r.body, "rejected_count") == 0);
      CHECK(json_int(r.body, "duplicate_count") == 0);
      // Every record is either stored or joined onto the record it continues.
      CHECK(accepted + merged == static_cast<long>(expected));
      const bool tail = path.filename().string().find(".tail.") != std::string::npos;
      // The tail captures hold 3 traces shipped line by line (20 continuation lines).
      CHECK(merged == (tail ? 20 : 0));
      CHECK(json_str(r.body, "task_id").size() == 32);
      const auto records = journal_records(redis);
      REQUIRE(records.size() == static_cast<size_t>(accepted));
      if (tail) {
        size_t with_trace = 0;
        for (const auto& rec : records) {
          with_trace += rec.find("\"stack_trace\":") != std::string::npos;
        }
        CHECK(with_trace == 4);  // Java, Python and Node traces joined, plus the JSON one
      }
      for (const auto& rec : records) {
        Poco::JSON::Parser p;
        auto obj = p.parse(rec).extract<Poco::JSON::Object::Ptr>();
        CHECK_FALSE(obj->getValue<std::string>("message").empty());
        CHECK_FALSE(obj->getValue<std::string>("service_id").empty());
        CHECK(obj->getValue<std::string>("id").size() == 32);
      }
      ++replayed;
    }
  }
  CHECK(replayed == 56);
}

TEST_CASE("the corrected-config proof captures are accepted", "[fixtures]") {
  redis_process redis;
  server_process server(R"(
auth: {tokens: [{name: fb, token: test-token-123, services: ["*"], default_service: app}]}
)" + journal_only_yaml(redis));
  for (const char* name : {"proof.http", "edge-cases.http.1", "edge-cases.http.2"}) {
    INFO(name);
    const auto path = fixtures_dir() / "corrected" / (std::string(name) + ".body");
    auto cap = load_capture(path);
    const auto r = server.call(replay_call(cap));
    CHECK(r.status == 202);
    CHECK(json_int(r.body, "received_count") == static_cast<long>(count_records(cap)));
    CHECK(json_int(r.body, "accepted_count") + json_int(r.body, "merged_count") ==
          static_cast<long>(count_records(cap)));
    CHECK(json_int(r.body, "rejected_count") == 0);
  }
}
