// The hashtable encoding's table (nodes without a stored hash: chains compare fields, resizes
// rehash): against a reference map, the scan cursor's guarantee across growth and shrinkage (a
// cursor from a larger table lands inside a bucket of a smaller one), random picks, and the
// memory a small node takes.
#include "field_table.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>

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

}  // namespace dynakv::types
