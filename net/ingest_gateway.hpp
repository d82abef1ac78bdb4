#pragma once
// The bridge from an HTTP worker thread into the actor pipeline, for one ingest request.
//
// Order of stages, and why:
//   1. parse     (parser pool)      decode, resolve service, authorise (403), hash
//   2. dedup     (dedup_actor)      drop records already accepted in the window, and repeats
//                                   inside the batch: Fluent Bit resends whole chunks, so a retry
//                                   must not spend rate-limit tokens a second time
//   3. limit     (service limiters) token bucket per service, partial admission
//   4. journal   (journal pool)     one atomic Lua script: re-check + mark seen + XADD
//   5. reply     202 only after step 4 returned; on any failure 503 and limiter tokens refunded.
// Contract: the returned status is 202 only when every accepted record is in Redis. The caller's
// thread blocks (it is a Poco worker); each stage waits at most until the request's deadline.
#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "actors/messages.hpp"
#include "actors/pipeline.hpp"
#include "core/ingest_metrics.hpp"

namespace luffy {

struct ingest_outcome {
  int status = 202;
  std::string body;                  // JSON
  uint32_t retry_after_seconds = 0;  // for 429/503
};

class ingest_gateway {
 public:
  ingest_gateway(caf::actor_system& sys, pipeline p, ingest_metrics& metrics,
                 std::chrono::milliseconds timeout);

  ingest_outcome ingest(parse_request req);

  // The pipeline behind the gateway: hot reload and the admin API reach it through here.
  pipeline& stages() { return pipeline_; }

 private:
  caf::actor_system& sys_;
  pipeline pipeline_;
  ingest_metrics& metrics_;
  std::chrono::milliseconds timeout_;
};

// {"status":"error","error":code,"message":message}
std::string error_body(std::string_view code, std::string_view message);

}  // namespace luffy
