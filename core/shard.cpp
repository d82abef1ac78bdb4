#include "core/shard.hpp"

#include <xxhash.h>

namespace luffy {

uint32_t shard_for(std::string_view key, uint32_t shards) {
  if (shards == 0) {
    return 0;
  }
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  return static_cast<uint32_t>(h % shards);
}

}  // namespace luffy
