// libFuzzer harness: core/http_framing on a stream of bytes as a client would send them on one
// connection (pipelined requests), processed as the server does: a head, its body as framed
// (skipped, or decoded when chunked), then the next head.
// Checks: one decision per head whatever the bytes were cut into (a prefix that was need_more,
// then the whole, gives the decision of the whole; an invalid head may be found invalid only
// once its end is in); a refusal has a status the edge sends, a
// code and a message; an accepted head names its framing once (one canonical Content-Length or
// Transfer-Encoding field, exactly when framed so) and never claims more bytes than it was
// given; chunked decoding gives the same data, end and consumption for any output buffer size
// and any input cuts, never consumes past its input, and never produces more than it consumed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_framing.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using luffy::body_framing;
using luffy::framing_status;
using luffy::request_framer;

struct head_decision {
  framing_status status;
  size_t size = 0;
  body_framing framing = body_framing::none;
  uint64_t length = 0;
  int error = 0;
};

head_decision decide(request_framer& f, std::string_view in) {
  head_decision d{f.parse_head(in)};
  if (d.status == framing_status::done) {
    d.size = f.head_size();
    d.framing = f.head().framing;
    d.length = f.head().content_length;
  } else if (d.status == framing_status::invalid) {
    d.error = f.error().status;
  }
  return d;
}

bool same(const head_decision& a, const head_decision& b) {
  return a.status == b.status && a.size == b.size && a.framing == b.framing &&
         a.length == b.length && a.error == b.error;
}

void check_head(request_framer& f, std::string_view in, const head_decision& d) {
  if (d.status == framing_status::invalid) {
    const auto& e = f.error();
    const int allowed[] = {400, 414, 417, 431, 501, 505};
    LUFFY_FUZZ_CHECK(std::find(std::begin(allowed), std::end(allowed), e.status) !=
                     std::end(allowed));
    LUFFY_FUZZ_CHECK(!e.code.empty() && !e.message.empty());
    return;
  }
  if (d.status != framing_status::done) {
    return;
  }
  const auto& h = f.head();
  LUFFY_FUZZ_CHECK(d.size > 0 && d.size <= in.size());
  LUFFY_FUZZ_CHECK(in.substr(0, d.size).ends_with("\r\n\r\n"));
  LUFFY_FUZZ_CHECK(!h.method.empty() && !h.target.empty());
  LUFFY_FUZZ_CHECK(h.version == 10 || h.version == 11);
  LUFFY_FUZZ_CHECK(!h.expect_continue || h.version == 11);
  int lengths = 0, codings = 0;
  for (const auto& [name, value] : h.fields) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "content-length") {
      ++lengths;
      LUFFY_FUZZ_CHECK(value == std::to_string(h.content_length));
    } else if (lower == "transfer-encoding") {
      ++codings;
      LUFFY_FUZZ_CHECK(value == "chunked");
    }
  }
  LUFFY_FUZZ_CHECK(lengths == (h.framing == body_framing::length ? 1 : 0));
  LUFFY_FUZZ_CHECK(codings == (h.framing == body_framing::chunked ? 1 : 0));
}

struct chunked_run {
  framing_status status = framing_status::need_more;
  size_t consumed = 0;
  std::string data;
};

// Decodes the chunked body at the start of `in` with an output buffer of `cap` bytes, the input
// arriving `step` bytes at a time, as the server does (unconsumed bytes are offered again).
chunked_run dechunk(std::string_view head_bytes, std::string_view in, size_t cap, size_t step) {
  request_framer f;
  chunked_run r;
  if (f.parse_head(head_bytes) != framing_status::done) {
    return r;
  }
  std::string out(cap, '\0');
  size_t avail = std::min(step, in.size());
  for (int guard = 0; guard < 1 << 20; ++guard) {
    const std::string_view window = in.substr(r.consumed, avail - r.consumed);
    size_t consumed = 0, produced = 0;
    r.status = f.decode_chunked(window, out.data(), cap, consumed, produced);
    LUFFY_FUZZ_CHECK(consumed <= window.size());
    LUFFY_FUZZ_CHECK(produced <= cap);
    r.data.append(out.data(), produced);
    r.consumed += consumed;
    LUFFY_FUZZ_CHECK(r.data.size() <= r.consumed);
    LUFFY_FUZZ_CHECK(f.chunked_body_bytes() == r.data.size());
    if (r.status == framing_status::done || r.status == framing_status::invalid) {
      return r;
    }
    if (r.status == framing_status::need_more) {
      LUFFY_FUZZ_CHECK(consumed == 0 && produced == 0);
      if (avail == in.size()) {
        return r;
      }
      avail = std::min(avail + step, in.size());
    }
  }
  LUFFY_FUZZ_CHECK(!"chunked decoding made no progress");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  // Cut points and buffer sizes come from the input's first byte, so that every run is
  // reproducible from the input alone.
  const unsigned knob = size > 0 ? data[0] : 0;
  for (int requests = 0; requests < 16 && !rest.empty(); ++requests) {
    request_framer whole;
    const head_decision d = decide(whole, rest);
    check_head(whole, rest, d);
    // The same decision when the head arrives in two parts.
    const size_t cut = rest.size() * (knob % 7 + 1) / 8;
    request_framer parts;
    head_decision first = decide(parts, rest.substr(0, cut));
    if (first.status == framing_status::need_more) {
      first = decide(parts, rest);
    }
    // An invalid head may be refused before its end arrives (a fresh parse fails at the bad
    // byte) or only once it has (Beast, fed in parts, first waits for the end of the head); it
    // is never accepted, and an accepted head is accepted the same.
    const bool both_refused_or_waiting =
        (first.status == framing_status::invalid || first.status == framing_status::need_more) &&
        (d.status == framing_status::invalid || d.status == framing_status::need_more) &&
        (first.status == framing_status::invalid || d.status == framing_status::invalid);
    LUFFY_FUZZ_CHECK(same(first, d) || both_refused_or_waiting);
    if (d.status != framing_status::done) {
      return 0;
    }
    const std::string_view head_bytes = rest.substr(0, d.size);
    rest.remove_prefix(d.size);
    if (d.framing == body_framing::length) {
      if (d.length > rest.size()) {
        return 0;
      }
      rest.remove_prefix(static_cast<size_t>(d.length));
    } else if (d.framing == body_framing::chunked) {
      const chunked_run a = dechunk(head_bytes, rest, 1 << 16, rest.size() + 1);
      const chunked_run b = dechunk(head_bytes, rest, knob % 13 + 1, knob % 5 + 1);
      LUFFY_FUZZ_CHECK(a.status == b.status);
      if (a.status == framing_status::done) {
        LUFFY_FUZZ_CHECK(a.consumed == b.consumed);
      }
      LUFFY_FUZZ_CHECK(a.status == framing_status::invalid || a.data == b.data);
      if (a.status != framing_status::done) {
        return 0;
      }
      rest.remove_prefix(a.consumed);
    }
  }
  return 0;
}
