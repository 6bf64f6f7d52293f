// The Redis eviction policies' choice of victims on small cases. Sampling is made exhaustive
// (maxmemory-samples far above the key count), so the approximations choose as the exact
// policies would and the outcomes are fixed.
#include <doctest/doctest.h>

#include <bit>
#include <optional>
#include <string>
#include <vector>

#include "frequency_sketch.h"
#include "memtable.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

constexpr std::size_t kValueSize = 200;
// Room for `keys` entries of kValueSize bytes with three-byte keys (Key()), each the allocator's
// size class, the table's bucket array (a power of two at least the entry count), its dirty list
// (a power of two pointers, for the keys and the one being written) and less than one more entry.
std::uint64_t RoomFor(int keys) {
  std::uint64_t buckets = 16;
  while (buckets < static_cast<std::uint64_t>(keys)) buckets *= 2;
  return static_cast<std::uint64_t>(keys) *
             AllocationSize(sizeof(Memtable::Entry) + 3 + kValueSize) +
         buckets * 8 + std::bit_ceil(static_cast<std::uint64_t>(keys) + 1) * 8 + 100;
}

Options PolicyOptions(const std::string& dir, FakeClock* clock, EvictionPolicy policy, int keys) {
  Options o = TestOptions(dir, clock);
  o.max_memory = RoomFor(keys);
  o.eviction = policy;
  o.eviction_tuning.samples = 1000;
  o.compression_threshold = 1 << 20;  // sizes exact
  return o;
}

std::string Value(int seed) {
  return testing::RandomBytes(kValueSize, static_cast<std::uint64_t>(seed));
}
std::string Key(const char* prefix, int i) {
  return prefix + std::string(i < 10 ? "0" : "") + std::to_string(i);
}

}  // namespace

TEST_CASE("eviction: volatile-* never evict a key without a TTL, then refuse with kFail") {
  for (EvictionPolicy policy : {EvictionPolicy::kVolatileLru, EvictionPolicy::kVolatileLfu,
                                EvictionPolicy::kVolatileRandom, EvictionPolicy::kVolatileTtl}) {
    TempDir dir;
    FakeClock clock;
    auto e = OpenEngine(PolicyOptions(dir.path(), &clock, policy, 40));
    const std::int64_t far = clock.now_ms + 3'600'000;
    for (int i = 0; i < 20; ++i) REQUIRE(e->Put(Key("p", i), Value(i), 0).ok());
    for (int i = 0; i < 15; ++i) REQUIRE(e->Put(Key("v", i), Value(i), far + i).ok());
    CHECK(e->PerformEvictions() == EvictionResult::kOk);
    // Each further persistent key pushes one volatile key out, until none is left.
    for (int i = 20; i < 40; ++i) REQUIRE(e->Put(Key("p", i), Value(i), 0).ok());
    for (int i = 0; i < 40; ++i) CHECK(e->Exists(Key("p", i)));
    const EngineStats st = e->Stats();
    CHECK(st.evicted_keys == 15);
    CHECK(st.keys_with_expiry == 0);
    REQUIRE(e->Put(Key("p", 40), Value(40), 0).ok());  // the write that goes over is let in
    CHECK(e->PerformEvictions() == EvictionResult::kFail);
    CHECK(e->Exists(Key("p", 40)));
  }
}

TEST_CASE("eviction: volatile-ttl takes the nearest expiry first") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(PolicyOptions(dir.path(), &clock, EvictionPolicy::kVolatileTtl, 20));
  // Expiries in an order unrelated to insertion or access.
  const int order[] = {7, 3, 9, 0, 5, 1, 8, 2, 6, 4};
  for (int i : order) REQUIRE(e->Put(Key("v", i), Value(i), clock.now_ms + 60'000 * (i + 1)).ok());
  for (int i = 0; i < 10; ++i) REQUIRE(e->Put(Key("p", i), Value(i), 0).ok());
  for (int i = 0; i < 10; ++i) e->Get(Key("v", i));  // access order must not matter
  for (int n = 0; n < 4; ++n) {
    REQUIRE(e->Put(Key("q", n), Value(n), 0).ok());
    // v0..vn have gone (nearest expiries), the rest stay.
    for (int i = 0; i < 10; ++i) CHECK(e->Exists(Key("v", i)) == (i > n));
  }
}

TEST_CASE("eviction: allkeys-lfu keeps the frequently read key that allkeys-lru evicts") {
  for (EvictionPolicy policy : {EvictionPolicy::kAllKeysLfu, EvictionPolicy::kAllKeysLru}) {
    TempDir dir;
    FakeClock clock;
    auto e = OpenEngine(PolicyOptions(dir.path(), &clock, policy, 20));
    REQUIRE(e->Put("hot", Value(0), 0).ok());
    for (int r = 0; r < 30; ++r) REQUIRE(e->Get("hot"));
    // A stream of keys read once each, more than fit.
    for (int i = 0; i < 100; ++i) {
      REQUIRE(e->Put(Key("k", i), Value(i), 0).ok());
      REQUIRE(e->Get(Key("k", i)));
    }
    CHECK(e->Stats().evicted_keys >= 80);
    CHECK(e->Exists("hot") == (policy == EvictionPolicy::kAllKeysLfu));
  }
}

TEST_CASE("eviction: allkeys-lru evicts the least recently used") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(PolicyOptions(dir.path(), &clock, EvictionPolicy::kAllKeysLru, 10));
  for (int i = 0; i < 10; ++i) REQUIRE(e->Put(Key("k", i), Value(i), 0).ok());
  for (int i = 9; i >= 0; --i) e->Get(Key("k", i));  // k9 read first: now the oldest
  REQUIRE(e->Put("new", Value(99), 0).ok());
  CHECK_FALSE(e->Exists("k9"));
  for (int i = 0; i < 9; ++i) CHECK(e->Exists(Key("k", i)));
}

TEST_CASE("eviction: random policies hold the bound and volatile-random spares persistent keys") {
  for (EvictionPolicy policy : {EvictionPolicy::kAllKeysRandom, EvictionPolicy::kVolatileRandom}) {
    TempDir dir;
    FakeClock clock;
    Options o = PolicyOptions(dir.path(), &clock, policy, 30);
    auto e = OpenEngine(o);
    for (int i = 0; i < 10; ++i) REQUIRE(e->Put(Key("p", i), Value(i), 0).ok());
    for (int i = 0; i < 200; ++i) {
      REQUIRE(e->Put(Key("v", i), Value(i), clock.now_ms + 3'600'000).ok());
      CHECK(e->Stats().memtable_bytes <= o.max_memory);
    }
    if (policy == EvictionPolicy::kVolatileRandom) {
      for (int i = 0; i < 10; ++i) CHECK(e->Exists(Key("p", i)));
    }
    CHECK(e->Stats().evicted_keys + e->KeyCount() == 210);
  }
}

TEST_CASE("eviction: keys an offload run moved to disk are evicted like resident ones when read") {
  // README: only offload moves victims to disk; under any other policy keys it left on disk
  // are cached when read and then deleted as that policy's victims (a logged DEL: gone for good).
  for (EvictionPolicy policy : {EvictionPolicy::kAllKeysLru, EvictionPolicy::kAllKeysLfu,
                                EvictionPolicy::kAllKeysRandom, EvictionPolicy::kAllKeysTinyLfu}) {
    CAPTURE(static_cast<int>(policy));
    TempDir dir;
    FakeClock clock;
    Options o = PolicyOptions(dir.path(), &clock, EvictionPolicy::kOffload, 10);
    std::uint64_t remaining = 0;
    {
      auto e = OpenEngine(o);
      for (int i = 0; i < 60; ++i) REQUIRE(e->Put(Key("k", i), Value(i), 0).ok());
      e->Tick();
      CHECK(e->Stats().offloaded_keys > 0);
      CHECK(e->Stats().evicted_keys == 0);
      CHECK(e->KeyCount() == 60);
      std::vector<int> on_disk;
      for (int i = 0; i < 60; ++i) {
        if (!e->Inspect(Key("k", i))->in_memory) on_disk.push_back(i);
      }
      REQUIRE(on_disk.size() >= 40);
      const std::uint64_t offloaded = e->Stats().offloaded_keys;
      e->SetEvictionPolicy(policy);
      // Each read brings its key back into memory and evicts to make room for it (resident keys,
      // and the keys read back before it); a key still on disk is never a victim, so every one
      // is read as it was.
      for (int i : on_disk) {
        REQUIRE(testing::GetString(e.get(), Key("k", i)) == Value(i));
        CHECK(e->Stats().memtable_bytes + e->Stats().policy_bytes <= o.max_memory);
      }
      const EngineStats st = e->Stats();
      CHECK(st.offloaded_keys == offloaded);  // nothing more went to disk
      CHECK(st.evicted_keys >= 40);
      CHECK(e->KeyCount() + st.evicted_keys == 60);
      // The keys read back were victims like the others: deleted, not moved to disk again.
      int read_back_gone = 0;
      for (int i : on_disk) read_back_gone += e->Exists(Key("k", i)) ? 0 : 1;
      CHECK(read_back_gone >= 20);
      remaining = e->KeyCount();
      int present = 0;
      for (int i = 0; i < 60; ++i) present += e->Exists(Key("k", i)) ? 1 : 0;
      CHECK(present == static_cast<int>(remaining));
    }
    // The deletes were logged: after a reopen (in offload mode) the evicted keys stay gone.
    auto e = OpenEngine(o);
    CHECK(e->KeyCount() == remaining);
    int present = 0;
    for (int i = 0; i < 60; ++i) present += e->Exists(Key("k", i)) ? 1 : 0;
    CHECK(present == static_cast<int>(remaining));
  }
}

TEST_CASE("eviction: maxmemory-eviction-tenacity bounds a round as Redis, 0 at 16 keys a round") {
  for (int tenacity : {0, 10, 100}) {
    CAPTURE(tenacity);
    TempDir dir;
    FakeClock clock;
    Options o = PolicyOptions(dir.path(), &clock, EvictionPolicy::kAllKeysLru, 400);
    o.eviction_tuning.tenacity = tenacity;
    auto e = OpenEngine(o);
    for (int i = 0; i < 400; ++i) REQUIRE(e->Put(Key("k", i), Value(i), 0).ok());
    REQUIRE(e->Stats().evicted_keys == 0);
    // Room for 100 keys: 300 must go.
    e->SetMaxMemory(RoomFor(100));
    int rounds = 0;
    EvictionResult result = EvictionResult::kRunning;
    while (result == EvictionResult::kRunning && rounds < 1000) {
      result = e->PerformEvictions();
      ++rounds;
      // Redis's evictionTimeLimitUs: 0 us at tenacity 0 (checked every 16 keys: 16 a round).
      if (tenacity == 0 && result == EvictionResult::kRunning) {
        CHECK(e->Stats().evicted_keys == static_cast<std::uint64_t>(16 * rounds));
      }
    }
    CHECK(result == EvictionResult::kOk);
    CHECK(e->Stats().memtable_bytes <= RoomFor(100));
    CHECK(e->Stats().evicted_keys >= 290);
    if (tenacity == 0) CHECK(rounds >= 18);
    if (tenacity == 100) CHECK(rounds == 1);  // no limit
  }
}

TEST_CASE("eviction: the LFU counter starts at 5, grows on reads, decays by lfu-decay-time") {
  TempDir dir;
  FakeClock clock;
  Options o = PolicyOptions(dir.path(), &clock, EvictionPolicy::kAllKeysLfu, 100);
  auto e = OpenEngine(o);
  REQUIRE(e->Put("k", "v", 0).ok());
  CHECK(e->Inspect("k")->lfu_frequency == 5);
  e->Get("k");  // from the initial value an increment is certain
  CHECK(e->Inspect("k")->lfu_frequency == 6);
  REQUIRE(e->Put("k", "w", 0).ok());  // an overwrite keeps the counter, as Redis's
  CHECK(e->Inspect("k")->lfu_frequency == 6);
  clock.now_ms += 3 * 60'000;  // three decay periods
  e->Tick();
  CHECK(e->Inspect("k")->lfu_frequency == 3);
  EvictionTuning slower = o.eviction_tuning;
  slower.lfu_decay_time = 2;
  e->SetEvictionTuning(slower);
  CHECK(e->Inspect("k")->lfu_frequency == 5);  // only one period of two minutes
  slower.lfu_decay_time = 0;                   // never decays
  e->SetEvictionTuning(slower);
  CHECK(e->Inspect("k")->lfu_frequency == 6);
  CHECK(e->SetLfuFrequency("k", 100));
  CHECK(e->Inspect("k")->lfu_frequency == 100);
  // Under an LRU policy the same bits are an access time again.
  e->SetEvictionPolicy(EvictionPolicy::kAllKeysLru);
  e->Get("k");
  CHECK(e->Inspect("k")->idle_seconds == 0);
}

TEST_CASE("eviction: a high log factor makes increments rarer") {
  TempDir dir;
  FakeClock clock;
  Options o = PolicyOptions(dir.path(), &clock, EvictionPolicy::kAllKeysLfu, 100);
  auto e = OpenEngine(o);
  REQUIRE(e->Put("a", "v", 0).ok());
  for (int i = 0; i < 1000; ++i) e->Get("a");
  const int at10 = e->Inspect("a")->lfu_frequency;
  o.eviction_tuning.lfu_log_factor = 0;  // every access counts
  e->SetEvictionTuning(o.eviction_tuning);
  REQUIRE(e->Put("b", "v", 0).ok());
  for (int i = 0; i < 100; ++i) e->Get("b");
  CHECK(e->Inspect("b")->lfu_frequency == 105);
  CHECK(at10 > 10);  // Redis's table: 1000 hits at factor 10 give about 18
  CHECK(at10 < 40);
}

TEST_CASE("eviction: allkeys-tinylfu keeps a frequent working set against a one-hit scan") {
  for (EvictionPolicy policy : {EvictionPolicy::kAllKeysTinyLfu, EvictionPolicy::kAllKeysLru}) {
    TempDir dir;
    FakeClock clock;
    Options o = PolicyOptions(dir.path(), &clock, policy, 40);
    o.eviction_tuning.samples = 5;  // tinylfu samples at least 5; keep it Redis's default
    auto e = OpenEngine(o);
    // A working set of 20 keys read often, then a scan of 400 keys each written and read once.
    for (int i = 0; i < 20; ++i) REQUIRE(e->Put(Key("h", i), Value(i), 0).ok());
    for (int r = 0; r < 5; ++r) {
      for (int i = 0; i < 20; ++i) REQUIRE(e->Get(Key("h", i)));
    }
    for (int i = 0; i < 400; ++i) {
      REQUIRE(e->Put(Key("s", i), Value(i), 0).ok());
      // tinylfu's window (1% of the limit) is smaller than an entry: a written key seen once is
      // refused at once, as in Caffeine. An LRU keeps it.
      const bool hit = e->Get(Key("s", i)).has_value();
      if (policy == EvictionPolicy::kAllKeysLru) CHECK(hit);
      CHECK(e->Stats().memtable_bytes <= o.max_memory);
    }
    int kept = 0;
    for (int i = 0; i < 20; ++i) kept += e->Exists(Key("h", i)) ? 1 : 0;
    CAPTURE(static_cast<int>(policy));
    if (policy == EvictionPolicy::kAllKeysTinyLfu) {
      CHECK(kept == 20);
      const EngineStats st = e->Stats();
      CHECK(st.rejected_keys > 300);
      CHECK(st.sketch_bytes > 0);
      // The sketch and doorkeeper (10 to 20 bytes a key, 640 at least) and the list nodes (16
      // bytes a key, up to twice that as the node array grows; three list heads), within the limit.
      CHECK(st.policy_bytes <= 640 + 20 * st.memtable_entries + 32 * st.memtable_entries + 48);
      CHECK(st.memtable_bytes + st.policy_bytes <= o.max_memory);
    } else {
      CHECK(kept == 0);
    }
  }
}

TEST_CASE("frequency sketch: counts up to 15, ages by halving, grows with the keys") {
  FrequencySketch sketch;
  for (int i = 0; i < 20; ++i) sketch.Increment(0x1234567890abcdefull);
  for (int i = 0; i < 3; ++i) sketch.Increment(0xfedcba0987654321ull);
  CHECK(sketch.Frequency(0x1234567890abcdefull) == 16);  // 15, and the doorkeeper's 1
  CHECK(sketch.Frequency(0xfedcba0987654321ull) >= 3);
  CHECK(sketch.Frequency(0xfedcba0987654321ull) <= 4);
  // 10 x capacity increments of other keys trigger one aging step.
  const std::size_t additions = 10 * sketch.capacity();
  for (std::size_t i = 0; sketch.resets() == 0 && i < 2 * additions; ++i) {
    sketch.Increment((i + 1) * 0x9E3779B97F4A7C15ull);
  }
  CHECK(sketch.resets() == 1);
  CHECK(sketch.Frequency(0x1234567890abcdefull) <= 8);  // 7, maybe a colliding key's 1
  CHECK(sketch.Frequency(0x1234567890abcdefull) >= 7);
  sketch.EnsureCapacity(1000);  // past the 64-word minimum
  CHECK(sketch.capacity() == 1024);
  CHECK(sketch.bytes() == 1024 * 8 + 256 * 8);  // and the doorkeeper's 256 words
  CHECK(sketch.Frequency(0x1234567890abcdefull) == 0);
}

TEST_CASE("eviction: the limit counts compressed sizes, so compressible values hold more keys") {
  std::uint64_t held[2] = {0, 0};
  for (int compress = 0; compress < 2; ++compress) {
    TempDir dir;
    FakeClock clock;
    Options o = TestOptions(dir.path(), &clock);
    o.max_memory = 256 * 1024;
    o.eviction = EvictionPolicy::kAllKeysLru;
    o.compression_threshold = compress ? 64 : 1 << 20;
    auto e = OpenEngine(o);
    for (int i = 0; i < 2000; ++i) {
      std::string value;
      while (value.size() < 1000) value += "user " + std::to_string(i) + " session active; ";
      REQUIRE(e->Put(Key("c", i), value, 0).ok());
    }
    const EngineStats st = e->Stats();
    CHECK(st.memtable_bytes <= o.max_memory);
    CHECK(st.compressed_values == (compress ? st.memtable_entries : 0));
    // What the limit counts is each entry's stored cost (MEMORY USAGE) plus the bucket array.
    std::uint64_t sum = 0;
    for (int i = 0; i < 2000; ++i) {
      if (auto usage = e->Inspect(Key("c", i))) sum += usage->memory_bytes;
    }
    CHECK(sum <= st.memtable_bytes);
    // Besides the entries: the bucket array and the dirty list, a power of two pointers each.
    CHECK(st.memtable_bytes - sum <= 2 * 8 * 2 * st.memtable_entries + 256);
    held[compress] = e->KeyCount();
  }
  CHECK(held[1] > 3 * held[0]);
}

}  // namespace dynakv::storage
