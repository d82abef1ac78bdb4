#include "core/record.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a default record has level UNKNOWN and empty metadata", "[record]") {
  luffy::log_record r;
  CHECK(r.level == "UNKNOWN");
  CHECK(r.metadata_json == "{}");
  CHECK_FALSE(r.truncated);
}
