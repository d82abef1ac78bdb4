#pragma once
// A request as the routes see it (Poco's interface), built from the head the gate parsed, with
// the body read exactly as framed: Content-Length bytes straight from the socket, chunked bodies
// through the framer, nothing otherwise. No byte past the body is ever taken from the socket, so
// what follows it in the kernel buffer is the next request's head, for the gate to parse.
//
// Used by one worker thread, for one request, while it holds the connection. The body reads
// count into connection::body_read, which the watchdog compares with the body's deadlines.
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/SocketAddress.h>
#include <sys/types.h>

#include <istream>
#include <streambuf>
#include <string>
#include <vector>

#include "core/http_framing.hpp"
#include "net/connection.hpp"

namespace luffy {

class framed_request final : public Poco::Net::HTTPServerRequest {
 public:
  framed_request(connection& c, request_framer& framer, Poco::Net::HTTPServerResponseImpl& res,
                 const Poco::Net::HTTPServerParams& params);

  std::istream& stream() override { return stream_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  Poco::Net::HTTPServerResponse& response() const override { return res_; }
  bool secure() const override { return false; }
  // The verified TLS client certificate of the connection, or nullptr.
  const client_identity* tls_client() const { return tls_client_.get(); }

  const request_head& head() const { return framer_.head(); }
  bool body_done() const { return done_; }
  const framing_error& body_error() const { return error_; }

  // Up to n body bytes: > 0 read, 0 at the end of the body, -1 when the body cannot be read to
  // its end (the client closed or stalled past the deadlines, or a chunk is malformed:
  // body_error() says which). A 100 Continue the client waits for is sent first.
  std::streamsize read(char* out, size_t n);

  // Reads and drops the rest of the body, up to `limit` bytes. True when the body ended (the
  // connection can serve its next request). A body the client sends only after a 100 Continue
  // is not asked for: false (the connection closes after the answer).
  bool discard(size_t limit);

 private:
  std::streamsize fail(int status, std::string code, std::string message);
  // One receive of at most n bytes; 0 when the client closed, the read timed out (the socket's
  // receive timeout) or the watchdog cut the read side.
  ssize_t receive(char* out, size_t n, int flags);
  std::streamsize read_length(char* out, size_t n);
  std::streamsize read_chunked(char* out, size_t n);

  // req.stream() over read().
  struct body_buf : std::streambuf {
    framed_request* owner = nullptr;
    char data[8192];
    int_type underflow() override;
  };

  connection& c_;
  request_framer& framer_;
  Poco::Net::HTTPServerResponseImpl& res_;
  const Poco::Net::HTTPServerParams& params_;
  Poco::Net::SocketAddress client_, server_;
  std::shared_ptr<const client_identity> tls_client_;
  body_buf buf_;
  std::istream stream_;
  uint64_t taken_ = 0;
  bool done_ = false;
  bool failed_ = false;
  bool continue_sent_ = false;
  framing_error error_;
  std::string carry_, input_;
  std::vector<char> peek_;
};

// The verified TLS client certificate behind `req` (a framed_request on a TLS connection that
// presented one), or nullptr.
const client_identity* tls_client_of(const Poco::Net::HTTPServerRequest& req);

// The session a response is written through (Poco's response classes write to a session). It
// never reads: request heads and bodies are read as core/http_framing decided (framed_request).
class write_session : public Poco::Net::HTTPServerSession {
 public:
  write_session(const Poco::Net::StreamSocket& s, Poco::Net::HTTPServerParams::Ptr p)
      : Poco::Net::HTTPServerSession(s, p) {}
  // Poco's session closes its socket when destroyed; the connection outlives it.
  ~write_session() override {
    try {
      detachSocket();
    } catch (...) {
    }
  }
  write_session(const write_session&) = delete;
  write_session& operator=(const write_session&) = delete;
};

}  // namespace luffy
