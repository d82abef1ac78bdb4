#pragma once
// The embedded Redis: with storage.redis = embedded the server runs its own redis-server child.
//
// Contract: `start` launches redis-server bound to 127.0.0.1 only (plus a unix socket in the data
// dir when the path fits), AOF on with the configured appendfsync, RDB snapshots off, data under
// storage.data_dir, and returns once it answers PING (or fails with the reason and the tail of
// its log). The child gets SIGTERM if this process dies, even by SIGKILL (PR_SET_PDEATHSIG), so a
// crashed server never leaves an orphan holding the data dir. `stop` sends SIGTERM (Redis
// flushes the AOF and exits) and waits, escalating to SIGKILL after 10 s.
#include <sys/types.h>

#include <string>

#include "storage/redis_client.hpp"

namespace luffy {

class embedded_redis {
 public:
  embedded_redis() = default;
  ~embedded_redis();
  embedded_redis(const embedded_redis&) = delete;
  embedded_redis& operator=(const embedded_redis&) = delete;

  // Returns "" on success, else the problem.
  std::string start(const std::string& binary, const std::string& data_dir, int port,
                    const std::string& fsync);
  void stop();

  redis_endpoint endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  redis_endpoint endpoint_;
};

// A loopback TCP port that was free a moment ago.
int free_loopback_port();

}  // namespace luffy
