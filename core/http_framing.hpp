#pragma once
// Where an HTTP/1.1 request ends (RFC 9112 §6), decided once. Boost.Beast's strict, fuzzed
// HTTP/1.1 parser reads the head; this file adds the rules Beast leaves to its caller and turns
// every refusal into a status, an error code and a message. The gate (net/connection_gate.cpp)
// parses each head here before a worker sees it, and the worker reads the body exactly as decided
// here: nothing else in the server looks at raw request bytes.
//
// A head is refused (and the connection then closed) when it has:
//  - a malformed request line, field line or line ending (bare LF, space before the colon, a
//    control character), obs-fold or whitespace before the first field            400
//  - a Content-Length that is not one decimal number, or several that differ        400
//    (identical repeats, "5, 5", count as one, RFC 9110 §8.6)
//  - both Content-Length and Transfer-Encoding, or Transfer-Encoding in HTTP/1.0     400
//  - a Transfer-Encoding whose last coding is not chunked, or chunked twice          400
//  - a transfer coding other than chunked before the final chunked                  501
//  - HTTP/1.1 without exactly one Host, or HTTP/1.0 with several                    400
//  - an Expect other than 100-continue                                              417
//  - a version other than HTTP/1.0 and HTTP/1.1                                     505
//  - a head over max_head_bytes or more than max_fields field lines                 431
//  - a request target over max_target_bytes                                         414
// Accepted heads have one framing: no body (neither header: RFC 9112 §6.3 item 7), exactly
// content_length bytes, or a chunked body (decode_chunked). Leading empty lines (CRLF) before the
// request line are skipped (RFC 9112 §2.2) and count towards the head.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luffy {

struct framing_limits {
  size_t max_head_bytes = 32 << 10;   // request line + fields + CRLFs
  size_t max_fields = 100;            // field lines in the head (and, separately, in trailers)
  size_t max_target_bytes = 8 << 10;  // the request target (path and query)
  // One chunk-size line with its extensions, or the last chunk with its trailer section.
  size_t max_chunk_head_bytes = 8 << 10;
};

enum class body_framing : uint8_t { none, length, chunked };

// A refusal: HTTP status, a stable error code for the JSON body, and a message for people.
struct framing_error {
  int status = 0;
  std::string code;
  std::string message;
};

struct request_head {
  std::string method;
  std::string target;
  int version = 11;  // 10 or 11
  // Every field line as sent, in order, names as sent; except Content-Length and
  // Transfer-Encoding, which appear once each, canonical ("Content-Length: <n>",
  // "Transfer-Encoding: chunked"), exactly when the framing says so.
  std::vector<std::pair<std::string, std::string>> fields;
  body_framing framing = body_framing::none;
  uint64_t content_length = 0;   // framing == length
  bool keep_alive = true;        // HTTP/1.1 without "Connection: close", HTTP/1.0 with keep-alive
  bool expect_continue = false;  // HTTP/1.1 with "Expect: 100-continue"
};

enum class framing_status {
  need_more,  // no decision yet: the head (or the chunk line, the trailers) is not complete
  done,       // the head is complete; for decode_chunked: the body is complete
  progress,   // decode_chunked only: consumed and/or produced something, the body goes on
  invalid,    // refused: error() says why; the connection must be closed after the answer
};

class request_framer {
 public:
  explicit request_framer(const framing_limits& limits = {});
  ~request_framer();
  request_framer(const request_framer&) = delete;
  request_framer& operator=(const request_framer&) = delete;

  // The bytes received so far for this request, from its first byte (each call the same prefix,
  // longer). need_more, done (head() and head_size() are set) or invalid. Call again only after
  // need_more.
  framing_status parse_head(std::string_view received);
  const request_head& head() const;
  size_t head_size() const;  // bytes of the head, leading CRLFs and the final CRLF included
  const framing_error& error() const;

  // Chunked bodies only, after parse_head returned done. `in` holds the body bytes received
  // and not consumed yet (after need_more, the same bytes again, followed by more). Decodes
  // chunk data into out[0, cap). `consumed` counts the input bytes used (the next call starts
  // after them), `produced` the data bytes written. Returns progress, need_more (nothing
  // consumed: more input is needed), done (the last chunk and the trailers are consumed: the
  // next byte belongs to the next request) or invalid. Trailer fields are checked and dropped.
  framing_status decode_chunked(std::string_view in, char* out, size_t cap, size_t& consumed,
                                size_t& produced);
  uint64_t chunked_body_bytes() const;  // data bytes decoded so far

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Status line reason phrase (RFC 9110 §15) for the statuses this server sends.
std::string_view reason_phrase(int status);

}  // namespace luffy
