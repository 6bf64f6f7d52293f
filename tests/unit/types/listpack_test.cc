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
    const std::size_t len =
        pos == ref.size() ? 0 : rng() % std::min<std::size_t>(20, ref.size() - pos + 1);
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
  // 8 bytes of size and count, then the bytes: a std::string appended to 210 bytes holds 256.
  CHECK(lp.allocated() == 224);
  lp.Replace(0, 200, {});
  CHECK(lp.view() == std::string(10, 'x'));
  CHECK(lp.allocated() == 32);
  CHECK(sizeof(Listpack) == sizeof(void*));
  Listpack moved = std::move(lp);
  CHECK(moved.view() == std::string(10, 'x'));
  CHECK(moved.count() == 10);
  CHECK(lp.empty());  // NOLINT(bugprone-use-after-move): a moved-from buffer is empty
  CHECK(lp.count() == 0);
  moved.Replace(0, 10, {});
  CHECK(moved.empty());
  CHECK(moved.count() == 10);  // the owner says how many entries are left
  moved.set_count(0);
  CHECK(moved.data() == nullptr);  // no bytes and no entries: nothing allocated
  moved.Clear();
  CHECK(moved.count() == 0);
}

TEST_CASE("listpack buffer: past 1 GB its owner must convert (the sizes are 32-bit)") {
  CHECK(Listpack::SafeToAdd(0, Listpack::kMaxSafeSize));
  CHECK_FALSE(Listpack::SafeToAdd(0, Listpack::kMaxSafeSize + 1));
  CHECK(Listpack::SafeToAdd(Listpack::kMaxSafeSize - 100, 100));
  CHECK_FALSE(Listpack::SafeToAdd(Listpack::kMaxSafeSize - 100, 101));
  CHECK_FALSE(Listpack::SafeToAdd(Listpack::kMaxSafeSize + 1, 0));
  CHECK_FALSE(Listpack::SafeToAdd(100, SIZE_MAX));  // no wrap-around
}

namespace {
struct Table {
  explicit Table(int* alive) : alive(alive) { ++*alive; }
  ~Table() { --*alive; }
  int* alive;
};
}  // namespace

TEST_CASE("compact or table: one word holds the listpack, then the owned table") {
  int alive = 0;
  {
    CompactOrTable<Table> rep;
    CHECK(sizeof(rep) == sizeof(void*));
    CHECK(rep.table() == nullptr);
    rep.listpack().Append("abc");
    rep.listpack().set_count(1);
    CHECK(rep.listpack().view() == "abc");
    rep.ConvertTo(std::make_unique<Table>(&alive));
    CHECK(alive == 1);
    REQUIRE(rep.table() != nullptr);
    CHECK(rep.table()->alive == &alive);
  }
  CHECK(alive == 0);  // the table went with its holder
  CompactOrTable<Table> never_converted;
  never_converted.listpack().Assign("xyz", 1);
  CHECK(never_converted.listpack().count() == 1);
}

}  // namespace dynakv::types
