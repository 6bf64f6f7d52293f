#include "lcs.h"

#include <doctest/doctest.h>

namespace dynakv::server {
namespace {

TEST_CASE("LCS of Redis's documented example, with its matches from the end") {
  const LcsResult lcs = ComputeLcs("ohmytext", "mynewtext", true, 0);
  CHECK(lcs.length == 6);
  CHECK(lcs.sequence == "mytext");
  REQUIRE(lcs.matches.size() == 2);
  CHECK(lcs.matches[0].a_start == 4);
  CHECK(lcs.matches[0].a_end == 7);
  CHECK(lcs.matches[0].b_start == 5);
  CHECK(lcs.matches[0].b_end == 8);
  CHECK(lcs.matches[1].a_start == 2);
  CHECK(lcs.matches[1].a_end == 3);
  CHECK(lcs.matches[1].b_start == 0);
  CHECK(lcs.matches[1].b_end == 1);
  CHECK(lcs.matches[1].length() == 2);
}

TEST_CASE("LCS: minimum match length, empty strings, length only") {
  CHECK(ComputeLcs("ohmytext", "mynewtext", true, 3).matches.size() == 1);
  CHECK(ComputeLcs("", "abc", true, 0).length == 0);
  CHECK(ComputeLcs("", "abc", true, 0).sequence.empty());
  const LcsResult only_length = ComputeLcs("abcde", "ace", false, 0);
  CHECK(only_length.length == 3);
  CHECK(only_length.sequence.empty());
  CHECK(ComputeLcs("abcde", "ace", true, 0).sequence == "ace");
  CHECK(LcsTableBytes(2, 3) == 3 * 4 * 4);
}

}  // namespace
}  // namespace dynakv::server
