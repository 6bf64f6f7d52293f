// Offload mode: a memtable far smaller than the data set, with everything still readable.
#include <doctest/doctest.h>

#include <string>

#include "memtable.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

// Half random, half repetitive: compressible, but not to nothing.
std::string OffloadValue(int i) {
  const std::size_t n = 500 + static_cast<std::size_t>(i * 37 % 3000);
  return testing::RandomBytes(n / 2, static_cast<std::uint64_t>(i)) +
         std::string(n - n / 2, 'a' + i % 26);
}

}  // namespace

TEST_CASE("offload: 20 MB through a 64 KB memtable, all readable, also after reopen") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 64 * 1024;
  o.eviction = EvictionPolicy::kOffload;
  const std::size_t slack = sizeof(Memtable::Entry) + 16 + 4000;  // one entry
  int n = 0;
  {
    auto e = OpenEngine(o);
    std::size_t written = 0;
    for (; written < (20u << 20); ++n) {
      const std::string v = OffloadValue(n);
      written += v.size();
      REQUIRE(e->Put("key" + std::to_string(n), v, 0).ok());
      REQUIRE(e->Stats().memtable_bytes <= o.max_memory + slack);
      if (n % 500 == 0) e->Tick();  // installs and starts compactions
    }
    const EngineStats st = e->Stats();
    CHECK(st.checkpoints > 10);
    CHECK(st.offloaded_keys > 1000);
    CHECK(st.compactions > 0);
    CHECK(st.segments < st.checkpoints);
    CHECK(e->KeyCount() == static_cast<std::uint64_t>(n));
    for (int i = 0; i < n; ++i) {
      REQUIRE(GetString(e.get(), "key" + std::to_string(i)) == OffloadValue(i));
      REQUIRE(e->Stats().memtable_bytes <= o.max_memory + slack);
    }
    CHECK(e->Stats().segment_reads > 0);
    CHECK(e->Stats().bloom_skips > 0);
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == static_cast<std::uint64_t>(n));
  for (int i = 0; i < n; i += 3) {
    REQUIRE(GetString(e.get(), "key" + std::to_string(i)) == OffloadValue(i));
  }
}

TEST_CASE("offload: a value bigger than max_memory is written through") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 16 * 1024;
  auto e = OpenEngine(o);
  const std::string huge = testing::RandomBytes(100000, 9);
  REQUIRE(e->Put("huge", huge, 0).ok());
  CHECK(e->Stats().memtable_bytes <= o.max_memory);
  CHECK(e->Stats().segments == 1);
  CHECK(GetString(e.get(), "huge") == huge);  // served without caching it
  CHECK(e->Stats().memtable_bytes <= o.max_memory);
  CHECK(e->KeyCount() == 1);
}

TEST_CASE("offload: expiry and deletes of offloaded keys") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 32 * 1024;
  auto e = OpenEngine(o);
  for (int i = 0; i < 2000; ++i) {
    REQUIRE(e->Put("k" + std::to_string(i), std::string(200, 'x'), i % 2 ? clock.now_ms + 1000 : 0)
                .ok());
  }
  CHECK(e->Stats().offloaded_keys > 0);
  // Keys living only in segments: TTL changes and deletes still apply.
  CHECK(e->SetExpireAt("k0", clock.now_ms + 5000));
  CHECK(e->SetExpireAt("k1", 0));
  CHECK(e->Delete("k2"));
  CHECK(e->Stats().keys_with_expiry == 1000);
  clock.now_ms += 1000;
  CHECK(e->KeyCount() == 1999);
  int live = 0;
  for (int i = 0; i < 2000; ++i) live += e->Exists("k" + std::to_string(i)) ? 1 : 0;
  CHECK(live == 1000);  // 999 even keys (k2 is gone, k0 has 4 s left) + k1, now persistent
  CHECK(e->KeyCount() == 1000);
  CHECK(e->GetExpireAt("k0") == clock.now_ms + 4000);
  CHECK(e->GetExpireAt("k1") == 0);
}

}  // namespace dynakv::storage
