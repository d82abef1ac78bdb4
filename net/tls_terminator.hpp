#pragma once
// TLS on the listener (server.tls.cert_file / key_file): one thread that owns the public socket,
// does every handshake without blocking, and relays each established session to the connection
// gate (net/connection_gate.hpp) over a socketpair.
//
// Why a relay and not TLS inside the gate and workers: the gate decides where a request ends by
// peeking at the kernel buffer (MSG_PEEK) and workers read with blocking Poco sockets; both
// would need a second code path for encrypted bytes. Over a socketpair the gate sees plain HTTP
// exactly as on a TCP socket, so its caps, deadlines and framing hold unchanged for TLS clients
// (the real peer address is passed along for per-client caps and clientAddress()).
//
// What it enforces itself, before the gate sees a connection:
//   - handshakes in progress: at most server.max_connections_per_client per address (0: no
//     cap) and server.max_open_connections in all; each must finish within
//     server.header_timeout_seconds, else it is closed (a silent client stalls nobody);
//   - TLS 1.2 minimum, Mozilla "intermediate" ciphers for TLS 1.2, OpenSSL's TLS 1.3 suites,
//     no renegotiation;
//   - client certificates (server.tls.client_ca_file): verified in the handshake; the subject CN
//     and SANs of a verified one travel with the session to the routes (net/auth.hpp);
//   - plain HTTP sent to the TLS port: the first byte is not a TLS handshake record, so it is
//     answered with a plain 400 (JSON) and closed.
// After the gate closes its side, pending encrypted output gets server.write_timeout_seconds.
//
// Thread safety: run() on one thread; wake() and port() from any thread.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/client_identity.hpp"
#include "net/edge_settings.hpp"

struct ssl_ctx_st;

namespace luffy {

// Problems with a certificate/key pair, each naming the file and what is wrong (unreadable,
// not PEM, no certificate, key does not match); empty when the pair is usable. An expired
// certificate is not a problem here (it is served, with a warning: make_server_tls_context).
// With client_ca_file set, it must hold at least one readable PEM certificate.
// `section` and `ca_key` name the keys in the sentences ("node.tls", "ca_file" for node links).
std::vector<std::string> tls_problems(const std::string& cert_file, const std::string& key_file,
                                      const std::string& client_ca_file = "",
                                      const std::string& section = "server.tls",
                                      const std::string& ca_key = "client_ca_file");

// A server context for the pair; throws std::runtime_error naming the problem.
// With client_ca_file: clients are asked for a certificate signed by those CAs, one that does
// not verify fails the handshake, and with require_client_cert so does none at all.
std::shared_ptr<ssl_ctx_st> make_server_tls_context(const std::string& cert_file,
                                                    const std::string& key_file,
                                                    const std::string& client_ca_file = "",
                                                    bool require_client_cert = false);

// True when the context's certificate is past its notAfter.
bool tls_certificate_expired(ssl_ctx_st& ctx);

class tls_terminator {
 public:
  // Hands an established session's plain descriptor, the client's address and its verified
  // certificate's identity (nullptr: it sent none) to the gate.
  using adopt_fn = std::function<void(int fd, const sockaddr_storage& peer,
                                      std::shared_ptr<const client_identity> client)>;

  // `listen_fd` is bound, listening and non-blocking; its owner closes it after run() returned.
  // `ctx` is read at each accept: a reload that stores a new one (server_context::tls_context)
  // changes the certificate of new connections; established ones keep theirs.
  tls_terminator(const edge_settings& settings, int listen_fd,
                 const std::atomic<std::shared_ptr<ssl_ctx_st>>& ctx, adopt_fn adopt,
                 const std::atomic<bool>& stopping);
  tls_terminator(const tls_terminator&) = delete;
  tls_terminator& operator=(const tls_terminator&) = delete;
  ~tls_terminator();

  void run();
  void wake();
  uint16_t port() const;

  struct session;

 private:
  void accept_some(std::chrono::steady_clock::time_point now);
  void on_event(int fd, std::chrono::steady_clock::time_point now);
  // Moves bytes both ways; false when the session is over (then it is erased).
  bool pump(session& s, std::chrono::steady_clock::time_point now);
  bool handshake(session& s, std::chrono::steady_clock::time_point now);
  void erase(int tcp_fd);
  void sweep(std::chrono::steady_clock::time_point now);

  const edge_settings& settings_;
  const int listen_fd_;
  const std::atomic<std::shared_ptr<ssl_ctx_st>>& ctx_;
  adopt_fn adopt_;
  const std::atomic<bool>& stopping_;
  int wake_fd_ = -1;
  int epoll_fd_ = -1;
  // Keyed by the TCP descriptor; by_plain_ maps the relay's own socketpair end to it.
  std::unordered_map<int, std::unique_ptr<session>> sessions_;
  std::unordered_map<int, int> by_plain_;
  std::unordered_map<std::string, int64_t> handshaking_per_client_;
  uint64_t handshake_failures_ = 0, plain_refused_ = 0, handshake_timeouts_ = 0, capped_ = 0;
  std::chrono::steady_clock::time_point next_report_;
};

}  // namespace luffy
