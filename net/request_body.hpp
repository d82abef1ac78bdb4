#pragma once
// The request body as route handlers read it: exactly as the connection gate framed it
// (core/http_framing): Content-Length bytes, a chunked body decoded, or nothing. Never a byte of
// the next request. Implemented by net/framed_request.cpp.
#include <Poco/Net/HTTPServerRequest.h>

#include <cstddef>
#include <cstdint>
#include <ios>

#include "core/http_framing.hpp"

namespace luffy {

// read_body: up to n bytes, straight from the connection in one system call when the kernel has
// them (a 1.5 MB Fluent Bit chunk in a few calls). > 0 bytes read, 0 at the end of the body, -1
// when it cannot be read to its end (the client closed, a deadline cut it, a chunk is
// malformed): body_error() says why (status, code, message), and the connection closes after
// the answer. A 100 Continue the client waits for is sent before the first read, so a handler
// reads only after it has authenticated and admitted the request.
std::streamsize read_body(Poco::Net::HTTPServerRequest& req, char* buf, size_t n);
framing_error body_error(Poco::Net::HTTPServerRequest& req);
// none, length (and the length) or chunked.
body_framing request_framing(Poco::Net::HTTPServerRequest& req, uint64_t& length);
// Reads and drops the rest of the body, up to `limit` bytes; true when it ended, so that the
// connection can serve its next request. Does not ask for a body the client sends only after a
// 100 Continue (false: the connection closes after the answer).
bool discard_body(Poco::Net::HTTPServerRequest& req, size_t limit);

}  // namespace luffy
