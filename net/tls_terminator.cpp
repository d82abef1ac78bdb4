#include "net/tls_terminator.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace luffy {

namespace {

using clock = std::chrono::steady_clock;

// Mozilla "intermediate" (v5.7) for TLS 1.2; TLS 1.3 keeps OpenSSL's suites (all AEAD).
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

// Bytes buffered per direction of one session; beyond it the source is not read (backpressure
// reaches the client or the gate through their socket buffers).
constexpr size_t kRelayBuffer = 64 * 1024;

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return "unknown error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string peer_key(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  }
  if (peer.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  }
  return {};
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

// A PEM file's certificates; a problem names the file.
bool read_certificates(const std::string& file, std::vector<X509*>& out, std::string& problem) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) {
    problem = "cannot read " + file + ": " + std::strerror(errno);
    return false;
  }
  while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    out.push_back(x);
  }
  ERR_clear_error();
  std::fclose(f);
  if (out.empty()) {
    problem = file + ": no PEM certificate in it";
    return false;
  }
  return true;
}

// The verified client certificate's subject CN and subjectAltNames, or nullptr when the client
// sent none (a certificate that did not verify never gets here: the handshake failed).
std::shared_ptr<const client_identity> peer_identity(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) {
    return nullptr;
  }
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    X509_free(cert);
    return nullptr;
  }
  auto id = std::make_shared<client_identity>();
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    unsigned char* utf8 = nullptr;
    const int n =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    if (n > 0) {
      id->subject_cn.assign(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
    }
    OPENSSL_free(utf8);
  }
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && i < 64; ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    auto text = [](const ASN1_STRING* a) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(a)),
                         static_cast<size_t>(ASN1_STRING_length(a)));
    };
    if (g->type == GEN_DNS) {
      id->sans.push_back("DNS:" + text(g->d.dNSName));
    } else if (g->type == GEN_URI) {
      id->sans.push_back("URI:" + text(g->d.uniformResourceIdentifier));
    } else if (g->type == GEN_EMAIL) {
      id->sans.push_back("email:" + text(g->d.rfc822Name));
    } else if (g->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(g->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      if ((len == 4 || len == 16) &&
          ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf,
                      sizeof buf) != nullptr) {
        id->sans.push_back(std::string("IP:") + buf);
      }
    }
  }
  GENERAL_NAMES_free(names);
  ERR_clear_error();
  X509_free(cert);
  // A name with a NUL inside is a forgery attempt (it would match a shorter pattern in C code).
  auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (has_nul(id->subject_cn)) {
    id->subject_cn.clear();
  }
  std::erase_if(id->sans, has_nul);
  return id;
}

}  // namespace

std::vector<std::string> tls_problems(const std::string& cert_file, const std::string& key_file,
                                      const std::string& client_ca_file, const std::string& section,
                                      const std::string& ca_key) {
  std::vector<std::string> problems;
  if (!client_ca_file.empty()) {
    std::vector<X509*> cas;
    std::string problem;
    if (!read_certificates(client_ca_file, cas, problem)) {
      problems.push_back(section + "." + ca_key + ": " + problem);
    }
    for (X509* x : cas) {
      X509_free(x);
    }
  }
  if (cert_file.empty() && key_file.empty()) {
    return problems;
  }
  if (cert_file.empty() || key_file.empty()) {
    problems.push_back(section +
                       ": cert_file and key_file go together (set both for TLS, neither for plain "
                       "HTTP)");
    return problems;
  }
  std::vector<X509*> certs;
  std::string problem;
  if (!read_certificates(cert_file, certs, problem)) {
    problems.push_back(section + ".cert_file: " + problem);
  }
  EVP_PKEY* key = nullptr;
  if (FILE* f = std::fopen(key_file.c_str(), "r")) {
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ERR_clear_error();
    if (key == nullptr) {
      problems.push_back(section + ".key_file: " + key_file +
                         ": no unencrypted PEM private key in it");
    }
  } else {
    problems.push_back(section + ".key_file: cannot read " + key_file + ": " +
                       std::strerror(errno));
  }
  if (key != nullptr && !certs.empty() && X509_check_private_key(certs.front(), key) != 1) {
    ERR_clear_error();
    problems.push_back(section + ".key_file: " + key_file + " does not match the certificate in " +
                       cert_file);
  }
  EVP_PKEY_free(key);
  for (X509* x : certs) {
    X509_free(x);
  }
  return problems;
}

std::shared_ptr<ssl_ctx_st> make_server_tls_context(const std::string& cert_file,
                                                    const std::string& key_file,
                                                    const std::string& client_ca_file,
                                                    bool require_client_cert) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    throw std::runtime_error("TLS: " + openssl_error());
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A client that closes without close_notify is an end of input, not an error: the response to
  // what it sent may still be relayed.
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx.get(), kCiphers12) != 1) {
    throw std::runtime_error("TLS ciphers: " + openssl_error());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    throw std::runtime_error("server.tls.cert_file: " + cert_file + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("server.tls.key_file: " + key_file + ": " + openssl_error());
  }
  // Expired is served, loudly: refusing to start would turn a missed renewal into an outage of
  // every client, including those that do not verify; a reload picks up the renewed pair.
  if (tls_certificate_expired(*ctx)) {
    spdlog::warn(
        "server.tls.cert_file: {}: the certificate has expired; verifying clients "
        "will refuse it",
        cert_file);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("server.tls.key_file: " + key_file +
                             " does not match the certificate in " + cert_file);
  }
  if (!client_ca_file.empty()) {
    // Clients are asked for a certificate signed by one of these CAs (their names go in the
    // CertificateRequest, so an agent holding several picks the right one). One that does not
    // verify (unknown CA, expired, not yet valid) fails the handshake: a certificate is either
    // proof or refused, never silently ignored. Without one, the client falls back to a bearer
    // token unless require_client_cert.
    if (SSL_CTX_load_verify_locations(ctx.get(), client_ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("server.tls.client_ca_file: " + client_ca_file + ": " +
                               openssl_error());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (names == nullptr) {
      throw std::runtime_error("server.tls.client_ca_file: " + client_ca_file +
                               ": no PEM certificate in it");
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    SSL_CTX_set_verify(
        ctx.get(), SSL_VERIFY_PEER | (require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
    SSL_CTX_set_verify_depth(ctx.get(), 4);
    // Session resumption would hand a resumed session the identity without a certificate on
    // the wire; tickets keep the peer certificate, but one rule is easier to trust: none.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    static const unsigned char sid[] = "luffy-ingest";
    SSL_CTX_set_session_id_context(ctx.get(), sid, sizeof sid - 1);
  }
  return ctx;
}

bool tls_certificate_expired(ssl_ctx_st& ctx) {
  X509* leaf = SSL_CTX_get0_certificate(&ctx);
  return leaf != nullptr && X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0;
}

struct tls_terminator::session {
  int tcp = -1;
  int plain = -1;  // our end of the socketpair (-1 until the handshake is done)
  SSL* ssl = nullptr;
  sockaddr_storage peer{};
  std::string key;  // peer address bytes, while it counts as handshaking
  bool established = false;
  bool sniffed = false;    // the first byte was looked at (a TLS record, not plain HTTP)
  bool tls_eof = false;    // the client closed (close_notify or TCP FIN)
  bool plain_eof = false;  // the gate closed its side
  std::string to_plain, to_tls;
  clock::time_point deadline = clock::time_point::max();

  ~session() {
    if (ssl != nullptr) {
      SSL_free(ssl);
    }
    if (plain >= 0) {
      ::close(plain);
    }
    if (tcp >= 0) {
      ::close(tcp);
    }
  }
};

tls_terminator::tls_terminator(const edge_settings& settings, int listen_fd,
                               const std::atomic<std::shared_ptr<ssl_ctx_st>>& ctx, adopt_fn adopt,
                               const std::atomic<bool>& stopping)
    : settings_(settings),
      listen_fd_(listen_fd),
      ctx_(ctx),
      adopt_(std::move(adopt)),
      stopping_(stopping),
      next_report_(clock::now() + std::chrono::seconds(10)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (wake_fd_ < 0 || epoll_fd_ < 0) {
    throw std::runtime_error("tls: eventfd/epoll failed");
  }
}

tls_terminator::~tls_terminator() {
  sessions_.clear();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void tls_terminator::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

uint16_t tls_terminator::port() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return 0;
  }
  if (a.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
}

void tls_terminator::run() {
  auto watch = [this](int fd, uint32_t ev) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &e);
  };
  watch(wake_fd_, EPOLLIN);
  watch(listen_fd_, EPOLLIN);
  std::vector<epoll_event> events(256);
  while (!stopping_.load()) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(kTick.count()));
    const auto now = clock::now();
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v = 0;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
      } else if (fd == listen_fd_) {
        accept_some(now);
      } else {
        on_event(fd, now);
      }
    }
    sweep(clock::now());
  }
  sessions_.clear();
}

void tls_terminator::accept_some(clock::time_point now) {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                             SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      return;
    }
    std::string key = peer_key(peer);
    int64_t& mine = handshaking_per_client_[key];
    if ((settings_.max_per_client > 0 && mine >= settings_.max_per_client) ||
        static_cast<int64_t>(sessions_.size()) >= settings_.max_open) {
      ++capped_;
      if (mine == 0) {
        handshaking_per_client_.erase(key);
      }
      ::close(fd);
      continue;
    }
    ++mine;
    auto s = std::make_unique<session>();
    s->tcp = fd;
    s->peer = peer;
    s->key = std::move(key);
    s->deadline = now + settings_.header_timeout;
    s->ssl = SSL_new(ctx_.load().get());  // holds its own reference to the context
    if (s->ssl == nullptr) {
      --mine;
      ::close(fd);
      s->tcp = -1;
      continue;
    }
    SSL_set_fd(s->ssl, fd);
    SSL_set_accept_state(s->ssl);
    epoll_event e{};
    e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    e.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &e);
    sessions_.emplace(fd, std::move(s));
  }
}

void tls_terminator::on_event(int fd, clock::time_point now) {
  int tcp = fd;
  if (auto p = by_plain_.find(fd); p != by_plain_.end()) {
    tcp = p->second;
  }
  auto it = sessions_.find(tcp);
  if (it == sessions_.end()) {
    return;
  }
  session& s = *it->second;
  const bool alive = s.established ? pump(s, now) : handshake(s, now);
  if (!alive) {
    erase(tcp);
  }
}

// Not a TLS record (0x16 = handshake): a plain HTTP client. It gets a plain 400 and a close.
bool tls_terminator::handshake(session& s, clock::time_point now) {
  unsigned char first = 0x16;
  if (!s.sniffed) {
    const ssize_t peeked = ::recv(s.tcp, &first, 1, MSG_PEEK);
    if (peeked == 0) {
      return false;
    }
    if (peeked < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    s.sniffed = true;
  }
  if (first != 0x16) {
    ++plain_refused_;
    static const std::string kAnswer = [] {
      const std::string body =
          "{\"error\":\"tls_required\",\"message\":\"this port speaks HTTPS only; connect "
          "with TLS\"}\n";
      return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: "
             "close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    // Drops what the client sent so far: closing with unread bytes would reset the connection
    // and could destroy the answer before the client reads it.
    char drop[4096];
    for (int i = 0; i < 16 && ::recv(s.tcp, drop, sizeof drop, 0) > 0; ++i) {
    }
    [[maybe_unused]] auto n = ::send(s.tcp, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
    ::shutdown(s.tcp, SHUT_WR);
    return false;
  }
  const int r = SSL_do_handshake(s.ssl);
  if (r != 1) {
    const int err = SSL_get_error(s.ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      return true;
    }
    ++handshake_failures_;
    spdlog::debug("TLS handshake failed: {}", openssl_error());
    ERR_clear_error();
    return false;
  }
  // Established: the gate gets the other end of a socketpair, with the client's address.
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    spdlog::warn("tls: socketpair: {}", std::strerror(errno));
    return false;
  }
  set_nonblocking(pair[0]);
  s.plain = pair[0];
  s.established = true;
  s.deadline = clock::time_point::max();
  if (auto h = handshaking_per_client_.find(s.key); h != handshaking_per_client_.end()) {
    if (--h->second <= 0) {
      handshaking_per_client_.erase(h);
    }
  }
  s.key.clear();
  by_plain_.emplace(s.plain, s.tcp);
  epoll_event e{};
  e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  e.data.fd = s.plain;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.plain, &e);
  adopt_(pair[1], s.peer, peer_identity(s.ssl));
  return pump(s, now);
}

bool tls_terminator::pump(session& s, clock::time_point now) {
  char buf[16384];
  for (bool progress = true; progress;) {
    progress = false;
    // Client → gate.
    while (!s.tls_eof && s.to_plain.size() < kRelayBuffer) {
      const int n = SSL_read(s.ssl, buf, sizeof buf);
      if (n > 0) {
        s.to_plain.append(buf, static_cast<size_t>(n));
        progress = true;
        continue;
      }
      const int err = SSL_get_error(s.ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        break;
      }
      ERR_clear_error();
      s.tls_eof = true;  // close_notify, FIN or a broken record: no more from the client
      if (err != SSL_ERROR_ZERO_RETURN) {
        return false;
      }
    }
    if (!s.to_plain.empty()) {
      const ssize_t w = ::send(s.plain, s.to_plain.data(), s.to_plain.size(), MSG_NOSIGNAL);
      if (w > 0) {
        s.to_plain.erase(0, static_cast<size_t>(w));
        progress = true;
      } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return false;  // the gate closed its side for good
      }
    }
    if (s.tls_eof && s.to_plain.empty()) {
      ::shutdown(s.plain, SHUT_WR);
    }
    // Gate → client.
    while (!s.plain_eof && s.to_tls.size() < kRelayBuffer) {
      const ssize_t n = ::recv(s.plain, buf, sizeof buf, 0);
      if (n > 0) {
        s.to_tls.append(buf, static_cast<size_t>(n));
        progress = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        s.plain_eof = true;
        s.deadline = now + settings_.write_timeout;  // what is left must leave in time
      } else {
        break;
      }
    }
    if (!s.to_tls.empty()) {
      const int n = SSL_write(s.ssl, s.to_tls.data(), static_cast<int>(s.to_tls.size()));
      if (n > 0) {
        s.to_tls.erase(0, static_cast<size_t>(n));
        progress = true;
      } else {
        const int err = SSL_get_error(s.ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          ERR_clear_error();
          return false;
        }
      }
    }
    if (s.plain_eof && s.to_tls.empty()) {
      SSL_shutdown(s.ssl);  // close_notify, best effort
      ERR_clear_error();
      return false;
    }
  }
  return true;
}

void tls_terminator::erase(int tcp_fd) {
  auto it = sessions_.find(tcp_fd);
  if (it == sessions_.end()) {
    return;
  }
  session& s = *it->second;
  if (!s.established) {
    if (auto h = handshaking_per_client_.find(s.key); h != handshaking_per_client_.end()) {
      if (--h->second <= 0) {
        handshaking_per_client_.erase(h);
      }
    }
  }
  if (s.plain >= 0) {
    by_plain_.erase(s.plain);
  }
  sessions_.erase(it);  // closing the descriptors removes them from epoll
}

void tls_terminator::sweep(clock::time_point now) {
  std::vector<int> expired;
  for (const auto& [fd, s] : sessions_) {
    if (now >= s->deadline) {
      expired.push_back(fd);
      if (!s->established) {
        ++handshake_timeouts_;
      }
    }
  }
  for (int fd : expired) {
    erase(fd);
  }
  if (now >= next_report_) {
    if (handshake_failures_ + plain_refused_ + handshake_timeouts_ + capped_ > 0) {
      spdlog::warn(
          "tls in the last 10 s: {} failed handshakes, {} plain HTTP refused, {} handshake "
          "timeouts, {} connections refused by the caps",
          handshake_failures_, plain_refused_, handshake_timeouts_, capped_);
      handshake_failures_ = plain_refused_ = handshake_timeouts_ = capped_ = 0;
    }
    next_report_ = now + std::chrono::seconds(10);
  }
}

}  // namespace luffy
