#include "net/framed_request.hpp"

#include <Poco/Exception.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "net/request_body.hpp"

namespace luffy {

framed_request::framed_request(connection& c, request_framer& framer,
                               Poco::Net::HTTPServerResponseImpl& res,
                               const Poco::Net::HTTPServerParams& params)
    : c_(c), framer_(framer), res_(res), params_(params), stream_(&buf_) {
  const request_head& h = framer.head();
  setMethod(h.method);
  setURI(h.target);
  setVersion(h.version == 10 ? HTTP_1_0 : HTTP_1_1);
  for (const auto& [name, value] : h.fields) {
    add(name, value);
  }
  buf_.owner = this;
  done_ = h.framing == body_framing::none ||
          (h.framing == body_framing::length && h.content_length == 0);
  try {
    tls_client_ = c.tls_client;
    client_ = c.peer ? *c.peer : c.socket.peerAddress();
    server_ = c.socket.address();
  } catch (const Poco::Exception&) {
  }
}

std::streamsize framed_request::read(char* out, size_t n) {
  if (done_) {
    return 0;
  }
  if (failed_) {
    return -1;
  }
  if (n == 0) {
    return 0;
  }
  if (head().expect_continue && !continue_sent_ && !res_.sent()) {
    continue_sent_ = true;
    try {
      res_.sendContinue();
    } catch (const Poco::Exception&) {
      return fail(400, "truncated_body", "the connection failed before the body was sent");
    }
  }
  return head().framing == body_framing::chunked ? read_chunked(out, n) : read_length(out, n);
}

bool framed_request::discard(size_t limit) {
  if (done_) {
    return true;
  }
  if (head().expect_continue && !continue_sent_) {
    return false;
  }
  static thread_local std::vector<char> scratch(64 << 10);
  size_t total = 0;
  while (total <= limit) {
    const std::streamsize got = read(scratch.data(), scratch.size());
    if (got <= 0) {
      return got == 0;
    }
    total += static_cast<size_t>(got);
  }
  return done_;
}

std::streamsize framed_request::fail(int status, std::string code, std::string message) {
  failed_ = true;
  error_ = framing_error{status, std::move(code), std::move(message)};
  return -1;
}

ssize_t framed_request::receive(char* out, size_t n, int flags) {
  for (;;) {
    const ssize_t r = ::recv(c_.fd, out, n, flags);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    return r < 0 ? 0 : r;
  }
}

std::streamsize framed_request::read_length(char* out, size_t n) {
  const uint64_t left = head().framing == body_framing::length ? head().content_length - taken_ : 0;
  if (left == 0) {
    done_ = true;
    return 0;
  }
  const ssize_t r = receive(out, static_cast<size_t>(std::min<uint64_t>(left, n)), 0);
  if (r <= 0) {
    return fail(400, "truncated_body",
                "body ended after " + std::to_string(taken_) + " of " +
                    std::to_string(head().content_length) + " declared bytes");
  }
  taken_ += static_cast<uint64_t>(r);
  c_.body_read.fetch_add(r, std::memory_order_relaxed);
  done_ = taken_ == head().content_length;
  return r;
}

// Chunked: the framer sees the bytes the kernel holds (peeked) after those kept from earlier
// calls (carry_: a partial chunk line, which is always part of this body); only the bytes it
// consumes are taken from the socket.
std::streamsize framed_request::read_chunked(char* out, size_t n) {
  for (;;) {
    peek_.resize(16 << 10);
    const ssize_t p = receive(peek_.data(), peek_.size(), MSG_PEEK);
    if (p <= 0) {
      return fail(400, "truncated_body",
                  "the chunked body ended after " + std::to_string(framer_.chunked_body_bytes()) +
                      " bytes, before its last chunk");
    }
    input_.assign(carry_);
    input_.append(peek_.data(), static_cast<size_t>(p));
    size_t consumed = 0, produced = 0;
    const framing_status st = framer_.decode_chunked(input_, out, n, consumed, produced);
    if (st == framing_status::invalid) {
      const framing_error& e = framer_.error();
      return fail(e.status, e.code, e.message);
    }
    if (st == framing_status::need_more) {
      consumed = input_.size();  // all of it belongs to this body: keep it, wait for more
      carry_.assign(input_);
    } else {
      carry_.erase(0, std::min(consumed, carry_.size()));
    }
    // Take from the socket what was used of the peeked bytes (they are there: no wait).
    const size_t from_kernel =
        consumed - std::min(consumed, input_.size() - static_cast<size_t>(p));
    if (from_kernel > 0 &&
        receive(peek_.data(), from_kernel, MSG_WAITALL) != static_cast<ssize_t>(from_kernel)) {
      return fail(400, "truncated_body", "the connection failed inside the chunked body");
    }
    c_.body_read.fetch_add(static_cast<int64_t>(from_kernel), std::memory_order_relaxed);
    if (st == framing_status::done) {
      done_ = true;
    }
    if (produced > 0) {
      return static_cast<std::streamsize>(produced);
    }
    if (done_) {
      return 0;
    }
  }
}

framed_request::body_buf::int_type framed_request::body_buf::underflow() {
  const std::streamsize n = owner->read(data, sizeof data);
  if (n <= 0) {
    return traits_type::eof();
  }
  setg(data, data, data + n);
  return traits_type::to_int_type(data[0]);
}

namespace {
framed_request* framed(Poco::Net::HTTPServerRequest& req) {
  return dynamic_cast<framed_request*>(&req);
}
}  // namespace

std::streamsize read_body(Poco::Net::HTTPServerRequest& req, char* buf, size_t n) {
  if (auto* r = framed(req)) {
    return r->read(buf, n);
  }
  std::istream& in = req.stream();
  in.read(buf, static_cast<std::streamsize>(n));
  return in.gcount();
}

body_framing request_framing(Poco::Net::HTTPServerRequest& req, uint64_t& length) {
  if (auto* r = framed(req)) {
    length = r->head().content_length;
    return r->head().framing;
  }
  length = req.hasContentLength() ? static_cast<uint64_t>(req.getContentLength64()) : 0;
  return req.getChunkedTransferEncoding() ? body_framing::chunked
         : req.hasContentLength()         ? body_framing::length
                                          : body_framing::none;
}

bool discard_body(Poco::Net::HTTPServerRequest& req, size_t limit) {
  if (auto* r = framed(req)) {
    return r->discard(limit);
  }
  return false;
}

framing_error body_error(Poco::Net::HTTPServerRequest& req) {
  if (auto* r = framed(req)) {
    return r->body_error();
  }
  return {};
}

const client_identity* tls_client_of(const Poco::Net::HTTPServerRequest& req) {
  const auto* framed = dynamic_cast<const framed_request*>(&req);
  return framed == nullptr ? nullptr : framed->tls_client();
}

}  // namespace luffy
