// The memory limit's accounting against the allocator the server links (this binary links
// jemalloc, as dynakv-server does): AllocationSize is jemalloc's own size class, and what the
// memtable, its shared values and allkeys-tinylfu count is exactly what jemalloc hands out for
// them (the thread's allocated bytes, which add up to the stats.allocated INFO reports as
// used_memory).
#include "allocation_size.h"

#include <doctest/doctest.h>
#include <jemalloc/jemalloc.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "memtable.h"
#include "storage/engine.h"
#include "storage/shared_value.h"
#include "tiny_lfu.h"

namespace dynakv::storage {

namespace {

// The calling thread's bytes allocated less bytes freed, as jemalloc counts them (size classes).
class ThreadBytes {
 public:
  ThreadBytes() {
    std::size_t len = sizeof(allocated_);
    REQUIRE(mallctl("thread.allocatedp", &allocated_, &len, nullptr, 0) == 0);
    len = sizeof(deallocated_);
    REQUIRE(mallctl("thread.deallocatedp", &deallocated_, &len, nullptr, 0) == 0);
  }
  std::int64_t net() const { return static_cast<std::int64_t>(*allocated_ - *deallocated_); }

 private:
  std::uint64_t* allocated_ = nullptr;
  std::uint64_t* deallocated_ = nullptr;
};

struct Item {
  std::string key;
  std::string stored;
  std::uint32_t raw_len;
  std::uint8_t flags;
  std::uint32_t ns;
};

// Keys of 1..60 bytes, values from empty to 40 KB (inline and shared, plain and compressed),
// some in another namespace: every layout an entry has. Made before anything is measured.
std::vector<Item> Items(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) {
    Item it;
    it.key = "k" + std::to_string(i) + std::string(rng() % 60, 'x');
    const std::size_t len = rng() % 8 == 0 ? rng() % 40000 : rng() % 4200;
    it.stored.assign(len, static_cast<char>('a' + i % 26));
    const bool compressed = rng() % 3 == 0;
    it.flags = Memtable::kDirty | (compressed ? Memtable::kCompressed : 0);
    it.raw_len = compressed ? static_cast<std::uint32_t>(len * 2 + rng() % 9000)
                            : static_cast<std::uint32_t>(len);
    it.ns = rng() % 5 == 0 ? 3 : 0;
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace

TEST_CASE("AllocationSize is jemalloc's size class for every request size") {
  for (std::size_t n = 1; n <= (1u << 17); ++n) {
    if (AllocationSize(n) != nallocx(n, 0)) {
      CAPTURE(n);
      REQUIRE(AllocationSize(n) == nallocx(n, 0));
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const std::size_t n = (rng() % (std::size_t{1} << 34)) >> (rng() % 34);
    if (n == 0) continue;
    CAPTURE(n);
    REQUIRE(AllocationSize(n) == nallocx(n, 0));
  }
}

TEST_CASE("a shared value costs what jemalloc allocates for it") {
  for (std::size_t size : {0ul, 1ul, 8191ul, 8192ul, 8200ul, 10000ul, 65536ul, 1000000ul}) {
    CAPTURE(size);
    ThreadBytes thread;
    const std::int64_t before = thread.net();
    std::shared_ptr<SharedValue> value = SharedValue::Make(size);
    const std::int64_t allocated = thread.net() - before;
    CHECK(allocated == static_cast<std::int64_t>(Memtable::SharedBytes(size)));
  }
}

TEST_CASE("the memtable counts exactly what jemalloc hands out for it") {
  const std::vector<Item> items = Items(20000, 1);
  // The same keys with other values (and layouts), for overwrites.
  std::vector<Item> again = Items(20000, 2);
  for (std::size_t i = 0; i < again.size(); ++i) {
    again[i].key = items[i].key;
    again[i].ns = items[i].ns;
  }
  std::vector<Memtable::Entry*> frozen;
  frozen.reserve(items.size());
  ThreadBytes thread;
  Memtable t;
  // What jemalloc handed out since the table was made, less what the table counts: 0 when the
  // count is true. (Nothing else allocates in between: no CHECK until it is computed.)
  auto uncounted = [&, base = std::int64_t{0}]() mutable {
    return thread.net() - static_cast<std::int64_t>(t.bytes() + t.list_bytes()) - base;
  };
  const std::int64_t base = uncounted();
  auto upsert = [&](const Item& it) {
    return t.Upsert(HashKey(it.key, it.ns), it.key, it.stored, it.raw_len, it.flags, 0, it.ns);
  };
  std::size_t mispredicted = 0;
  for (const Item& it : items) {
    Memtable::Entry* e = upsert(it);
    // What the entry was predicted to cost is what it costs.
    if (e->alloc_size() != Memtable::EntrySize(it.ns, it.key.size(), it.stored.size(), it.raw_len,
                                               (it.flags & Memtable::kCompressed) != 0)) {
      ++mispredicted;
    }
  }
  const std::int64_t after_inserts = uncounted() - base;
  CHECK(mispredicted == 0);
  CHECK(after_inserts == 0);
  // Overwrites with other sizes, a freeze (retired entries still held), erasures.
  for (std::size_t i = 0; i < again.size(); i += 2) upsert(again[i]);
  const std::int64_t after_overwrites = uncounted() - base;
  CHECK(after_overwrites == 0);
  std::vector<Memtable::Entry*> dirty = t.FreezeDirty();
  frozen.swap(dirty);  // the frozen list is the caller's now, not the table's
  for (std::size_t i = 0; i < items.size(); i += 3) {
    t.Erase(t.Find(HashKey(items[i].key, items[i].ns), items[i].key, items[i].ns));
  }
  const std::int64_t after_erasures = uncounted() - base;
  t.ReleaseRetired();
  const std::int64_t after_release = uncounted() - base;
  // Beyond the count: the frozen list's array, the table's until the freeze, now the caller's
  // (a checkpoint's, while it runs). `dirty` holds the array reserved before the count started.
  const auto frozen_array = static_cast<std::int64_t>(AllocationSize(frozen.capacity() * 8));
  CHECK(after_erasures == frozen_array);
  CHECK(after_release == frozen_array);
}

TEST_CASE("allkeys-tinylfu's own bytes are what jemalloc hands out for them") {
  const std::vector<Item> items = Items(30000, 3);
  ThreadBytes thread;
  Memtable t;
  WTinyLfu policy(&t);
  policy.SetMaxMemory(std::size_t{1} << 40);  // no eviction here: only the structures grow
  policy.Attach();
  auto counted = [&] {
    return static_cast<std::int64_t>(t.bytes() + t.list_bytes() + policy.bytes());
  };
  const std::int64_t base = thread.net() - counted();
  for (const Item& it : items) {
    Memtable::Entry* e =
        t.Upsert(HashKey(it.key, it.ns), it.key, it.stored, it.raw_len, it.flags, 0, it.ns);
    policy.Count(e->hash);
  }
  const std::int64_t uncounted = thread.net() - base - counted();
  CHECK(policy.keys() == items.size());
  CHECK(uncounted == 0);
}

}  // namespace dynakv::storage
