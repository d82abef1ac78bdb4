#include "core/continuation_merge.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "core/fingerprint.hpp"

namespace {

// The tail input's view of sample-app.log: JSON lines become records with their level, raw lines
// become {"log": line} records without a level (see the fixture README).
std::vector<luffy::log_record> tail_records(const std::string& text, const std::string& host) {
  std::vector<luffy::log_record> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    luffy::log_record r;
    r.hostname = host;
    r.file_path = "/var/log/app/sample-app.log";
    if (line.starts_with("{")) {
      // A tiny reader for the fixture's flat JSON: only level, service and message matter here.
      auto field = [&](const std::string& key) {
        const std::string k = "\"" + key + "\":\"";
        const size_t at = line.find(k);
        if (at == std::string::npos) {
          return std::string();
        }
        const size_t end = line.find('"', at + k.size());
        return line.substr(at + k.size(), end - at - k.size());
      };
      r.level = field("level");
      for (char& c : r.level) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      r.service_id = field("service");
      r.message = field("message");
    } else {
      r.message = line;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string read_fixture() {
  std::ifstream f(std::string(LUFFY_FIXTURES_DIR) + "/sample-app.log");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("merge: the fixture's 29 tail records become 9 records with whole traces",
          "[continuation_merge]") {
  const std::string text = read_fixture();
  REQUIRE_FALSE(text.empty());
  auto records = tail_records(text, "web-1");
  REQUIRE(records.size() == 29);
  const size_t merged = luffy::merge_continuations(records);
  CHECK(merged == 20);
  REQUIRE(records.size() == 9);

  const auto& java = records[1];
  CHECK(java.message == "Failed to load order 42");
  CHECK(java.stack_trace.starts_with("java.lang.IllegalStateException: Order 42 not found"));
  CHECK(java.stack_trace.ends_with("\t... 4 more"));
  CHECK(std::count(java.stack_trace.begin(), java.stack_trace.end(), '\n') == 8);

  const auto& py = records[3];
  CHECK(py.message == "Unhandled exception in job charge_card");
  CHECK(py.stack_trace.starts_with("Traceback (most recent call last):"));
  CHECK(py.stack_trace.ends_with("ValueError: invalid literal for int() with base 10: '12.50'"));

  const auto& node = records[5];
  CHECK(node.level == "FATAL");
  CHECK(node.stack_trace.starts_with("TypeError: Cannot read properties"));

  // And they cluster at level 1 with the right root causes.
  const luffy::clustering_options opt;
  const auto fj = luffy::compute_fingerprint(java, opt, nullptr);
  CHECK(fj.level == 1);
  CHECK(fj.exception_type == "java.sql.SQLTimeoutException");
  const auto fp = luffy::compute_fingerprint(py, opt, nullptr);
  CHECK(fp.level == 1);
  CHECK(fp.culprit == "billing.charge.charge_card");
  const auto fn = luffy::compute_fingerprint(node, opt, nullptr);
  CHECK(fn.level == 1);
  CHECK(fn.culprit == "src/routes/users.getUser");
  // INFO lines were untouched.
  CHECK(records[0].stack_trace.empty());
  CHECK(records[8].stack_trace.empty());
}

TEST_CASE("merge: never across hosts or files, interleaved streams keep their heads",
          "[continuation_merge]") {
  auto a = tail_records(
      "{\"level\":\"ERROR\",\"message\":\"boom\"}\n"
      "java.lang.RuntimeException: boom\n",
      "host-a");
  auto b = tail_records("\tat com.acme.A.b(A.java:1)\n", "host-b");
  auto c = tail_records("\tat com.acme.C.d(C.java:2)\n", "host-a");
  std::vector<luffy::log_record> all;
  for (auto* v : {&a, &b, &c}) {
    for (auto& r : *v) {
      all.push_back(r);
    }
  }
  REQUIRE(all.size() == 4);
  const size_t merged = luffy::merge_continuations(all);
  CHECK(merged == 2);
  REQUIRE(all.size() == 2);
  CHECK(all[0].hostname == "host-a");
  CHECK(all[0].stack_trace == "java.lang.RuntimeException: boom\n\tat com.acme.C.d(C.java:2)");
  CHECK(all[1].hostname == "host-b");  // no head in its stream: stays a record
  CHECK(all[1].stack_trace.empty());

  // Different file on the same host.
  auto d = tail_records("{\"level\":\"ERROR\",\"message\":\"x\"}\n", "h");
  auto e = tail_records("\tat com.acme.A.b(A.java:1)\n", "h");
  e[0].file_path = "/var/log/other.log";
  std::vector<luffy::log_record> two{d[0], e[0]};
  CHECK(luffy::merge_continuations(two) == 0);
  CHECK(two.size() == 2);
}

TEST_CASE("merge: raw trace heads, levelled records and plain lines", "[continuation_merge]") {
  // A raw header line with no level starts its own trace; its message is copied into stack_trace.
  auto r = tail_records(
      "{\"level\":\"INFO\",\"message\":\"started\"}\n"
      "Exception in thread \"main\" java.lang.IllegalStateException: bad\n"
      "\tat com.acme.Main.main(Main.java:5)\n"
      "plain text line\n"
      "\tat com.acme.Other.x(Other.java:1)\n"
      "{\"level\":\"WARN\",\"message\":\"retrying\"}\n"
      "  indented but not in a trace\n",
      "h");
  REQUIRE(r.size() == 7);
  CHECK(luffy::merge_continuations(r) == 2);
  REQUIRE(r.size() == 5);
  CHECK(r[0].stack_trace.empty());  // an INFO record does not take a trace header
  CHECK(r[1].stack_trace ==
        "Exception in thread \"main\" java.lang.IllegalStateException: bad\n"
        "\tat com.acme.Main.main(Main.java:5)");
  CHECK(r[2].message == "plain text line");
  CHECK(r[2].stack_trace == "\tat com.acme.Other.x(Other.java:1)");  // strong lines always join
  CHECK(r[3].level == "WARN");
  CHECK(r[4].message == "  indented but not in a trace");

  // A record with a level is never merged, even if it looks like a frame.
  auto lv = tail_records("{\"level\":\"ERROR\",\"message\":\"x\"}\n", "h");
  luffy::log_record frame_with_level;
  frame_with_level.hostname = "h";
  frame_with_level.file_path = lv[0].file_path;
  frame_with_level.level = "ERROR";
  frame_with_level.message = "\tat com.acme.A.b(A.java:1)";
  lv.push_back(frame_with_level);
  CHECK(luffy::merge_continuations(lv) == 0);
}

TEST_CASE("merge: Go panic and .NET trace line by line", "[continuation_merge]") {
  auto r = tail_records(
      "{\"level\":\"ERROR\",\"message\":\"worker crashed\"}\n"
      "panic: runtime error: index out of range [5] with length 3\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.handle(...)\n"
      "\t/app/main.go:12 +0x1d\n"
      "main.main()\n"
      "\t/app/main.go:7 +0x25\n"
      "exit status 2\n"
      "{\"level\":\"ERROR\",\"message\":\"request failed\"}\n"
      "System.InvalidOperationException: Sequence contains no elements\n"
      "   at Acme.Orders.OrderService.GetOrder(Int32 id) in /src/OrderService.cs:line 42\n"
      "   --- End of inner exception stack trace ---\n",
      "h");
  CHECK(luffy::merge_continuations(r) == 11);
  REQUIRE(r.size() == 2);
  const luffy::clustering_options opt;
  const auto go = luffy::compute_fingerprint(r[0], opt, nullptr);
  CHECK(go.level == 1);
  CHECK(go.exception_type == "runtime.Error");
  CHECK(go.culprit == "main.handle");
  const auto net = luffy::compute_fingerprint(r[1], opt, nullptr);
  CHECK(net.level == 1);
  CHECK(net.culprit == "Acme.Orders.OrderService.GetOrder");
}

TEST_CASE("merge: classify_continuation", "[continuation_merge]") {
  using luffy::classify_continuation;
  using luffy::continuation_kind;
  CHECK(classify_continuation("\tat a.B.c(B.java:1)") == continuation_kind::strong);
  CHECK(classify_continuation("    at f (/x.js:1:2)") == continuation_kind::strong);
  CHECK(classify_continuation("Caused by: x.Y: z") == continuation_kind::strong);
  CHECK(classify_continuation("\t... 4 more") == continuation_kind::strong);
  CHECK(classify_continuation("  File \"/a.py\", line 1, in f") == continuation_kind::strong);
  CHECK(classify_continuation("goroutine 1 [running]:") == continuation_kind::strong);
  CHECK(classify_continuation("Traceback (most recent call last):") ==
        continuation_kind::trace_start);
  CHECK(classify_continuation("ValueError: x") == continuation_kind::trace_start);
  CHECK(classify_continuation("    result = handler(payload)") == continuation_kind::in_trace);
  CHECK(classify_continuation("main.main()") == continuation_kind::in_trace);
  CHECK(classify_continuation("GET /orders/41 200 12ms") == continuation_kind::none);
  CHECK(classify_continuation("we met at noon") == continuation_kind::none);
}
