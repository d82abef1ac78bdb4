#pragma once
// parser_actor: one member of the parser pool (actors.parsers of them behind a round-robin
// caf::actor_pool).
//  owns:      a body_decoder (reused parser buffers) and the decode limits
//  receives:  parse_request (a whole, already inflated body + the caller's auth scope)
//  replies:   parsed_batch: records with service resolved, authorised and hashed, or a refusal
//             (malformed -> 400, too_many_records -> 413, forbidden -> 403)
//  supervised by: the pipeline (net/pipeline) that spawned the pool. CPU-bound, never blocks.
#include <caf/fwd.hpp>

#include "core/record_builder.hpp"

namespace luffy {

caf::actor spawn_parser_pool(caf::actor_system& sys, size_t workers, const decode_options& opt);

}  // namespace luffy
