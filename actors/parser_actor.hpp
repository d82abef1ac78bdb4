#pragma once
// parser_actor: one member of the parser pool (actors.parsers of them behind a round-robin
// caf::actor_pool).
//  owns:      a body_decoder (reused parser buffers) and the decode limits
//  receives:  parse_request (a whole, already inflated body + the caller's auth scope)
//  replies:   parsed_batch: records with service resolved, authorised and hashed, or a refusal
//             (malformed -> 400, too_many_records -> 413, forbidden -> 403)
//  supervised by: the supervisor (actors/supervisor.hpp), which spawned the pool and replaces a
//             worker that dies. CPU-bound, never blocks.
#include <caf/fwd.hpp>

#include "core/record_builder.hpp"

namespace luffy {

// One parser; the supervisor puts actors.parsers of them behind a round-robin pool.
// `fault_injection`: testing.fault_injection (luffy-fault:parser-throw / parser-crash).
caf::actor spawn_parser(caf::actor_system& sys, const decode_options& opt, bool fault_injection);

}  // namespace luffy
