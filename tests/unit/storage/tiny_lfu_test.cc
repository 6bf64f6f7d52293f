// allkeys-tinylfu's decisions (storage/tiny_lfu.h) on small cases: the policy over a bare
// memtable, driven as the engine drives it (every access counted, reads touch, victims erased
// while the table is over the limit). Sizes are exact and nothing is random, so the outcomes are
// fixed.
#include "tiny_lfu.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "frequency_sketch.h"
#include "memtable.h"
#include "storage/engine.h"

namespace dynakv::storage {

namespace {

constexpr std::size_t kValueSize = 1000;
const std::string kValue(kValueSize, 'v');
// Every key below has 3 bytes, so every entry has this size (the allocator's size class).
constexpr std::size_t kEntrySize = AllocationSize(sizeof(Memtable::Entry) + 3 + kValueSize);

struct Cache {
  Memtable table;
  WTinyLfu policy{&table};
  std::size_t limit;

  // What counts against the limit besides the entries (up to 16 of them): the 16-slot bucket
  // array, the smallest sketch and doorkeeper, 16 list nodes.
  static constexpr std::size_t kOverhead = 16 * 8 + 640 + 16 * 16;
  // Room for `entries` entries: the window's 1% is a tenth of one.
  explicit Cache(int entries) : limit(entries * kEntrySize + 10 + kOverhead) {
    policy.SetMaxMemory(limit);
    policy.Attach();
  }
  // What the limit bounds, as the engine counts it.
  std::size_t Bytes() const { return table.bytes() + policy.bytes(); }
  std::size_t ListedBytes() const { return table.region_bytes(Memtable::kWindow) + MainBytes(); }
  std::size_t MainBytes() const {
    return table.region_bytes(Memtable::kProbation) + table.region_bytes(Memtable::kProtected);
  }
  // A write: counted, stored, then victims go until the entries fit (as the engine does, the
  // written key may be one).
  Memtable::Entry* Write(const std::string& key) {
    policy.Count(HashKey(key));
    table.Upsert(HashKey(key), key, kValue, kValueSize, 0, 0);
    while (Bytes() > limit) {
      Memtable::Entry* victim = policy.Victim([](const Memtable::Entry&) { return false; });
      REQUIRE(victim != nullptr);
      evicted.emplace_back(victim->key());
      table.Erase(victim);
    }
    return Find(key);
  }
  // A read: counted, and a hit touches the entry.
  bool Read(const std::string& key) {
    policy.Count(HashKey(key));
    Memtable::Entry* e = Find(key);
    if (e != nullptr) table.Touch(e);
    return e != nullptr;
  }
  Memtable::Entry* Find(const std::string& key) const { return table.Find(HashKey(key), key); }
  Memtable::Region RegionOf(const std::string& key) const {
    return static_cast<Memtable::Region>(Find(key)->region);
  }
  std::vector<std::string> Order(Memtable::Region r) const {
    std::vector<std::string> keys;
    for (const Memtable::Entry* e : policy.Order(r)) keys.emplace_back(e->key());
    return keys;
  }
  std::vector<std::string> evicted;
};

std::string Key(char prefix, int i) {
  return prefix + std::string(i < 10 ? "0" : "") + std::to_string(i);
}

}  // namespace

TEST_CASE("tinylfu: a new key estimated below the victim is rejected, above it admitted") {
  Cache c(10);
  // Nine keys fill the main region (9 of its 9.9 entries); the window's share is a tenth of one.
  for (int i = 0; i < 9; ++i) c.Write(Key('m', i));
  CHECK(c.Order(Memtable::kProbation).size() == 9);
  CHECK(c.table.region_bytes(Memtable::kWindow) == 0);
  for (int r = 0; r < 4; ++r) c.policy.Count(HashKey(Key('m', 0)));  // m00 estimated at 5
  CHECK(c.policy.sketch().Frequency(HashKey(Key('m', 0))) == 5);

  // n00, seen once, loses against the main region's victim (probation's oldest, m00): deleted.
  c.Write("n00");
  c.Write("n01");  // makes n00 the window's oldest: the candidate
  CHECK(c.evicted == std::vector<std::string>{"n00"});
  CHECK(c.policy.rejected() == 1);
  CHECK(c.Find("m00") != nullptr);

  // n02, estimated at 8, wins against m00 (5): m00 goes, and n02 enters probation.
  for (int r = 0; r < 7; ++r) c.policy.Count(HashKey("n02"));
  c.Write("n02");  // counted once more: 8; the candidate is still n01 (1): rejected
  CHECK(c.evicted == std::vector<std::string>{"n00", "n01"});
  c.Write("n03");  // n02 is the candidate now
  CHECK(c.evicted == std::vector<std::string>{"n00", "n01", "m00"});
  CHECK(c.RegionOf("n02") == Memtable::kProbation);
  CHECK(c.policy.admitted() == 1);
  CHECK(c.policy.rejected() == 2);
}

TEST_CASE("tinylfu: frequently read keys survive a one-pass scan, an LRU's would not") {
  Cache c(10);
  for (int i = 0; i < 5; ++i) c.Write(Key('h', i));
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 5; ++i) CHECK(c.Read(Key('h', i)));
  }
  // Read again while in probation: protected.
  CHECK(c.Order(Memtable::kProtected) ==
        std::vector<std::string>{"h00", "h01", "h02", "h03", "h04"});
  // A scan of 200 keys, each written once after its miss and never read again.
  for (int i = 0; i < 200; ++i) {
    CHECK_FALSE(c.Read(Key('s', i)));
    c.Write(Key('s', i));
  }
  for (int i = 0; i < 5; ++i) CHECK(c.Find(Key('h', i)) != nullptr);
  // Every write past the limit deleted one scan key: all but the four that filled probation and
  // the last one, and no h key.
  CHECK(c.evicted.size() == 195);
  CHECK(c.policy.rejected() > 150);
  CHECK(c.Bytes() <= c.limit);
}

TEST_CASE("tinylfu: probation hits are promoted, protected overflow goes back to probation") {
  Cache c(10);  // protected's share: 80% of the main region's 9.9 entries, 7 entries
  for (int i = 0; i < 9; ++i) c.Write(Key('k', i));
  CHECK(c.Order(Memtable::kProbation).front() == "k00");
  for (int i = 0; i < 9; ++i) c.Read(Key('k', i));
  // The eighth promotion demoted k00, the ninth k01, to probation's recent end.
  CHECK(c.Order(Memtable::kProbation) == std::vector<std::string>{"k00", "k01"});
  CHECK(c.Order(Memtable::kProtected).size() == 7);
  CHECK(c.Order(Memtable::kProtected).front() == "k02");
  // Reading a protected key again moves it to the recent end.
  c.Read("k02");
  CHECK(c.Order(Memtable::kProtected).back() == "k02");
  // The main region's victim is probation's oldest, even against an unseen candidate.
  c.Write("x00");
  c.Write("x01");
  CHECK(c.evicted == std::vector<std::string>{"x00"});  // x00 (1) lost against k00 (2)
  c.policy.sketch().Age();  // k00's estimate back to 0; x01 is then read twice: 2
  for (int r = 0; r < 2; ++r) c.policy.Count(HashKey("x01"));
  c.Write("x02");
  CHECK(c.evicted.back() == "k00");
}

TEST_CASE("tinylfu: overwrites keep their place, tombstones are in no list, bytes add up") {
  Cache c(10);
  for (int i = 0; i < 6; ++i) c.Write(Key('k', i));
  c.Read("k03");
  CHECK(c.RegionOf("k03") == Memtable::kProtected);
  c.Write("k03");  // an overwrite: a new entry, still protected, at the recent end
  CHECK(c.RegionOf("k03") == Memtable::kProtected);
  c.Write("k01");  // an overwrite of a probation key is an access: promoted
  CHECK(c.Order(Memtable::kProtected) == std::vector<std::string>{"k03", "k01"});
  // A delete of a key some segment holds leaves a tombstone: out of the lists and their bytes.
  const std::size_t before = c.ListedBytes();
  c.table.Upsert(HashKey("k02"), "k02", "", 0, Memtable::kTombstone, 0);
  CHECK(c.RegionOf("k02") == Memtable::kUnlisted);
  CHECK(c.ListedBytes() == before - kEntrySize);
  CHECK(c.policy.keys() == 5);
  // and a write over the tombstone is a new key again (through the window to probation: the main
  // region has room).
  c.Write("k02");
  CHECK(c.RegionOf("k02") == Memtable::kProbation);
  CHECK(c.policy.keys() == 6);
  std::size_t listed = 0;
  c.table.ForEach([&](Memtable::Entry& e) {
    if (e.region != Memtable::kUnlisted) listed += e.alloc_size();
  });
  CHECK(listed == c.ListedBytes());
  c.table.Erase(c.Find("k01"));
  CHECK(c.Order(Memtable::kProtected) == std::vector<std::string>{"k03"});
  // Detaching hands the table back to the other policies: no regions, no lists.
  c.policy.Detach();
  CHECK(c.table.region_bytes(Memtable::kProtected) == 0);
  CHECK(c.RegionOf("k03") == Memtable::kUnlisted);
  c.table.Touch(c.Find("k03"));
  c.Write("z00");
}

TEST_CASE("frequency sketch: aging halves the counters and empties the doorkeeper") {
  FrequencySketch sketch;
  const std::uint64_t a = HashKey("often"), b = HashKey("once"), d = HashKey("twice");
  for (int i = 0; i < 20; ++i) sketch.Increment(a);
  sketch.Increment(b);
  sketch.Increment(d);
  sketch.Increment(d);
  CHECK(sketch.Frequency(a) == 16);  // 15 in the counters, 1 in the doorkeeper
  CHECK(sketch.Frequency(b) == 1);   // the doorkeeper only
  CHECK(sketch.Frequency(d) == 2);
  CHECK(sketch.Frequency(HashKey("never")) == 0);
  sketch.Age();
  CHECK(sketch.resets() == 1);
  CHECK(sketch.Frequency(a) == 7);
  CHECK(sketch.Frequency(b) == 0);
  CHECK(sketch.Frequency(d) == 0);  // its one counted access halved away
  // It ages by itself after 10 x capacity accesses.
  const std::size_t period = 10 * sketch.capacity();
  for (std::size_t i = 0; sketch.resets() == 1 && i < 2 * period; ++i) {
    sketch.Increment((i + 1) * 0x9E3779B97F4A7C15ull);
  }
  CHECK(sketch.resets() == 2);
  CHECK(sketch.Frequency(a) < 7);
}

}  // namespace dynakv::storage
