// The memory limit under each eviction policy.
#include <doctest/doctest.h>

#include <string>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

TEST_CASE("memory: allkeys-lru deletes least recently used keys and counts stay exact") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 64 * 1024;
  o.eviction = EvictionPolicy::kAllKeysLru;
  auto e = OpenEngine(o);
  const std::string value = testing::RandomBytes(200, 1);
  for (int i = 0; i < 100; ++i) REQUIRE(e->Put("hot" + std::to_string(i), value, 0).ok());
  for (int i = 0; i < 3000; ++i) {
    REQUIRE(e->Put("k" + std::to_string(i), value, 0).ok());
    if (i % 50 == 0) {
      for (int h = 0; h < 100; ++h) e->Get("hot" + std::to_string(h));
    }
    CHECK(e->Stats().memtable_bytes <= o.max_memory);
  }
  const EngineStats st = e->Stats();
  CHECK(st.evicted_keys > 2000);
  std::uint64_t present = 0;
  for (int i = 0; i < 3000; ++i) present += e->Exists("k" + std::to_string(i)) ? 1 : 0;
  int hot_present = 0;
  for (int h = 0; h < 100; ++h) hot_present += e->Exists("hot" + std::to_string(h)) ? 1 : 0;
  CHECK(hot_present >= 90);  // recently used keys survive
  CHECK(e->KeyCount() == present + static_cast<std::uint64_t>(hot_present));
  CHECK(e->KeyCount() + st.evicted_keys == 3100);
}

TEST_CASE("memory: noeviction refuses writes and changes nothing") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 64 * 1024;
  o.eviction = EvictionPolicy::kNoEviction;
  auto e = OpenEngine(o);
  const std::string value = testing::RandomBytes(300, 2);
  int written = 0;
  Status last;
  for (; written < 10000; ++written) {
    last = e->Put("k" + std::to_string(written), value, 0);
    if (!last.ok()) break;
  }
  REQUIRE(last.IsOutOfMemory());
  CHECK(written > 100);
  CHECK(e->KeyCount() == static_cast<std::uint64_t>(written));
  CHECK_FALSE(e->Exists("k" + std::to_string(written)));
  CHECK(e->Stats().memtable_bytes <= o.max_memory);
  // Deleting frees room again, and reads and deletes still work while full.
  CHECK(GetString(e.get(), "k0") == value);
  CHECK(e->Delete("k0"));
  CHECK(e->Delete("k1"));
  CHECK(e->Put("k" + std::to_string(written), value, 0).ok());
  CHECK(e->KeyCount() == static_cast<std::uint64_t>(written - 1));
  // Raising the limit lifts the refusal.
  e->SetMaxMemory(0);
  CHECK(e->Put("unbounded", value, 0).ok());
}

}  // namespace dynakv::storage
