#include "core/shard.hpp"

#include <catch2/catch.hpp>
#include <vector>

TEST_CASE("shard_for: stable, in range, spreads keys", "[shard]") {
  CHECK(luffy::shard_for("anything", 0) == 0);
  CHECK(luffy::shard_for("anything", 1) == 0);
  // Pinned values: xxh3-64 with seed 0 must never change between builds or processes.
  CHECK(luffy::shard_for("", 1u << 31) ==
        static_cast<uint32_t>(0x2D06800538D394C2ull % (1u << 31)));
  std::vector<int> counts(8, 0);
  for (int i = 0; i < 8000; ++i) {
    const uint32_t s = luffy::shard_for("cluster-" + std::to_string(i), 8);
    REQUIRE(s < 8);
    ++counts[s];
  }
  for (int c : counts) {
    CHECK(c > 800);
    CHECK(c < 1200);
  }
  CHECK(luffy::shard_for("k", 16) == luffy::shard_for(std::string("k"), 16));
}
