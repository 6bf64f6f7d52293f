// The caller's hint of a string value (Engine::Put's and PatchString's `hint`): returned by Get
// while the value is in memory, replaced by every write, carried by MOVE and by changes that keep
// the value (an expiry, a checkpoint), and never logged: a reopened engine starts from 0.
#include <doctest/doctest.h>

#include <string>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

int HintOf(Engine* e, DbIndex db, std::string_view key) {
  const std::optional<ValueRef> value = e->Get(db, key);
  REQUIRE(value.has_value());
  return value->hint();
}

}  // namespace

TEST_CASE("hint: kept with the value in memory, replaced by writes, not logged") {
  TempDir dir;
  FakeClock clock;
  const Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put(0, "a", "v", 0, 2).ok());
    CHECK(HintOf(e.get(), 0, "a") == 2);
    REQUIRE(e->Put(0, "a", "w", 0).ok());  // a write without one: 0
    CHECK(HintOf(e.get(), 0, "a") == 0);
    REQUIRE(e->PatchString(0, "a", {{0, "x"}}, 1).ok());  // patched in place
    CHECK(HintOf(e.get(), 0, "a") == 1);
    REQUIRE(e->PatchString(0, "a", {{5, "yz"}}, 3).ok());  // grown: a new entry
    CHECK(HintOf(e.get(), 0, "a") == 3);
    REQUIRE(e->SetExpireAt(0, "a", clock.now_ms + 100000));  // the value stays
    CHECK(HintOf(e.get(), 0, "a") == 3);
    REQUIRE(e->Checkpoint().ok());
    CHECK(HintOf(e.get(), 0, "a") == 3);
    const std::uint64_t logged = e->Stats().log_bytes;
    CHECK(e->SetHint(0, "a", 1));  // without a write
    CHECK(HintOf(e.get(), 0, "a") == 1);
    CHECK(e->Stats().log_bytes == logged);
    CHECK_FALSE(e->SetHint(0, "missing", 1));
    // A large value lives in a shared buffer; its entry has the hint all the same.
    REQUIRE(e->Put(0, "big", std::string(100000, 'b'), 0, 1).ok());
    CHECK(HintOf(e.get(), 0, "big") == 1);
    bool moved = false;
    REQUIRE(e->Move(0, "big", 4, &moved).ok());
    REQUIRE(moved);
    CHECK(HintOf(e.get(), 4, "big") == 1);
    REQUIRE(e->Put(0, "kept", "v", 0, 2).ok());
  }
  auto e = OpenEngine(o);
  CHECK(HintOf(e.get(), 0, "a") == 0);
  CHECK(HintOf(e.get(), 4, "big") == 0);
  CHECK(HintOf(e.get(), 0, "kept") == 0);
  CHECK(e->Get(0, "a")->size() == 7);
}

}  // namespace dynakv::storage
