#pragma once
// Shard routing: which cluster shard owns a key.
//
// Contract: pure and stable across processes, restarts and machines (xxh3-64 with seed 0, no
// std::hash). The journal writers route every record by its service_id
// (shard_for(service_id, shards)): all of a service's records, whatever their fingerprint level,
// meet that service's one template miner and its clusters on one shard, and a service's cluster
// state has one writer.
#include <cstdint>
#include <string>
#include <string_view>

namespace luffy {

// xxh3-64(key) % shards; 0 when shards is 0.
uint32_t shard_for(std::string_view key, uint32_t shards);

}  // namespace luffy
