// Checkpoints, compaction and recovery with data spread over memtable and segments.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

// The expected content of an engine: key -> (value, expire_at).
using Model = std::map<std::string, std::pair<std::string, std::int64_t>>;

void CheckModel(Engine* e, const Model& model, std::int64_t now, int key_space) {
  std::uint64_t live = 0;
  for (int i = 0; i < key_space; ++i) {
    const std::string key = "m" + std::to_string(i);
    auto it = model.find(key);
    const bool expect = it != model.end() && (it->second.second == 0 || it->second.second > now);
    live += expect;
    auto got = GetString(e, key);
    REQUIRE(got.has_value() == expect);
    if (expect) {
      CHECK(*got == it->second.first);
      CHECK(e->GetExpireAt(key) == it->second.second);
    }
  }
  // Every expired key was just read, hence reaped: the count is exact.
  CHECK(e->KeyCount() == live);
}

// A churning workload: overwrites, deletes, TTLs, over several checkpoints.
void Churn(Engine* e, Model* model, FakeClock* clock, int rounds, int key_space) {
  std::uint64_t x = 12345;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < rounds; ++round) {
    for (int op = 0; op < 400; ++op) {
      const std::string key = "m" + std::to_string(next() % key_space);
      const auto kind = next() % 10;
      if (kind < 6) {
        const std::string value =
            "r" + std::to_string(round) + "-" + std::string(next() % 300, 'q');
        const std::int64_t expire =
            kind == 0 ? clock->now_ms + 1 + static_cast<std::int64_t>(next() % 3000) : 0;
        REQUIRE(e->Put(key, value, expire).ok());
        (*model)[key] = {value, expire};
      } else if (kind < 8) {
        const bool existed = e->Delete(key);
        auto it = model->find(key);
        const bool expected =
            it != model->end() && (it->second.second == 0 || it->second.second > clock->now_ms);
        CHECK(existed == expected);
        model->erase(key);
      } else {
        auto it = model->find(key);
        const bool alive =
            it != model->end() && (it->second.second == 0 || it->second.second > clock->now_ms);
        const std::int64_t expire = kind == 8 ? clock->now_ms + 500 : 0;
        CHECK(e->SetExpireAt(key, expire) == alive);
        if (alive)
          it->second.second = expire;
        else if (it != model->end())
          model->erase(it);
      }
    }
    clock->now_ms += 400;
    REQUIRE(e->Checkpoint().ok());
    e->Tick();
  }
}

}  // namespace

TEST_CASE("segments: checkpoints and compactions keep contents and counts exact") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.compaction_trigger = 3;
  SUBCASE("unbounded memory") {}
  SUBCASE("offload through a small memtable, with log-size checkpoints") {
    o.max_memory = 16 * 1024;
    o.log_checkpoint_bytes = 32 * 1024;
  }
  constexpr int kKeys = 1500;
  Model model;
  {
    auto e = OpenEngine(o);
    Churn(e.get(), &model, &clock, 12, kKeys);
    const std::uint64_t before = e->Stats().segments;
    for (int i = 0; i < 200 && (e->Stats().compactions == 0 || e->Stats().compaction_running);
         ++i) {
      e->Tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const EngineStats st = e->Stats();
    CHECK(st.checkpoints >= 12);
    CHECK(st.compactions > 0);
    CHECK(st.segments < st.checkpoints);
    CHECK(st.segments <= before);
    CheckModel(e.get(), model, clock.now_ms, kKeys);
    Churn(e.get(), &model, &clock, 3, kKeys);
  }
  auto e = OpenEngine(o);
  CheckModel(e.get(), model, clock.now_ms, kKeys);
}

TEST_CASE("segments: a compaction that drops expired keys keeps KeyCount exact") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.compaction_trigger = 2;
  auto e = OpenEngine(o);
  for (int i = 0; i < 100; ++i)
    REQUIRE(e->Put("a" + std::to_string(i), "v", clock.now_ms + 10).ok());
  for (int i = 0; i < 100; ++i) REQUIRE(e->Put("b" + std::to_string(i), "v", 0).ok());
  REQUIRE(e->Checkpoint().ok());
  // Newer versions shadow some expiring keys: those must stay counted.
  for (int i = 0; i < 10; ++i) REQUIRE(e->Put("a" + std::to_string(i), "new", 0).ok());
  for (int i = 0; i < 150; ++i) REQUIRE(e->Put("c" + std::to_string(i), "v", 0).ok());
  REQUIRE(e->Checkpoint().ok());  // a segment of similar size: the two merge
  for (int i = 10; i < 20; ++i) REQUIRE(e->Put("a" + std::to_string(i), "newer", 0).ok());  // dirty
  clock.now_ms += 10;
  CHECK(e->KeyCount() == 350);
  for (int i = 0; i < 400 && e->Stats().compactions == 0; ++i) {
    e->Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(e->Stats().compactions == 1);
  CHECK(e->Stats().segments == 1);
  // a20..a99 expired with nothing newer; a0..a19 have newer versions.
  CHECK(e->KeyCount() == 270);
  CHECK(e->Stats().expired_keys == 80);
  CHECK(e->Stats().keys_with_expiry == 0);
  CHECK(GetString(e.get(), "a5") == "new");
  CHECK(GetString(e.get(), "a15") == "newer");
  CHECK_FALSE(e->Exists("a50"));
  CHECK(e->KeyCount() == 270);
}

TEST_CASE("segments: scan over memtable and segments returns each live key once") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  std::set<std::string> expect;
  for (int batch = 0; batch < 4; ++batch) {
    for (int i = 0; i < 600; ++i) {
      const std::string key = "s" + std::to_string(batch * 400 + i);  // overlapping batches
      REQUIRE(e->Put(key, "v" + std::to_string(batch), 0).ok());
      expect.insert(key);
    }
    REQUIRE(e->Checkpoint().ok());
  }
  for (int i = 0; i < 1800; i += 7) {
    const std::string key = "s" + std::to_string(i);
    if (i % 2) {
      CHECK(e->Delete(key));  // tombstones in the memtable hide segment versions
      expect.erase(key);
    } else {
      REQUIRE(e->Put(key, "fresh", 0).ok());
    }
    REQUIRE(e->Put("new" + std::to_string(i), "memtable only", 0).ok());
    expect.insert("new" + std::to_string(i));
  }
  REQUIRE(e->Put("ttl", "x", clock.now_ms + 1).ok());
  clock.now_ms += 1;
  for (std::size_t count : {3, 50, 5000}) {
    std::map<std::string, int> seen;
    std::uint64_t cursor = 0;
    int calls = 0;
    do {
      std::vector<std::string> keys;
      cursor = e->Scan(cursor, count, &keys);
      // COUNT bounds the whole reply, not each of the five sources.
      CHECK(keys.size() <= count);
      for (const std::string& k : keys) ++seen[k];
      REQUIRE(++calls < 100000);
    } while (cursor != 0);
    CHECK(seen.size() == expect.size());
    for (const auto& [k, n] : seen) {
      CHECK(n == 1);
      CHECK(expect.count(k) == 1);
    }
  }
  // RandomKey finds keys that live only on disk too.
  auto k = e->RandomKey();
  REQUIRE(k.has_value());
  CHECK(expect.count(*k) == 1);
}

TEST_CASE("segments: files a crash left behind are cleaned up at open") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 100; ++i) REQUIRE(e->Put("k" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->Checkpoint().ok());
    REQUIRE(e->Put("after", "checkpoint", 0).ok());
  }
  // A segment that never made it into the MANIFEST and a half-written MANIFEST.tmp.
  std::string segment;
  for (const auto& ent : std::filesystem::directory_iterator(dir.path())) {
    if (ent.path().extension() == ".sst") segment = ent.path().string();
  }
  REQUIRE_FALSE(segment.empty());
  std::filesystem::copy_file(segment, dir.path() + "/seg-00099999.sst");
  { std::ofstream(dir.path() + "/MANIFEST.tmp") << "partial"; }
  auto e = OpenEngine(o);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/seg-00099999.sst"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/MANIFEST.tmp"));
  CHECK(e->KeyCount() == 101);
  CHECK(GetString(e.get(), "after") == "checkpoint");
  CHECK(GetString(e.get(), "k42") == "v");
}

TEST_CASE("segments: the log is checkpointed once it reaches log_checkpoint_bytes") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 64 * 1024;
  auto e = OpenEngine(o);
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(e->Put("k" + std::to_string(i % 700), testing::RandomBytes(100, i), 0).ok());
    // Past the threshold only while a checkpoint is still writing, and never past the stall size.
    CHECK(e->Stats().log_bytes < o.log_stall_factor * o.log_checkpoint_bytes + 1024);
  }
  // The last one may still be writing in the background; until it is installed, its log stays.
  for (int i = 0; i < 5000 && e->Stats().checkpoint_running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    e->Tick();
  }
  REQUIRE_FALSE(e->Stats().checkpoint_running);
  // ~580 KB of log: one checkpoint started at 64 KB, the next by the stall size (4 x 64 KB).
  CHECK(e->Stats().checkpoints >= 2);
  // Old logs are deleted once their data is in a segment (by a background thread: give it time).
  int logs = 0;
  for (int i = 0; i < 2000; ++i) {
    logs = 0;
    for (const auto& ent : std::filesystem::directory_iterator(dir.path())) {
      logs += ent.path().filename().string().rfind("log-", 0) == 0;
    }
    if (logs == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(logs == 1);
  CHECK(e->KeyCount() == 700);
}

TEST_CASE("segments: Clear removes segment data, also after reopen") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 500; ++i) REQUIRE(e->Put("k" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->Checkpoint().ok());
    for (int i = 500; i < 600; ++i) REQUIRE(e->Put("k" + std::to_string(i), "v", 0).ok());
    e->Clear();
    CHECK(e->KeyCount() == 0);
    CHECK(e->Stats().segments == 0);
    CHECK_FALSE(e->Exists("k1"));
    std::vector<std::string> keys;
    CHECK(e->Scan(0, 1000, &keys) == 0);
    CHECK(keys.empty());
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 0);
  CHECK_FALSE(e->Exists("k1"));
  CHECK_FALSE(e->Exists("k550"));
}

TEST_CASE("segments: allkeys-lru over on-disk keys keeps KeyCount exact") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  auto e = OpenEngine(o);
  for (int i = 0; i < 1000; ++i)
    REQUIRE(e->Put("d" + std::to_string(i), std::string(100, 'd'), 0).ok());
  REQUIRE(e->Checkpoint().ok());
  e->SetEvictionPolicy(EvictionPolicy::kAllKeysLru);
  e->SetMaxMemory(32 * 1024);
  e->Tick();  // evicts clean on-disk keys: deletes, with tombstones
  for (int i = 0; i < 1000; ++i)
    REQUIRE(e->Put("n" + std::to_string(i), std::string(100, 'n'), 0).ok());
  std::uint64_t present = 0;
  for (int i = 0; i < 1000; ++i) {
    present += e->Exists("d" + std::to_string(i));
    present += e->Exists("n" + std::to_string(i));
  }
  CHECK(present < 2000);
  CHECK(e->KeyCount() == present);
  CHECK(e->Stats().evicted_keys == 2000 - present);
}

}  // namespace dynakv::storage
