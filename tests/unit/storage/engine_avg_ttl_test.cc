// INFO keyspace's avg_ttl: the active expire cycle's running estimate of the TTL left to a
// database's keys, made as Redis 7.0's activeExpireCycle makes it (2% new sample mean, 98% old).
#include <doctest/doctest.h>

#include <string>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

TEST_CASE("avg_ttl: estimated per database by the expire cycle, 0 without keys with a TTL") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  const std::int64_t t0 = clock.now_ms;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(e->Put(3, "t" + std::to_string(i), "v", t0 + 100'000).ok());
    REQUIRE(e->Put(3, "p" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->Put(0, "p" + std::to_string(i), "v", 0).ok());
  }
  CHECK(e->AvgTtlMs(3) == 0);  // nothing sampled yet
  e->Tick();
  // The first sample mean is taken as it is: every key has 100 s left.
  CHECK(e->AvgTtlMs(3) == 100'000);
  CHECK(e->AvgTtlMs(0) == 0);  // no key with a TTL there

  // 10 s later the samples say 90 s; the estimate moves towards them by 2% per step.
  clock.now_ms = t0 + 10'000;
  std::int64_t last = e->AvgTtlMs(3);
  for (int i = 0; i < 20; ++i) {
    e->Tick();
    const std::int64_t now = e->AvgTtlMs(3);
    CHECK(now < last);
    CHECK(now > 90'000);
    last = now;
  }
  for (int i = 0; i < 500; ++i) e->Tick();
  CHECK(e->AvgTtlMs(3) >= 90'000);
  CHECK(e->AvgTtlMs(3) < 91'000);

  // SWAPDB carries the estimate with the keys, as Redis swaps avg_ttl.
  REQUIRE(e->SwapDb(3, 5).ok());
  CHECK(e->AvgTtlMs(5) >= 90'000);
  CHECK(e->AvgTtlMs(3) == 0);

  // Once no key with a TTL is left, the estimate is forgotten.
  for (int i = 0; i < 100; ++i) REQUIRE(e->SetExpireAt(5, "t" + std::to_string(i), 0));
  CHECK(e->KeysWithExpiry(5) == 0);
  e->Tick();
  CHECK(e->AvgTtlMs(5) == 0);

  // FLUSHDB forgets it too.
  REQUIRE(e->Put(7, "t", "v", clock.now_ms + 5'000).ok());
  for (int i = 0; i < 10 && e->AvgTtlMs(7) == 0; ++i) e->Tick();  // a step covers 200 entries
  CHECK(e->AvgTtlMs(7) == 5'000);
  REQUIRE(e->FlushDb(7).ok());
  CHECK(e->AvgTtlMs(7) == 0);
}

TEST_CASE("avg_ttl: keys found on disk only are sampled by the segment sweep") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 32 * 1024;
  o.eviction = EvictionPolicy::kOffload;
  auto e = OpenEngine(o);
  const std::int64_t t0 = clock.now_ms;
  // Most keys expire soon (so the disk sweep has due segments to walk), some 60 s later.
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "k" + std::to_string(i);
    REQUIRE(e->Put(key, testing::RandomBytes(200, i), i % 10 == 0 ? t0 + 60'000 : t0 + 1'000).ok());
  }
  REQUIRE(e->Stats().offloaded_keys > 2000);
  clock.now_ms = t0 + 1'000;
  for (int i = 0; i < 500 && e->KeyCount() != 300; ++i) e->Tick();
  REQUIRE(e->KeyCount() == 300);
  // The keys left have 59 s to go; every sample said so.
  CHECK(e->AvgTtlMs(0) > 55'000);
  CHECK(e->AvgTtlMs(0) <= 60'000);
}

}  // namespace dynakv::storage
