#include "core/glob.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace luffy;

TEST_CASE("glob: wildcards, classes, escapes, whole-text match", "[grouping_rules][glob]") {
  CHECK(glob_match("com.acme.*", "com.acme.orders.Repo"));
  CHECK_FALSE(glob_match("com.acme.*", "org.com.acme.Repo"));
  CHECK(glob_match("*Timeout*", "java.util.concurrent.TimeoutException"));
  CHECK(glob_match("*/vendor/*", "/app/src/vendor/lib/x.go"));
  CHECK(glob_match("v?.go", "v1.go"));
  CHECK_FALSE(glob_match("v?.go", "v10.go"));
  CHECK(glob_match("[ab]*", "alpha"));
  CHECK_FALSE(glob_match("[!ab]*", "beta"));
  CHECK(glob_match("x[0-9]", "x7"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  CHECK_FALSE(glob_match("*a*b*c", "xxaxxbxxcxx"));
  // No exponential backtracking on adversarial input.
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));

  CHECK_FALSE(glob_error("com.acme.*").has_value());
  CHECK(glob_error("[abc").value().find("unterminated [") != std::string::npos);
  CHECK(glob_error("abc\\").has_value());
  CHECK(glob_error("").has_value());
  CHECK(glob_error("[]").has_value());
  CHECK_FALSE(glob_match("[abc", "a"));  // an invalid glob matches nothing

  CHECK(glob_specificity("com.acme.*") == 9);
  CHECK(glob_specificity("*") == 0);
  CHECK(glob_specificity("a[bc]?") == 2);
  CHECK(is_glob("a*"));
  CHECK_FALSE(is_glob("com.acme."));
}
