#include "core/http_framing.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

namespace luffy {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

framing_error make_error(int status, std::string code, std::string message) {
  return framing_error{status, std::move(code), std::move(message)};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Beast's refusals, in the words of the JSON error body.
framing_error from_beast(const error_code& ec, std::string_view head) {
  switch (static_cast<http::error>(ec.value())) {
    case http::error::header_limit:
      return make_error(431, "headers_too_large", "the request head is too large");
    case http::error::bad_method:
      return make_error(400, "malformed_request", "the request line has an invalid method");
    case http::error::bad_target:
      return make_error(400, "malformed_request", "the request line has an invalid target");
    case http::error::bad_version: {
      // "HTTP/d.d" CRLF with another version is 505; anything else is malformed.
      const auto eol = head.find('\n');
      std::string_view line = head.substr(0, eol);
      const bool crlf = eol != std::string_view::npos && !line.empty() && line.back() == '\r';
      if (crlf) {
        line.remove_suffix(1);
      }
      const bool version_shape = line.size() >= 9 && line.substr(line.size() - 9, 6) == " HTTP/" &&
                                 std::isdigit(static_cast<unsigned char>(line[line.size() - 3])) &&
                                 line[line.size() - 2] == '.' &&
                                 std::isdigit(static_cast<unsigned char>(line[line.size() - 1]));
      if (crlf && version_shape) {
        return make_error(505, "http_version_not_supported",
                          "only HTTP/1.0 and HTTP/1.1 are supported");
      }
      return make_error(400, "malformed_request",
                        "the request line must end in HTTP/1.1 (or HTTP/1.0) and CRLF");
    }
    case http::error::bad_line_ending:
      return make_error(400, "malformed_request", "every line must end in CRLF");
    case http::error::bad_field:
      return make_error(400, "malformed_request",
                        "a header field line is malformed (field names are tokens followed "
                        "directly by ':')");
    case http::error::bad_value:
    case http::error::bad_obs_fold:
      return make_error(400, "malformed_request", "a header field value is malformed");
    case http::error::bad_content_length:
      return make_error(400, "invalid_content_length",
                        "Content-Length must be one decimal number (repeats must be equal), "
                        "and cannot come with Transfer-Encoding");
    case http::error::bad_transfer_encoding:
      return make_error(400, "invalid_transfer_encoding",
                        "Transfer-Encoding cannot repeat chunked nor come with Content-Length");
    case http::error::bad_chunk:
      return make_error(400, "malformed_chunked_body",
                        "a chunk size is not hexadecimal, or chunk data is not followed by CRLF");
    case http::error::bad_chunk_extension:
      return make_error(400, "malformed_chunked_body", "a chunk extension is malformed");
    default:
      return make_error(400, "malformed_request", "the request cannot be parsed: " + ec.message());
  }
}

}  // namespace

// Beast's parser with the callbacks that record the head and hand out chunk data.
struct request_framer::impl final : http::basic_parser<true> {
  explicit impl(const framing_limits& l) : limits(l) {
    header_limit(static_cast<std::uint32_t>(l.max_head_bytes));
    // Each route applies server.max_body_bytes itself (boost::none is refused by Beast 1.74).
    body_limit(std::numeric_limits<std::uint64_t>::max());
    eager(false);
  }

  framing_limits limits;
  request_head head;
  size_t head_size = 0;
  size_t head_used = 0;  // head bytes Beast consumed in earlier calls (need_more)
  framing_error error;
  bool header_done = false;
  size_t fields = 0, trailer_fields = 0;
  size_t hosts = 0;
  bool has_length = false, has_te = false, expect = false;
  std::vector<std::string> codings;  // every Transfer-Encoding coding, in order, lower case
  // Chunk data delivery (decode_chunked).
  char* out = nullptr;
  size_t cap = 0;
  size_t produced = 0;
  uint64_t body_bytes = 0;
  uint64_t chunk_left = 0;  // data bytes of the current chunk not decoded yet

  void refuse(error_code& ec, framing_error e) {
    error = std::move(e);
    ec = http::error::bad_value;  // any error: ours is in `error`
  }

  void on_request_impl(http::verb, string_view method, string_view target, int version,
                       error_code& ec) override {
    if (target.size() > limits.max_target_bytes) {
      return refuse(ec, make_error(414, "uri_too_long",
                                   "the request target exceeds " +
                                       std::to_string(limits.max_target_bytes) + " bytes"));
    }
    head.method.assign(method.data(), method.size());
    head.target.assign(target.data(), target.size());
    head.version = version;
  }

  void on_response_impl(int, string_view, int, error_code&) override {}

  void on_field_impl(http::field f, string_view name, string_view value, error_code& ec) override {
    if (header_done) {
      // A trailer field: checked by Beast, counted, dropped (never merged into the head).
      if (++trailer_fields > limits.max_fields) {
        refuse(ec, make_error(400, "malformed_chunked_body", "too many trailer fields"));
      }
      return;
    }
    if (++fields > limits.max_fields) {
      return refuse(
          ec, make_error(431, "headers_too_large",
                         "more than " + std::to_string(limits.max_fields) + " header fields"));
    }
    switch (f) {
      case http::field::content_length:
        has_length = true;  // Beast checked the value and any earlier one
        return;
      case http::field::transfer_encoding: {
        has_te = true;
        http::opt_token_list list{value};
        if (!http::validate_list(list)) {
          return refuse(ec, make_error(400, "invalid_transfer_encoding",
                                       "Transfer-Encoding is not a list of transfer codings"));
        }
        for (const auto& t : list) {
          std::string c(t.data(), t.size());
          for (auto& ch : c) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          }
          codings.push_back(std::move(c));
        }
        return;
      }
      case http::field::host:
        ++hosts;
        break;
      case http::field::expect:
        if (!iequals(std::string_view(value.data(), value.size()), "100-continue")) {
          return refuse(ec, make_error(417, "expectation_failed",
                                       "the only expectation supported is 100-continue"));
        }
        expect = true;
        break;
      default:
        break;
    }
    head.fields.emplace_back(std::string(name.data(), name.size()),
                             std::string(value.data(), value.size()));
  }

  void on_header_impl(error_code& ec) override {
    header_done = true;
    if (has_te && has_length) {
      return refuse(ec, make_error(400, "invalid_transfer_encoding",
                                   "a request cannot have both Content-Length and "
                                   "Transfer-Encoding"));
    }
    if (has_te) {
      if (head.version < 11) {
        return refuse(ec, make_error(400, "invalid_transfer_encoding",
                                     "Transfer-Encoding is not allowed in HTTP/1.0"));
      }
      const auto chunked = std::count(codings.begin(), codings.end(), "chunked");
      if (codings.empty() || chunked != 1 || codings.back() != "chunked") {
        return refuse(ec, make_error(400, "invalid_transfer_encoding",
                                     "the request body length cannot be determined: the last "
                                     "transfer coding must be chunked, once"));
      }
      if (codings.size() > 1) {
        return refuse(ec, make_error(501, "unsupported_transfer_coding",
                                     "transfer coding \"" + codings.front() +
                                         "\" is not supported; send chunked alone (or "
                                         "Content-Encoding: gzip)"));
      }
    }
    if (head.version >= 11 ? hosts != 1 : hosts > 1) {
      return refuse(ec, make_error(400, "invalid_host",
                                   hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                              : "a request cannot have several Host headers"));
    }
    head.keep_alive = keep_alive();
    head.expect_continue = expect && head.version >= 11;
    if (this->chunked()) {
      head.framing = body_framing::chunked;
      head.fields.emplace_back("Transfer-Encoding", "chunked");
    } else if (has_length) {
      head.framing = body_framing::length;
      head.content_length = *content_length();
      head.fields.emplace_back("Content-Length", std::to_string(head.content_length));
    }
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

  std::size_t on_body_impl(string_view body, error_code&) override {
    return body.size();  // Content-Length bodies are read by the server, not through here
  }

  void on_chunk_header_impl(std::uint64_t size, string_view, error_code&) override {
    chunk_left = size;
  }

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    const size_t n = std::min(body.size(), cap - produced);
    std::copy_n(body.data(), n, out + produced);
    produced += n;
    body_bytes += n;
    chunk_left -= n;
    if (n < body.size()) {
      ec = http::error::need_buffer;  // out is full: stop here, the rest comes next call
    }
    return n;
  }

  void on_finish_impl(error_code&) override {}
};

request_framer::request_framer(const framing_limits& limits)
    : impl_(std::make_unique<impl>(limits)) {}

request_framer::~request_framer() = default;

framing_status request_framer::parse_head(std::string_view received) {
  impl& p = *impl_;
  // Empty lines before the request line are ignored (RFC 9112 §2.2); they count as head bytes.
  size_t skip = 0;
  while (received.size() - skip >= 2 && received[skip] == '\r' && received[skip + 1] == '\n') {
    skip += 2;
  }
  if (skip >= p.limits.max_head_bytes) {
    p.error = make_error(431, "headers_too_large", "the request head is too large");
    return framing_status::invalid;
  }
  const std::string_view rest = received.substr(skip);
  if (rest.empty() || (rest.size() == 1 && rest[0] == '\r') || rest.size() < p.head_used) {
    return framing_status::need_more;
  }
  // Beast keeps what it parsed (the request line, whole field lines) and wants the rest.
  const std::string_view unparsed = rest.substr(p.head_used);
  error_code ec;
  const size_t used =
      p.head_used + p.put(boost::asio::const_buffer(unparsed.data(), unparsed.size()), ec);
  if (ec == http::error::need_more) {
    p.head_used = used;
    return framing_status::need_more;
  }
  if (ec) {
    if (p.error.status == 0) {
      p.error = from_beast(ec, rest);
    }
    return framing_status::invalid;
  }
  if (!p.is_header_done()) {
    p.head_used = used;
    return framing_status::need_more;
  }
  // obs-fold, and whitespace between the request line and the first field (RFC 9112 §2.2,
  // §5.2): Beast would unfold them; a field line starting with SP or HTAB is refused instead.
  const std::string_view h = rest.substr(0, used);
  for (size_t i = h.find('\n'); i != std::string_view::npos && i + 1 < h.size();
       i = h.find('\n', i + 1)) {
    if (h[i + 1] == ' ' || h[i + 1] == '\t') {
      p.error = make_error(400, "malformed_request",
                           "a header line starts with whitespace (obs-fold is not accepted)");
      return framing_status::invalid;
    }
  }
  if (skip + used > p.limits.max_head_bytes) {
    p.error = make_error(431, "headers_too_large", "the request head is too large");
    return framing_status::invalid;
  }
  p.head_size = skip + used;
  if (p.head.framing == body_framing::chunked) {
    p.eager(true);
  }
  return framing_status::done;
}

const request_head& request_framer::head() const {
  return impl_->head;
}

size_t request_framer::head_size() const {
  return impl_->head_size;
}

const framing_error& request_framer::error() const {
  return impl_->error;
}

uint64_t request_framer::chunked_body_bytes() const {
  return impl_->body_bytes;
}

framing_status request_framer::decode_chunked(std::string_view in, char* out, size_t cap,
                                              size_t& consumed, size_t& produced) {
  impl& p = *impl_;
  consumed = produced = 0;
  if (p.head.framing != body_framing::chunked || !p.is_header_done()) {
    p.error = make_error(400, "malformed_chunked_body", "not a chunked body");
    return framing_status::invalid;
  }
  if (p.is_done()) {
    return framing_status::done;
  }
  if (in.empty()) {
    return framing_status::need_more;
  }
  // Beast sees the rest of the current chunk and at most max_chunk_head_bytes after it (plus the
  // CRLF that ends the chunk data): a chunk line or trailer section longer than that is refused
  // however its bytes arrive.
  const size_t head_room = p.limits.max_chunk_head_bytes + 2;
  const size_t window =
      p.chunk_left >= in.size() ? in.size() : std::min<size_t>(in.size(), p.chunk_left + head_room);
  in = in.substr(0, window);
  p.out = out;
  p.cap = cap;
  p.produced = 0;
  error_code ec;
  consumed = p.put(boost::asio::const_buffer(in.data(), in.size()), ec);
  produced = p.produced;
  p.out = nullptr;
  p.cap = p.produced = 0;
  if (ec == http::error::need_buffer) {
    ec = {};
  }
  if (ec == http::error::need_more) {
    if (consumed == 0 && produced == 0) {
      if (in.size() >= head_room) {
        p.error = make_error(400, "malformed_chunked_body",
                             "a chunk line or the trailer section exceeds " +
                                 std::to_string(p.limits.max_chunk_head_bytes) + " bytes");
        return framing_status::invalid;
      }
      return framing_status::need_more;
    }
    return framing_status::progress;
  }
  if (ec) {
    if (p.error.status == 0) {
      p.error = from_beast(ec, {});
    }
    return framing_status::invalid;
  }
  if (p.is_done()) {
    return framing_status::done;
  }
  return framing_status::progress;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

}  // namespace luffy
