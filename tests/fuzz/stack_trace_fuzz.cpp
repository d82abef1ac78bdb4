// libFuzzer harness: stack-trace detection, the six per-language parsers, frame classification,
// parameterisation and fingerprints, on records built from the input as the pipeline builds them:
// the text as a record's stack_trace, as a multi-line message, and split into one record per line
// (Fluent Bit tail without a multiline parser) that the continuation merge rejoins.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/continuation_merge.hpp"
#include "core/fingerprint.hpp"
#include "core/frame_classifier.hpp"
#include "core/parameterize.hpp"
#include "core/stack_trace.hpp"
#include "core/template_miner.hpp"
#include "core/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace luffy;

const clustering_options& options() {
  static const clustering_options opt = [] {
    clustering_options o;
    o.top_frames = 5;
    o.rules.in_app_prefixes = {"com.acme", "app/", "github.com/acme", "Acme."};
    o.rules.not_in_app_prefixes = {"com.acme.vendor", "node_modules"};
    return o;
  }();
  return opt;
}

void check_info(const exception_info& info) {
  LUFFY_FUZZ_CHECK(is_valid_utf8(info.language));
  for (const exception_chain_link& link : info.chain) {
    LUFFY_FUZZ_CHECK(is_valid_utf8(link.type));
    LUFFY_FUZZ_CHECK(is_valid_utf8(link.message));
    for (const stack_frame& f : link.frames) {
      LUFFY_FUZZ_CHECK(is_valid_utf8(f.module));
      LUFFY_FUZZ_CHECK(is_valid_utf8(f.function));
      LUFFY_FUZZ_CHECK(is_valid_utf8(f.file));
      LUFFY_FUZZ_CHECK(f.line >= 0);
    }
  }
}

bool is_cluster_id(std::string_view id) {
  if (id.size() != 32) {
    return false;
  }
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

void check_fingerprint(const log_record& r) {
  template_miner miner(options().miner_similarity);
  const fingerprint fp = compute_fingerprint(r, options(), &miner);
  LUFFY_FUZZ_CHECK(fp.level >= 1 && fp.level <= 3);
  LUFFY_FUZZ_CHECK(is_cluster_id(fp.cluster_id));
  LUFFY_FUZZ_CHECK(fp.cluster_id == cluster_id_for(r.service_id, fp.key));
  LUFFY_FUZZ_CHECK(fp.level != 3 || fp.key == "3\n" + fp.template_anchor);
  for (const std::string* s :
       {&fp.key, &fp.title, &fp.culprit, &fp.exception_type, &fp.template_text, &fp.language}) {
    LUFFY_FUZZ_CHECK(is_valid_utf8(*s));
  }
  // Deterministic: the same record gives the same cluster in another process (fresh miner).
  template_miner other(options().miner_similarity);
  LUFFY_FUZZ_CHECK(compute_fingerprint(r, options(), &other).cluster_id == fp.cluster_id);
  // The shards' trace cache changes nothing: a miss and then a hit give the same fingerprint.
  trace_cache cache(options().rules, 4);
  for (int pass = 0; pass < 2; ++pass) {
    template_miner cached_miner(options().miner_similarity);
    const fingerprint c = compute_fingerprint(r, options(), &cached_miner, &cache);
    LUFFY_FUZZ_CHECK(c.cluster_id == fp.cluster_id && c.key == fp.key && c.title == fp.title &&
                     c.culprit == fp.culprit && c.template_text == fp.template_text &&
                     c.exception_type == fp.exception_type && c.language == fp.language);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) {
    return 0;  // records are cut at 256 KiB; larger inputs only slow the search down
  }
  // Records hold valid UTF-8 (the decoders repair it), so the parsers see what they would see.
  std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string text = is_valid_utf8(raw) ? raw : repair_utf8(raw);

  const std::string_view lang = detect_trace_language(text);
  using parser_fn = std::optional<exception_info> (*)(std::string_view);
  for (parser_fn parse : {parse_java_trace, parse_python_trace, parse_node_trace, parse_go_trace,
                          parse_dotnet_trace, parse_ruby_trace}) {
    std::optional<exception_info> info = parse(text);
    if (info) {
      check_info(*info);
      classify_frames(*info, options().rules);
    }
  }
  if (const std::optional<exception_info> info = parse_trace(text, options().rules)) {
    LUFFY_FUZZ_CHECK(!lang.empty());
    check_info(*info);
  }

  const std::string p = parameterize(text);
  LUFFY_FUZZ_CHECK(is_valid_utf8(p));
  LUFFY_FUZZ_CHECK(parameterize(p) == p);  // documented: idempotent

  // The trace in stack_trace, with a one-line message; then the whole text as the message.
  log_record r;
  r.service_id = "orders";
  r.level = "ERROR";
  r.message = text.substr(0, text.find('\n'));
  if (r.message.empty()) {
    r.message = "request failed";
  }
  r.stack_trace = text;
  check_info(extract_exception(r, options().rules));
  check_fingerprint(r);
  r.stack_trace.clear();
  r.message = text.empty() ? std::string("request failed") : text;
  r.exception_type = "java.lang.IllegalStateException";
  r.exception_message = "fallback";
  check_fingerprint(r);

  // One record per line, as tail without a multiline parser ships them.
  std::vector<log_record> lines;
  size_t pos = 0;
  while (pos < text.size() && lines.size() < 1000) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > pos) {
      log_record l;
      l.service_id = "orders";
      l.hostname = "web-1";
      l.file_path = "/var/log/app/app.log";
      l.message = text.substr(pos, end - pos);
      l.level = lines.empty() ? "ERROR" : "UNKNOWN";
      lines.push_back(std::move(l));
    }
    pos = end + 1;
  }
  const size_t before = lines.size();
  const size_t merged = merge_continuations(lines);
  LUFFY_FUZZ_CHECK(lines.size() + merged == before);
  template_miner miner(options().miner_similarity);
  for (const log_record& l : lines) {
    LUFFY_FUZZ_CHECK(!l.message.empty());
    LUFFY_FUZZ_CHECK(is_valid_utf8(l.stack_trace));
    const fingerprint fp = compute_fingerprint(l, options(), &miner);
    LUFFY_FUZZ_CHECK(is_cluster_id(fp.cluster_id));
  }
  return 0;
}
