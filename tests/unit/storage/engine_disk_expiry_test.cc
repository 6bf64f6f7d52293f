// Active expiry of keys that live only in segments: Tick alone must reap them, cheaply when
// nothing is due, never past a newer version, and within the memory limit.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

std::string Value(const std::string& key) { return "value of " + key; }

// Ticks until KeyCount() reaches `target` (or gives up after `max_ticks`); returns the count.
std::uint64_t TickUntil(Engine* e, std::uint64_t target, int max_ticks) {
  for (int i = 0; i < max_ticks && e->KeyCount() != target; ++i) e->Tick();
  return e->KeyCount();
}

std::set<std::string> ScanAll(Engine* e) {
  std::set<std::string> keys;
  std::vector<std::string> batch;
  std::uint64_t cursor = 0;
  do {
    batch.clear();
    cursor = e->Scan(cursor, 100, &batch);
    keys.insert(batch.begin(), batch.end());
  } while (cursor != 0);
  return keys;
}

}  // namespace

TEST_CASE("disk expiry: offloaded keys with a TTL are reaped by Tick alone, also after reopen") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 32 * 1024;
  o.eviction = EvictionPolicy::kOffload;
  const std::int64_t t0 = clock.now_ms;
  {
    auto e = OpenEngine(o);
    // 3000 keys due at t0 + 1000, 200 due much later, 100 without expiry, interleaved.
    for (int i = 0; i < 3300; ++i) {
      const std::string key = "k" + std::to_string(i);
      const int kind = i % 33;
      const std::int64_t expire = kind == 0 ? 0 : kind <= 2 ? t0 + 60000 : t0 + 1000;
      REQUIRE(e->Put(key, Value(key) + testing::RandomBytes(200, i), expire).ok());
    }
    const EngineStats before = e->Stats();
    REQUIRE(before.offloaded_keys > 2000);  // most keys are on disk only
    REQUIRE(before.keys_with_expiry == 3200);

    clock.now_ms = t0 + 1000;
    CHECK(e->KeyCount() == 3300);  // nothing reaped them yet
    CHECK(TickUntil(e.get(), 300, 500) == 300);
    const EngineStats after = e->Stats();
    CHECK(after.expired_keys == 3000);
    CHECK(after.keys_with_expiry == 200);
    CHECK(after.disk_expire_scanned > 0);
    CHECK(after.memtable_bytes <= o.max_memory);
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 300);
  std::set<std::string> expect;
  for (int i = 0; i < 3300; ++i) {
    if (i % 33 <= 2) expect.insert("k" + std::to_string(i));
  }
  CHECK(ScanAll(e.get()) == expect);
  for (int i = 0; i < 3300; i += 33) {
    const std::string key = "k" + std::to_string(i);
    REQUIRE(GetString(e.get(), key) == Value(key) + testing::RandomBytes(200, i));
    const std::string later = "k" + std::to_string(i + 1);
    CHECK(e->GetExpireAt(later) == t0 + 60000);
  }
  CHECK(e->Stats().expired_keys == 0);  // reads found nothing left to reap
}

TEST_CASE("disk expiry: keys that expired while the engine was closed go after reopen") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 500; ++i) {
      REQUIRE(e->Put("c" + std::to_string(i), "v", i < 400 ? clock.now_ms + 100 : 0).ok());
    }
    REQUIRE(e->Checkpoint().ok());
  }
  clock.now_ms += 100;
  auto e = OpenEngine(o);
  CHECK(e->Stats().memtable_entries == 0);  // everything is on disk
  CHECK(e->KeyCount() == 500);
  CHECK(TickUntil(e.get(), 100, 200) == 100);
  CHECK(e->Stats().expired_keys == 400);
  CHECK(e->Stats().keys_with_expiry == 0);
}

TEST_CASE("disk expiry: segments with nothing due are not read") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  const std::int64_t t0 = clock.now_ms;
  {
    auto e = OpenEngine(o);
    // A big segment without any TTL, a small one with TTLs, another without.
    for (int i = 0; i < 3000; ++i) REQUIRE(e->Put("plain" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->Checkpoint().ok());
    for (int i = 0; i < 50; ++i) {
      REQUIRE(e->Put("soon" + std::to_string(i), "v", t0 + 10000).ok());
      REQUIRE(e->Put("never" + std::to_string(i), "v", 0).ok());
    }
    REQUIRE(e->Put("late", "v", t0 + 60000).ok());
    REQUIRE(e->Checkpoint().ok());
    for (int i = 0; i < 10; ++i) REQUIRE(e->Put("more" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(o);
  REQUIRE(e->Stats().segments == 3);
  REQUIRE(e->Stats().keys_with_expiry == 51);

  // Keys with a TTL exist, but none is due: nothing is walked.
  clock.now_ms = t0 + 9999;
  for (int i = 0; i < 50; ++i) e->Tick();
  CHECK(e->Stats().disk_expire_scanned == 0);

  // Due: only the segment holding TTLs is walked, once.
  clock.now_ms = t0 + 10000;
  CHECK(TickUntil(e.get(), 3061, 100) == 3061);
  const std::uint64_t walked = e->Stats().disk_expire_scanned;
  CHECK(walked > 0);
  CHECK(walked <= 101);
  CHECK(e->Stats().expired_keys == 50);

  // The walk saw everything left expires at t0 + 60000: until then the segment is skipped
  // although "late" keeps the engine's TTL count above zero.
  CHECK(e->Stats().keys_with_expiry == 1);
  clock.now_ms = t0 + 59999;
  for (int i = 0; i < 50; ++i) e->Tick();
  CHECK(e->Stats().disk_expire_scanned == walked);
  CHECK(e->KeyCount() == 3061);

  clock.now_ms = t0 + 60000;
  CHECK(TickUntil(e.get(), 3060, 100) == 3060);
  CHECK(e->Stats().keys_with_expiry == 0);
  CHECK(e->Stats().disk_expire_scanned <= walked + 101);
}

TEST_CASE("disk expiry: a newer version in the memtable or a later segment is not reaped") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  const std::int64_t t0 = clock.now_ms;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 100; ++i) REQUIRE(e->Put("s" + std::to_string(i), "old", t0 + 1000).ok());
    REQUIRE(e->Checkpoint().ok());
    // A later segment overwrites s1 without a TTL; it holds no TTL, so the walk skips it.
    REQUIRE(e->Put("s1", "new1", 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(o);
  REQUIRE(e->Stats().memtable_entries == 0);
  // Newer versions in the memtable: overwritten without TTL, TTL extended, deleted.
  REQUIRE(e->Put("s0", "new0", 0).ok());
  REQUIRE(e->SetExpireAt("s2", t0 + 5000));
  REQUIRE(e->Delete("s3"));
  REQUIRE(e->KeyCount() == 99);

  clock.now_ms = t0 + 1000;
  CHECK(TickUntil(e.get(), 3, 200) == 3);
  for (int i = 0; i < 20; ++i) e->Tick();  // and nothing more goes
  CHECK(e->KeyCount() == 3);
  CHECK(e->Stats().expired_keys == 96);
  CHECK(e->Stats().keys_with_expiry == 1);
  CHECK(GetString(e.get(), "s0") == "new0");
  CHECK(GetString(e.get(), "s1") == "new1");
  CHECK(GetString(e.get(), "s2") == "old");
  CHECK(e->GetExpireAt("s2") == t0 + 5000);
  CHECK_FALSE(e->Exists("s3"));
  CHECK_FALSE(e->Exists("s4"));

  clock.now_ms = t0 + 5000;
  CHECK(TickUntil(e.get(), 2, 200) == 2);
  CHECK(e->Stats().expired_keys == 97);
}

TEST_CASE("disk expiry: a segment that falls due mid-pass is walked whole before it is skipped") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  const std::int64_t t0 = clock.now_ms;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 20000; ++i) REQUIRE(e->Put("a" + std::to_string(i), "v", t0 + 1000).ok());
    REQUIRE(e->Checkpoint().ok());
    for (int i = 0; i < 300; ++i) REQUIRE(e->Put("b" + std::to_string(i), "v", t0 + 2000).ok());
    REQUIRE(e->Put("keep", "v", 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(o);
  clock.now_ms = t0 + 1000;
  e->Tick();
  // One tick's budget cannot walk 20000 records: the pass is under way when the second
  // segment falls due, so that pass walks only the part of it ahead of the cursor.
  REQUIRE(e->Stats().disk_expire_scanned < 20000);
  clock.now_ms = t0 + 2000;
  CHECK(TickUntil(e.get(), 1, 2000) == 1);
  CHECK(e->Stats().expired_keys == 20300);
}

TEST_CASE("disk expiry: an unreadable segment is counted and left out, the others are swept") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 200; ++i) REQUIRE(e->Put("bad" + std::to_string(i), "v", 1).ok());
    REQUIRE(e->Checkpoint().ok());
    for (int i = 0; i < 200; ++i) REQUIRE(e->Put("good" + std::to_string(i), "v", 1).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  std::vector<std::string> segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("seg-", 0) == 0) segments.push_back(entry.path().string());
  }
  std::sort(segments.begin(), segments.end());  // names sort by age
  REQUIRE(segments.size() == 2);
  // Open validates every block, so the damage comes after: as a disk error would.
  auto e = OpenEngine(o);
  REQUIRE(e->KeyCount() == 400);
  {
    // The first data block of the older segment.
    std::fstream f(segments[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x7f');
  }
  CHECK(TickUntil(e.get(), 200, 500) == 200);
  for (int i = 0; i < 100; ++i) e->Tick();  // keeps going without hanging or crashing
  CHECK(e->KeyCount() == 200);
  CHECK(e->Stats().expired_keys == 200);
  CHECK(e->Stats().io_errors > 0);
}

namespace {

void CheckReapingWithinMemory(EvictionPolicy policy) {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 6000; ++i) {
      const std::string key = "reap-me-" + std::to_string(i);
      REQUIRE(e->Put(key, Value(key), i % 600 == 0 ? 0 : clock.now_ms + 100).ok());
    }
    REQUIRE(e->Checkpoint().ok());
  }
  // Each reap leaves a tombstone of about 80 bytes: 5990 of them would need ~480 KB.
  o.max_memory = 16 * 1024;
  o.eviction = policy;
  auto e = OpenEngine(o);
  const std::uint64_t checkpoints = e->Stats().checkpoints;
  clock.now_ms += 100;
  for (int i = 0; i < 2000 && e->KeyCount() != 10; ++i) {
    e->Tick();
    REQUIRE(e->Stats().memtable_bytes <= o.max_memory);
  }
  CHECK(e->KeyCount() == 10);
  CHECK(e->Stats().expired_keys == 5990);
  CHECK(e->Stats().evicted_keys == 0);
  CHECK(e->Stats().checkpoints > checkpoints);  // the tombstones went to disk
  for (int i = 0; i < 6000; i += 600) {
    const std::string key = "reap-me-" + std::to_string(i);
    CHECK(GetString(e.get(), key) == Value(key));
  }
}

}  // namespace

TEST_CASE("disk expiry: reaping thousands of on-disk keys stays within max_memory") {
  SUBCASE("offload") { CheckReapingWithinMemory(EvictionPolicy::kOffload); }
  SUBCASE("allkeys-lru") { CheckReapingWithinMemory(EvictionPolicy::kAllKeysLru); }
  SUBCASE("noeviction") { CheckReapingWithinMemory(EvictionPolicy::kNoEviction); }
}

TEST_CASE("disk expiry: counts stay exact while checkpoints and compactions change segments") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 48 * 1024;
  o.compaction_trigger = 2;
  auto e = OpenEngine(o);
  // key -> (value, expire_at): the expected state.
  std::map<std::string, std::pair<std::string, std::int64_t>> model;
  std::uint64_t x = 99;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  // Expiries spread over three seconds while writes keep checkpointing (offload) and the
  // compactions that Tick starts and installs keep replacing segments under the walk.
  for (int step = 0; step < 300; ++step) {
    for (int w = 0; w < 20; ++w) {
      const std::string key = "churn" + std::to_string(next() % 4000);
      const std::int64_t expire = next() % 3 == 0 ? 0 : clock.now_ms + 1 + next() % 3000;
      const std::string value = Value(key) + std::to_string(step) + std::string(100, 'x');
      REQUIRE(e->Put(key, value, expire).ok());
      model[key] = {value, expire};
    }
    clock.now_ms += 10;
    e->Tick();
    if (step % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  clock.now_ms += 3001;  // everything with a TTL has expired
  std::uint64_t persistent = 0;
  for (const auto& [key, v] : model) persistent += v.second == 0 ? 1 : 0;
  CHECK(TickUntil(e.get(), persistent, 2000) == persistent);
  const EngineStats st = e->Stats();
  CHECK(st.compactions > 0);
  CHECK(st.keys_with_expiry == 0);
  CHECK(st.disk_expire_scanned > 0);
  for (const auto& [key, v] : model) {
    std::optional<std::string> want;
    if (v.second == 0) want = v.first;
    REQUIRE(GetString(e.get(), key) == want);
  }
  CHECK(e->Stats().expired_keys == st.expired_keys);  // active expiry had got them all
  CHECK(e->KeyCount() == persistent);
}

}  // namespace dynakv::storage
