#pragma once
// One client connection of the HTTP edge, and who owns which of its fields.
//
// Ownership: the connection gate (net/connection_gate.hpp) holds it while it waits for a request
// head (and the first bytes of a body); a worker (net/worker_pool.hpp) while it serves one
// request; then it goes back to the gate (kept alive or lingering) or closes. Only the holder
// touches the gate fields; the fields marked (mu) are also read by the worker pool's watchdog,
// under its mutex, while a worker holds the connection. Destroying it closes the socket and
// gives back its place in the open-connection counts.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/client_identity.hpp"
#include "core/http_framing.hpp"
#include "net/edge_settings.hpp"

namespace luffy {

// Open connections of one client address (the gate's eviction closes from the largest first).
struct client_slot {
  std::atomic<int64_t> open{0};
};

struct connection {
  connection(Poco::Net::StreamSocket s, int f, std::atomic<int64_t>& open_count)
      : socket(std::move(s)), fd(f), open(open_count) {}
  ~connection() {
    try {
      socket.close();
    } catch (...) {
    }
    open.fetch_sub(1);
    if (client) {
      client->open.fetch_sub(1);
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  Poco::Net::StreamSocket socket;
  const int fd;
  std::atomic<int64_t>& open;           // every open connection (server.max_open_connections)
  std::shared_ptr<client_slot> client;  // its address's count (when capped)
  // The client's address when the socket is not the client's own (TLS: a socketpair end).
  std::optional<Poco::Net::SocketAddress> peer;
  // TLS: the verified client certificate's identity (nullptr: none sent, or plain HTTP). Set
  // once at admission, read by the routes (net/auth.hpp) for every request of the connection.
  std::shared_ptr<const client_identity> tls_client;

  // Gate state.
  // fresh: accepted, nothing sent yet; idle: kept alive between requests; head: part of a
  // request head is in; body: the head is in, waiting for the body (or its first 16 KiB);
  // flushing: the last response is not all sent (the client does not read), so its next
  // request is not looked at yet; closing: answered and shut for writing, what the client still
  // sends is read and dropped until it closes (so that our answer is not destroyed by a reset).
  enum class waiting { fresh, idle, head, body, flushing, closing } state = waiting::fresh;
  int64_t lingered = 0;      // bytes dropped while closing
  bool linger_next = false;  // set by a worker: answered, now close (lingering)
  // The head of the request handed to a worker, parsed by the gate (still in the kernel buffer:
  // the worker takes exactly head_size() bytes, then the body as framed).
  std::unique_ptr<request_framer> framer;
  steady::time_point since = steady::now();  // accept, return to the gate, or first head byte
  steady::time_point held_since;             // complete head, worker queue full
  int64_t prefetched = 0;  // body bytes already in the kernel buffer when it got a worker
  uint64_t requests = 0;   // served on this connection (worker writes, gate reads when parked)

  // Worker state (mu).
  steady::time_point dispatched;     // a worker took it (the hard deadline counts from here)
  bool in_body = false;              // the worker serves its request: the body is watched
  steady::time_point phase_started;  // the body clock (started when the gate saw the head)
  int64_t body_expected = -1;        // Content-Length; -1 when unknown (chunked, until close)
  std::atomic<int64_t> body_read{0};
  bool cut = false;       // read side shut by the watchdog; close after this request
  bool hard_cut = false;  // both sides shut
};
using connection_ptr = std::shared_ptr<connection>;

// Wraps an accepted descriptor in a Poco socket (the constructor from an impl is protected).
struct adopted_socket : Poco::Net::StreamSocket {
  explicit adopted_socket(int fd) : Poco::Net::StreamSocket(new Poco::Net::StreamSocketImpl(fd)) {}
};

}  // namespace luffy
