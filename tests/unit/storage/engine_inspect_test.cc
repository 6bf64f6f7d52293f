// Engine::Inspect (OBJECT IDLETIME, MEMORY USAGE) and SetIdleTime (RESTORE ... IDLETIME).
#include <doctest/doctest.h>

#include <string>

#include "memtable.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

TEST_CASE("inspect: idle time counts from the last access, and looking is not an access") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  REQUIRE(e->Put("k", "v", 0).ok());
  CHECK_FALSE(e->Inspect("missing").has_value());
  CHECK(e->Inspect("k")->idle_seconds == 0);

  clock.now_ms += 10'000;
  e->Tick();
  CHECK(e->Inspect("k")->idle_seconds == 10);
  clock.now_ms += 5'000;
  e->Tick();
  CHECK(e->Inspect("k")->idle_seconds == 15);  // Inspect itself did not touch it
  REQUIRE(e->Get("k").has_value());            // a read does
  CHECK(e->Inspect("k")->idle_seconds == 0);
  clock.now_ms += 3'000;
  e->Tick();
  CHECK(e->Exists("k"));
  CHECK(e->Inspect("k")->idle_seconds == 0);

  CHECK(e->SetIdleTime("k", 1000));
  CHECK(e->Inspect("k")->idle_seconds == 1000);
  CHECK_FALSE(e->SetIdleTime("missing", 5));
  // Longer ago than the clock has run since its zero: wraps as Redis's LRU clock does, and is
  // read back unwrapped.
  const std::int64_t now_clock = (clock.now_ms / 1000) & Memtable::kAccessClockMax;
  CHECK(e->SetIdleTime("k", now_clock + 100));
  CHECK(e->Inspect("k")->idle_seconds == now_clock + 100);
}

TEST_CASE("inspect: memory is what the entry costs, compressed when compressed") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.compression_threshold = 64;
  auto e = OpenEngine(o);
  REQUIRE(e->Put("small", "x", 0).ok());
  const std::uint64_t small = e->Inspect("small")->memory_bytes;
  CHECK(small == AllocationSize(sizeof(Memtable::Entry) + 5 + 1));  // the size class: 64

  const std::string random = testing::RandomBytes(10'000, 1);
  REQUIRE(e->Put("random", random, 0).ok());
  const std::uint64_t incompressible = e->Inspect("random")->memory_bytes;
  CHECK(incompressible >= 10'000);
  // The entry and its shared block (a value this large has one), each a size class up.
  CHECK(incompressible == AllocationSize(sizeof(Memtable::Entry) + 6 + Memtable::kSharedSlotBytes) +
                              Memtable::SharedBytes(10'000));
  CHECK(incompressible < 10'000 * 5 / 4);

  REQUIRE(e->Put("zeros", std::string(10'000, '\0'), 0).ok());
  const std::uint64_t compressed = e->Inspect("zeros")->memory_bytes;
  CHECK(compressed < 1'000);  // LZ4 of a run: the stored size is counted, not the raw one
  CHECK(compressed > small);
}

TEST_CASE("inspect: a key only on disk reports its stored size, idle since open") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 16 * 1024;
  o.eviction = EvictionPolicy::kOffload;
  auto e = OpenEngine(o);
  const std::string value = testing::RandomBytes(2000, 7);
  for (int i = 0; i < 100; ++i) REQUIRE(e->Put("key" + std::to_string(i), value, 0).ok());
  REQUIRE(e->Checkpoint().ok());
  clock.now_ms += 7'000;
  e->Tick();
  int on_disk = 0;
  for (int i = 0; i < 100; ++i) {
    const std::optional<KeyUsage> usage = e->Inspect("key" + std::to_string(i));
    REQUIRE(usage.has_value());
    CHECK(usage->memory_bytes >= 2000);
    if (!usage->in_memory) {
      ++on_disk;
      CHECK(usage->idle_seconds == 7);
    }
  }
  CHECK(on_disk > 0);
  CHECK(e->Stats().memtable_bytes <= o.max_memory + 4096);  // Inspect loaded nothing back
}

}  // namespace dynakv::storage
