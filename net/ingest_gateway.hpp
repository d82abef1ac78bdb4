#pragma once
// The bridge from an HTTP worker thread into the actor pipeline, for one ingest request.
//
// Order of stages, and why:
//   1. parse     (parser pool)      decode (400 malformed, 413 too many records), resolve the
//                                   service, authorise (403), hash
//   2. dedup     (dedup_actor)      mark the records already accepted within the dedup window:
//                                   Fluent Bit resends whole chunks, so a retry must not spend
//                                   rate-limit tokens a second time; they count as duplicates and
//                                   are not stored. Identical records inside one body are all
//                                   kept: each repeat has its own identity (core/record_hash.hpp
//                                   hash_occurrence)
//   3. limit     (service limiters) token bucket per service, in record order, partial admission
//   4. journal   (journal pool)     one atomic Lua script: re-check + mark seen + XADD (and the
//                                   batch's dead letters)
//   5. reply     202 only after step 4 returned; 429 when every record was over its limit; 503
//                when a stage fails or does not answer in time, after refunding the limiter
//                tokens already taken.
// Contract: the returned status is 202 only when every accepted record is in Redis. The caller's
// thread blocks (it is an HTTP worker); each stage waits at most until the request's deadline.
#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/pipeline.hpp"
#include "core/ingest_metrics.hpp"

namespace luffy {

struct ingest_outcome {
  int status = 202;
  std::string body;                  // JSON
  uint32_t retry_after_seconds = 0;  // for 429/503
  // For the agent tally (core/agent_tally.hpp): records stored and found duplicate, and the
  // distinct hostnames (at most 10) and services (at most 20) of the records the parser kept
  // (authorised for the token), whether stored, duplicate or over their rate limit.
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  std::vector<std::string> hostnames;
  std::vector<std::string> services;
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
