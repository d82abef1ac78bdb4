#pragma once
// Shard routing: which cluster shard owns a key.
//
// Contract: pure and stable across processes, restarts and machines (xxh3-64 with seed 0, no
// std::hash). Route exception fingerprints (levels 1 and 2) by their cluster_id; route level 3
// (template miner) records by template_route_key(service_id), so that every message of a service
// meets that service's one miner and messages that may merge always share a shard.
#include <cstdint>
#include <string>
#include <string_view>

namespace luffy {

// xxh3-64(key) % shards; 0 when shards is 0.
uint32_t shard_for(std::string_view key, uint32_t shards);

// The routing key for records that need the template miner (fingerprint level 3).
std::string template_route_key(std::string_view service_id);

}  // namespace luffy
