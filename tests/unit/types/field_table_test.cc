// The hashtable encoding's table (nodes without a stored hash: chains compare fields, resizes
// rehash): against a reference map, the scan cursor's guarantee across growth and shrinkage (a
// cursor from a larger table lands inside a bucket of a smaller one), random picks, and the
// memory a small node takes; incremental resizes (lookups, walks and scans while both arrays
// hold fields) and snapshots serialized on another thread while the owner writes.
#include "field_table.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "types/ops.h"

namespace dynakv::types {

TEST_CASE("field table: random operations agree with a reference map") {
  std::mt19937_64 rng(3);
  FieldTable t;
  std::map<std::string, std::string> ref;
  for (int step = 0; step < 30000; ++step) {
    const std::string field = "f" + std::to_string(rng() % 3000);
    const std::string value(rng() % 20, static_cast<char>('a' + rng() % 26));
    switch (rng() % 4) {
      case 0:
        CHECK(t.Remove(field) == (ref.erase(field) == 1));
        break;
      case 1: {
        const auto got = t.Get(field);
        const auto it = ref.find(field);
        REQUIRE(got.has_value() == (it != ref.end()));
        if (got) CHECK(*got == it->second);
        break;
      }
      default:
        CHECK(t.Set(field, value) == (ref.count(field) == 0));
        ref[field] = value;
    }
  }
  REQUIRE(t.size() == ref.size());
  std::map<std::string, std::string> all;
  t.ForEach([&](std::string_view f, std::string_view v) { all.emplace(f, v); });
  CHECK(all == ref);
  std::string pairs;
  t.AppendPairs(&pairs);
  CHECK(pairs.size() > 0);
}

TEST_CASE("field table: a scan returns every field present throughout, across resizes") {
  FieldTable t;
  for (int i = 0; i < 4000; ++i) t.Set("k" + std::to_string(i), "v");
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = t.Scan(cursor, 7, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    if (++calls == 40) {  // shrinks the table: later cursors fall inside buckets
      for (int i = 500; i < 4000; ++i) t.Remove("k" + std::to_string(i));
    }
    if (calls == 60) {  // and grows it again
      for (int i = 0; i < 10000; ++i) t.Set("x" + std::to_string(i), "v");
    }
  } while (cursor != 0);
  for (int i = 0; i < 500; ++i) CHECK(seen.count("k" + std::to_string(i)) == 1);
}

TEST_CASE("field table: a 14-byte member with no value takes a 32-byte node") {
  FieldTable t;
  for (int i = 0; i < 1024; ++i) {
    char member[16];
    std::snprintf(member, sizeof member, "member:%07d", i);
    t.Set(member, {});
  }
  // 16 bytes of header + 14 bytes, rounded to 32, and one bucket pointer per field.
  CHECK(t.bytes() == 1024 * 32 + 1024 * sizeof(void*));
  std::mt19937_64 rng(5);
  std::set<std::string> picked;
  for (int i = 0; i < 200000; ++i) picked.emplace(t.Random(rng).first);
  CHECK(picked.size() == 1024);
}

TEST_CASE("field table: a resize moves a few buckets per write, never the whole table") {
  FieldTable t;
  std::set<std::string> ref;
  int i = 0;
  // Fill to the first resize past 4,096 buckets: from then on the old array empties gradually.
  while (!(t.rehashing() && t.size() > 4096)) {
    t.Set("m" + std::to_string(i), {});
    ref.emplace("m" + std::to_string(i++));
  }
  const std::size_t at_start = t.size();
  // Every field is found while both arrays hold some, and the walk meets each once.
  for (const std::string& m : ref) REQUIRE(t.Get(m).has_value());
  std::multiset<std::string> walked;
  t.ForEach([&](std::string_view f, std::string_view) { walked.emplace(f); });
  CHECK(walked.size() == ref.size());
  CHECK(std::set<std::string>(walked.begin(), walked.end()) == ref);
  // Writes and removals go on during the move; it ends within a fraction of the old size.
  int writes = 0;
  while (t.rehashing()) {
    if (writes % 3 == 2) {
      const std::string gone = "m" + std::to_string(writes);
      CHECK(t.Remove(gone) == (ref.erase(gone) == 1));
    } else {
      t.Set("n" + std::to_string(writes), {});
      ref.emplace("n" + std::to_string(writes));
    }
    REQUIRE(++writes <= static_cast<int>(at_start));
  }
  CHECK(writes > 1);
  CHECK(t.size() == ref.size());
  for (const std::string& m : ref) CHECK(t.Get(m).has_value());
  CHECK(t.bytes() % sizeof(void*) == 0);
}

TEST_CASE("field table: a scan during a resize returns every field present throughout once") {
  for (const bool grow : {true, false}) {
    FieldTable t;
    for (int i = 0; i < 20000; ++i) t.Set("k" + std::to_string(i), "v");
    if (!grow) {
      while (t.rehashing()) t.Set("k0", "w");  // finishes the growth first
      for (int i = 2000; i < 20000; ++i) t.Remove("k" + std::to_string(i));
    }
    std::multiset<std::string> seen;
    std::uint64_t cursor = 0;
    int calls = 0;
    bool saw_rehash = false;
    do {
      saw_rehash |= t.rehashing();
      cursor = t.Scan(cursor, 5, [&](std::string_view f, std::string_view) { seen.emplace(f); });
      // A write per call moves the resize along under the cursor.
      t.Set("extra" + std::to_string(calls++ % 3), "v");
    } while (cursor != 0);
    CHECK(saw_rehash);
    const int kept = grow ? 20000 : 2000;
    for (int i = 0; i < kept; ++i) REQUIRE(seen.count("k" + std::to_string(i)) == 1);
  }
}

// What a snapshot serializes, parsed back (fields, or fields and values).
std::map<std::string, std::string> ParseSnapshot(std::string_view in, bool with_values) {
  std::map<std::string, std::string> out;
  while (!in.empty()) {
    std::string_view f, v;
    REQUIRE(GetLengthPrefixed(&in, &f));
    if (with_values) REQUIRE(GetLengthPrefixed(&in, &v));
    REQUIRE(out.emplace(f, v).second);
  }
  return out;
}

TEST_CASE("field table: a snapshot serialized on another thread is the table as it was") {
  for (const bool mid_rehash : {false, true}) {
    FieldTable t;
    std::map<std::string, std::string> ref;
    int n = 0;
    while (ref.size() < 30000 || t.rehashing() != mid_rehash) {
      const std::string f = "f" + std::to_string(n++);
      t.Set(f, "v" + f);
      ref[f] = "v" + f;
    }
    std::unique_ptr<FieldTable::Snapshot> snapshot = t.StartSnapshot(/*with_values=*/true);
    const std::map<std::string, std::string> at_start = ref;
    std::string bytes;
    std::thread serializer([&] { snapshot->Serialize(&bytes); });
    // The owner overwrites (in place and not), removes and adds (past a resize) meanwhile.
    std::mt19937_64 rng(7);
    for (int i = 0; i < 60000; ++i) {
      const std::string f = "f" + std::to_string(rng() % (n + 40000));
      switch (rng() % 4) {
        case 0:
          CHECK(t.Remove(f) == (ref.erase(f) == 1));
          break;
        case 1:
          t.Set(f, "x" + f);  // a value of the same length: written in place
          ref[f] = "x" + f;
          break;
        default:
          t.Set(f, "longer-" + f);
          ref[f] = "longer-" + f;
      }
    }
    serializer.join();
    t.EndSnapshot();
    CHECK(snapshot->size() == at_start.size());
    CHECK(ParseSnapshot(bytes, true) == at_start);
    // The table is the live one, and resizes again once the snapshot is over.
    REQUIRE(t.size() == ref.size());
    std::map<std::string, std::string> all;
    t.ForEach([&](std::string_view f, std::string_view v) { all.emplace(f, v); });
    CHECK(all == ref);
    bool resized = false;
    for (int i = 0; i < 200000 && !(resized && !t.rehashing()); ++i) {
      t.Set("g" + std::to_string(i), {});
      resized |= t.rehashing();
    }
    CHECK(resized);
    CHECK_FALSE(t.rehashing());
  }
}

TEST_CASE("field table: a snapshot of fields alone, serialized after the owner wrote everywhere") {
  FieldTable t;
  std::set<std::string> ref;
  for (int i = 0; i < 5000; ++i) {
    t.Set("m" + std::to_string(i), {});
    ref.emplace("m" + std::to_string(i));
  }
  std::unique_ptr<FieldTable::Snapshot> snapshot = t.StartSnapshot(/*with_values=*/false);
  // Every chunk is settled by the owner before the serializer runs.
  for (int i = 0; i < 5000; ++i) t.Remove("m" + std::to_string(i));
  for (int i = 0; i < 5000; ++i) t.Set("z" + std::to_string(i), {});
  std::string bytes;
  snapshot->Serialize(&bytes);
  t.EndSnapshot();
  std::set<std::string> got;
  for (const auto& [f, v] : ParseSnapshot(bytes, false)) got.emplace(f);
  CHECK(got == ref);
  CHECK(t.size() == 5000);
  CHECK_FALSE(t.Get("m1").has_value());
}

}  // namespace dynakv::types
