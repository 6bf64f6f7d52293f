// SCAN and RANDOMKEY.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

// Runs a full SCAN; returns how often each key was returned.
std::map<std::string, int> FullScan(Engine* e, std::size_t count) {
  std::map<std::string, int> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  do {
    std::vector<std::string> keys;
    cursor = e->Scan(cursor, count, &keys);
    for (const std::string& k : keys) ++seen[k];
    REQUIRE(++calls < 100000);
  } while (cursor != 0);
  return seen;
}

}  // namespace

TEST_CASE("scan: every key exactly once, deleted and expired keys never") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  for (int i = 0; i < 3000; ++i) REQUIRE(e->Put("s" + std::to_string(i), "v", 0).ok());
  for (int i = 0; i < 3000; i += 10) CHECK(e->Delete("s" + std::to_string(i)));
  REQUIRE(e->Put("ttl", "v", clock.now_ms + 5).ok());
  clock.now_ms += 5;
  for (std::size_t count : {1, 10, 1000}) {
    const auto seen = FullScan(e.get(), count);
    CHECK(seen.size() == 2700);
    for (const auto& [k, n] : seen) {
      CHECK(n == 1);
      CHECK(std::stoi(k.substr(1)) % 10 != 0);
    }
  }
  std::vector<std::string> keys;
  CHECK(e->Scan(0, 0, &keys) != 0);  // count 0 is treated as 1, not as "done"
}

TEST_CASE("scan: keys present for the whole scan are returned while keys are added") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  std::set<std::string> original;
  for (int i = 0; i < 1000; ++i) {
    original.insert("o" + std::to_string(i));
    REQUIRE(e->Put("o" + std::to_string(i), "v", 0).ok());
  }
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int added = 0;
  int calls = 0;
  do {
    std::vector<std::string> keys;
    cursor = e->Scan(cursor, 20, &keys);
    seen.insert(keys.begin(), keys.end());
    // Grow the table a lot between calls: rehashing must not disturb the cursor. Checkpoints
    // move keys from the memtable to segments mid-scan, which must not disturb it either.
    for (int j = 0; j < 20; ++j) REQUIRE(e->Put("n" + std::to_string(added++), "v", 0).ok());
    if (++calls % 10 == 0) REQUIRE(e->Checkpoint().ok());
  } while (cursor != 0);
  CHECK(added > 1000);  // the memtable rehashed at least once during the scan
  CHECK(e->Stats().segments > 3);
  for (const std::string& k : original) CHECK(seen.count(k) == 1);
}

TEST_CASE("randomkey: returns live keys and nothing when empty") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK_FALSE(e->RandomKey().has_value());
  REQUIRE(e->Put("only", "v", 0).ok());
  CHECK(e->RandomKey() == "only");
  for (int i = 0; i < 100; ++i) REQUIRE(e->Put("r" + std::to_string(i), "v", 0).ok());
  std::set<std::string> picked;
  for (int i = 0; i < 200; ++i) {
    auto k = e->RandomKey();
    REQUIRE(k.has_value());
    CHECK(e->Exists(*k));
    picked.insert(*k);
  }
  CHECK(picked.size() > 20);
  // Only expired keys left: none is returned.
  e->Clear();
  REQUIRE(e->Put("gone", "v", clock.now_ms + 1).ok());
  clock.now_ms += 1;
  CHECK_FALSE(e->RandomKey().has_value());
}

}  // namespace dynakv::storage
