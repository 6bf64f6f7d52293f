// The exactly sized buffer of the compact encodings: inserts, erases and replacements anywhere
// agree with a std::string doing the same, the buffer holds exactly its bytes (no spare
// capacity: that is what it saves), and moves leave the source empty.
#include "types/listpack.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace dynakv::types {

TEST_CASE("listpack buffer: edits anywhere agree with a std::string") {
  std::mt19937_64 rng(11);
  Listpack lp;
  std::string ref;
  for (int step = 0; step < 5000; ++step) {
    const std::size_t pos = ref.empty() ? 0 : rng() % (ref.size() + 1);
    const std::size_t len = pos == ref.size() ? 0 : rng() % std::min<std::size_t>(20, ref.size() - pos + 1);
    std::string with(rng() % (ref.size() > 400 ? 10 : 25), static_cast<char>('a' + rng() % 26));
    lp.Replace(pos, len, with);
    ref.replace(pos, len, with);
    REQUIRE(lp.view() == ref);
    REQUIRE(lp.size() == ref.size());
  }
  lp.Append("tail");
  ref += "tail";
  CHECK(lp.view() == ref);
}

TEST_CASE("listpack buffer: counts, assignment, moves and the allocator's rounding") {
  Listpack lp;
  CHECK(lp.empty());
  CHECK(lp.allocated() == 0);
  lp.Assign(std::string(210, 'x'), 10);
  CHECK(lp.count() == 10);
  CHECK(lp.size() == 210);
  CHECK(lp.allocated() == 224);  // a std::string appending to 210 bytes holds a 256-byte block
  lp.Replace(0, 200, {});
  CHECK(lp.view() == std::string(10, 'x'));
  CHECK(lp.allocated() == 16);
  Listpack moved = std::move(lp);
  CHECK(moved.view() == std::string(10, 'x'));
  CHECK(moved.count() == 10);
  CHECK(lp.empty());  // NOLINT(bugprone-use-after-move): a moved-from buffer is empty
  CHECK(lp.count() == 0);
  moved.Replace(0, 10, {});
  CHECK(moved.empty());
  CHECK(moved.data() == nullptr);
  moved.Clear();
  CHECK(moved.count() == 0);
}

}  // namespace dynakv::types
