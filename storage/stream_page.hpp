#pragma once
// One page of a Redis stream, newest first, as the admin API lists the dead-letter stream and
// the audit trail (GET /api/v1/admin/dead_letters, GET /api/v1/admin/audit).
//
// Contract: one round trip (XREVRANGE of limit + 1 entries, to learn whether older ones follow,
// and XLEN); `before` is an exclusive stream-id cursor ("" = from the newest); entries that are
// not [id, [field, value, ...]] are skipped. !ok() means Redis could not answer or refused.
#include <cstdint>
#include <string>

#include "storage/dead_letter_store.hpp"  // dead_letter_page, dead_letter_item
#include "storage/redis_client.hpp"

namespace luffy {

redis_result<dead_letter_page> read_stream_page(redis_client& redis, const std::string& key,
                                                const std::string& before, int64_t limit);

}  // namespace luffy
