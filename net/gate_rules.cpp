#include "net/gate_rules.hpp"

#include <algorithm>

#include "net/ingest_gateway.hpp"

namespace luffy {

bool evicted_before(const eviction_rank& a, const eviction_rank& b) {
  if (a.client_open != b.client_open) {
    return a.client_open > b.client_open;
  }
  if (a.idle != b.idle) {
    return a.idle;
  }
  if (a.idle && a.requests != b.requests) {
    return a.requests < b.requests;
  }
  return a.since < b.since;
}

int64_t prefetch_wanted(const request_head& h) {
  if (h.framing != body_framing::length || h.expect_continue) {
    return 0;
  }
  return std::min<int64_t>(static_cast<int64_t>(h.content_length),
                           static_cast<int64_t>(kBodyPrefetch));
}

std::string refusal_response(int status, std::string_view code, std::string_view message) {
  const std::string body = error_body(code, message);
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
         "\r\nContent-Type: application/json\r\nConnection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace luffy
