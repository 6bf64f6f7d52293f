#include "memtable.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "storage/engine.h"

namespace dynakv::storage {

namespace {

Memtable::Entry* Put(Memtable* t, const std::string& key, const std::string& value,
                     std::int64_t expire = 0, std::uint8_t flags = Memtable::kDirty) {
  return t->Upsert(HashKey(key), key, value, static_cast<std::uint32_t>(value.size()), flags,
                   expire);
}

Memtable::Entry* Find(const Memtable& t, const std::string& key) {
  return t.Find(HashKey(key), key);
}

}  // namespace

TEST_CASE("memtable: insert, replace, find, erase, grow and shrink") {
  Memtable t;
  const std::size_t empty_bytes = t.bytes();
  for (int i = 0; i < 5000; ++i) Put(&t, "key" + std::to_string(i), "value" + std::to_string(i));
  CHECK(t.size() == 5000);
  CHECK(t.bucket_count() >= 5000);  // grew at load factor 1
  for (int i = 0; i < 5000; ++i) {
    Memtable::Entry* e = Find(t, "key" + std::to_string(i));
    REQUIRE(e != nullptr);
    CHECK(e->stored() == "value" + std::to_string(i));
  }
  CHECK(Find(t, "nope") == nullptr);

  Put(&t, "key7", "a much longer replacement value");
  CHECK(t.size() == 5000);
  CHECK(Find(t, "key7")->stored() == "a much longer replacement value");

  for (int i = 0; i < 5000; ++i) t.Erase(Find(t, "key" + std::to_string(i)));
  CHECK(t.size() == 0);
  CHECK(t.bucket_count() <= 32);  // shrank back
  CHECK(t.bytes() <= empty_bytes * 2);
}

TEST_CASE("memtable: byte and flag accounting follow every change") {
  Memtable t;
  const std::size_t base = t.bytes();
  Memtable::Entry* e = Put(&t, "k", "0123456789", 0, Memtable::kDirty | Memtable::kCompressed);
  // A compressed value's raw length is 4 bytes in front of its stored bytes.
  CHECK(t.bytes() ==
        base + AllocationSize(sizeof(Memtable::Entry) + 1 + sizeof(std::uint32_t) + 10));
  CHECK(t.dirty_count() == 1);
  CHECK(t.compressed_count() == 1);
  t.SetExpire(e, 123);
  CHECK(t.expiring_count() == 1);
  t.SetFlag(e, Memtable::kDirty, false);
  CHECK(t.dirty_count() == 0);
  e = Put(&t, "k", "", 0, Memtable::kTombstone | Memtable::kDirty);
  CHECK(t.tombstone_count() == 1);
  CHECK(t.expiring_count() == 0);
  CHECK(t.compressed_count() == 0);
  CHECK(t.bytes() == base + AllocationSize(sizeof(Memtable::Entry) + 1));
  t.Clear();
  CHECK(t.size() == 0);
  CHECK(t.bytes() == base);
}

TEST_CASE("memtable: LRU sampling picks old entries") {
  Memtable t;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) Put(&t, "k" + std::to_string(i), "v");
  // Touch the second half so the first half is older.
  for (int i = 1000; i < 2000; ++i) t.Touch(Find(t, "k" + std::to_string(i)));
  int old_victims = 0;
  for (int round = 0; round < 500; ++round) {
    Memtable::Entry* victim = t.SampleLru(rng, [](const Memtable::Entry&) { return true; });
    REQUIRE(victim != nullptr);
    if (std::stoi(std::string(victim->key().substr(1))) < 1000) ++old_victims;
    t.Erase(victim);
  }
  CHECK(old_victims >= 480);
  // The filter is honoured.
  Memtable::Entry* none = t.SampleLru(rng, [](const Memtable::Entry&) { return false; });
  CHECK(none == nullptr);
}

TEST_CASE("memtable: bucket scan visits every key once, in hash order across calls") {
  Memtable t;
  std::set<std::string> all;
  for (int i = 0; i < 3000; ++i) {
    all.insert("s" + std::to_string(i));
    Put(&t, "s" + std::to_string(i), "v");
  }
  std::multiset<std::string> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  for (;;) {
    ++calls;
    std::uint64_t max_hash = 0;
    const std::uint64_t last = t.ScanBuckets(cursor, 100, 1000, [&](const Memtable::Entry& e) {
      CHECK(e.hash >= cursor);
      max_hash = std::max(max_hash, e.hash);
      seen.emplace(e.key());
    });
    CHECK(max_hash <= last);
    if (last == UINT64_MAX) break;
    cursor = last + 1;
    REQUIRE(calls < 1000);
  }
  CHECK(calls > 10);
  CHECK(seen.size() == all.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == all);
}

TEST_CASE("memtable: expiry sweep finds expired keys incrementally") {
  Memtable t;
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t expire = i % 2 == 0 ? 100 : (i % 3 == 0 ? 1000 : 0);
    Put(&t, "e" + std::to_string(i), "v", expire);
  }
  std::set<std::string> expired;
  std::size_t with_ttl_total = 0;
  std::vector<std::string> batch;
  // 1000 entries, 50 per step: a full round takes at least 20 steps.
  for (int step = 0; step < 20; ++step) {
    batch.clear();
    with_ttl_total += t.SweepExpired(500, 50, &batch);
    expired.insert(batch.begin(), batch.end());
  }
  CHECK(expired.size() == 500);
  for (const std::string& k : expired) CHECK(std::stoi(k.substr(1)) % 2 == 0);
  CHECK(with_ttl_total >= 500 + 166);
}

TEST_CASE("memtable: freezing hands out the dirty entries, whose bytes outlive replacement") {
  Memtable t;
  const std::size_t base = t.bytes();
  for (int i = 0; i < 100; ++i) Put(&t, "d" + std::to_string(i), std::string(50, 'd'));
  for (int i = 0; i < 50; ++i) Put(&t, "c" + std::to_string(i), "clean", 0, Memtable::kOnDisk);
  // The dirty list follows flag changes, replacements and erasures.
  t.SetFlag(Find(t, "d0"), Memtable::kDirty, false);
  t.SetFlag(Find(t, "c0"), Memtable::kDirty, true);
  t.Erase(Find(t, "d1"));
  Put(&t, "d2", "replaced");
  t.SetExpire(Find(t, "d3"), 99);
  CHECK(t.dirty_count() == 99);

  std::vector<Memtable::Entry*> frozen = t.FreezeDirty();
  REQUIRE(frozen.size() == 99);
  CHECK(t.dirty_count() == 0);
  CHECK(t.dirty_bytes() == 0);
  CHECK(t.frozen_count() == 99);
  std::set<std::string> keys;
  for (Memtable::Entry* e : frozen) {
    CHECK(e->has(Memtable::kFrozen));
    CHECK_FALSE(e->has(Memtable::kDirty));
    keys.insert(std::string(e->key()));
  }
  CHECK(keys.size() == 99);
  CHECK(keys.count("c0") == 1);
  CHECK(keys.count("d0") == 0);
  CHECK(keys.count("d1") == 0);

  // Replacing and erasing frozen entries unlinks them but keeps their bytes, still counted.
  Memtable::Entry* old4 = Find(t, "d4");
  Memtable::Entry* old5 = Find(t, "d5");
  const std::size_t before = t.bytes();
  Put(&t, "d4", "new");
  t.Erase(old5);
  CHECK(old4->has(Memtable::kRetired));
  CHECK(old5->has(Memtable::kRetired));
  CHECK(old4->stored() == std::string(50, 'd'));
  CHECK(old5->key() == "d5");
  CHECK(Find(t, "d4")->stored() == "new");
  CHECK(Find(t, "d5") == nullptr);
  CHECK(t.bytes() == before + AllocationSize(sizeof(Memtable::Entry) + 2 + 3));
  CHECK(t.dirty_count() == 1);  // the new d4
  CHECK(t.frozen_count() == 97);

  // Growing the table moves frozen entries between buckets, not in memory.
  for (int i = 0; i < 2000; ++i) Put(&t, "g" + std::to_string(i), "g");
  CHECK(Find(t, "d6")->stored() == std::string(50, 'd'));

  const std::size_t held = t.bytes();
  t.ReleaseRetired();
  CHECK(t.bytes() == held - 2 * AllocationSize(sizeof(Memtable::Entry) + 2 + 50));
  for (Memtable::Entry* e : frozen) {
    if (e == old4 || e == old5) continue;
    t.SetFlag(e, Memtable::kFrozen, false);
  }
  CHECK(t.frozen_count() == 0);
  t.Clear();
  CHECK(t.bytes() == base);
}

TEST_CASE("memtable: Clear keeps frozen entries alive until they are released") {
  Memtable t;
  const std::size_t base = t.bytes();
  Put(&t, "a", "frozen value");
  Put(&t, "b", "clean", 0, 0);
  std::vector<Memtable::Entry*> frozen = t.FreezeDirty();
  REQUIRE(frozen.size() == 1);
  t.Clear();
  CHECK(t.size() == 0);
  CHECK(frozen[0]->has(Memtable::kRetired));
  CHECK(frozen[0]->stored() == "frozen value");
  CHECK(t.bytes() == base + AllocationSize(sizeof(Memtable::Entry) + 1 + 12));
  t.ReleaseRetired();
  CHECK(t.bytes() == base);
}

}  // namespace dynakv::storage

namespace dynakv::storage {

TEST_CASE("the same key in several namespaces is several entries; namespace 0's are as before") {
  Memtable t;
  const std::string key = "shared";
  Memtable::Entry* zero = t.Upsert(HashKey(key, 0), key, "v0", 2, Memtable::kDirty, 0, 0);
  CHECK(zero->alloc_size() == AllocationSize(sizeof(Memtable::Entry) + key.size() + 2));
  CHECK_FALSE(zero->has(Memtable::kNamespaced));
  for (std::uint32_t ns : {1u, 7u, (1u << 20) + 3, Memtable::kMaxNamespace}) {
    CAPTURE(ns);
    Memtable::Entry* e =
        t.Upsert(HashKey(key, ns), key, "v" + std::to_string(ns), 0, Memtable::kDirty, 5, ns);
    CHECK(e->ns() == ns);
    CHECK(e->key() == key);
    CHECK(e->stored() == "v" + std::to_string(ns));
    CHECK(e->alloc_size() == AllocationSize(sizeof(Memtable::Entry) + sizeof(std::uint32_t) +
                                            key.size() + e->stored_len));
  }
  CHECK(t.size() == 5);
  for (std::uint32_t ns : {0u, 1u, 7u, (1u << 20) + 3, Memtable::kMaxNamespace}) {
    const Memtable::Entry* e = t.Find(HashKey(key, ns), key, ns);
    REQUIRE(e != nullptr);
    CHECK(e->ns() == ns);
    CHECK(e->stored() == (ns == 0 ? std::string("v0") : "v" + std::to_string(ns)));
    // Same hash, other namespace: not this entry.
    CHECK(t.Find(HashKey(key, ns), key, ns + 1) == nullptr);
  }
  std::vector<std::string> expired;
  std::vector<std::uint32_t> expired_ns;
  for (int i = 0; i < 4; ++i) t.SweepExpired(10, 100, &expired, &expired_ns);
  CHECK(expired.size() == expired_ns.size());
  CHECK(std::set<std::uint32_t>(expired_ns.begin(), expired_ns.end()) ==
        std::set<std::uint32_t>{1u, 7u, (1u << 20) + 3, Memtable::kMaxNamespace});
  t.EraseNamespace(7);
  CHECK(t.size() == 4);
  CHECK(t.Find(HashKey(key, 7), key, 7) == nullptr);
  CHECK(t.Find(HashKey(key, 0), key, 0) != nullptr);
  std::set<std::string> seen;
  t.ScanBuckets(0, 100, 1000, [&](const Memtable::Entry& e) { seen.insert(std::string(e.stored())); },
                1);
  CHECK(seen == std::set<std::string>{"v1"});
}

}  // namespace dynakv::storage

namespace dynakv::storage {

namespace {

// An object whose memory the test sets.
class SizedObject final : public ValueObject {
 public:
  explicit SizedObject(std::size_t bytes) : bytes_(bytes) {}
  std::size_t MemoryUsage() const override { return bytes_; }
  void Serialize(std::string* out) const override { out->assign(bytes_, 'x'); }
  bool Empty() const override { return bytes_ == 0; }
  void set_bytes(std::size_t bytes) { bytes_ = bytes; }

 private:
  std::size_t bytes_;
};

}  // namespace

TEST_CASE("memtable: a key's own cost: a 44-byte header, the key, and 8 bytes for an object") {
  // What every key pays besides its value (issue 11's small hashes: a 12-byte key and a typed
  // value make a 64-byte entry, a jemalloc size class, where a 48-byte header and a 16-byte
  // object slot took the 80-byte class).
  static_assert(sizeof(void*) == 8, "the sizes below are a 64-bit build's");
  CHECK(sizeof(Memtable::Entry) == 44);
  Memtable t;
  const std::string key = "hash:0000000";
  REQUIRE(key.size() == 12);
  auto owned = std::make_unique<SizedObject>(240);
  Memtable::Entry* e = t.UpsertObject(HashKey(key), key, std::move(owned), Memtable::kDirty, 0);
  CHECK(e->alloc_size() == sizeof(Memtable::Entry) + 12 + sizeof(void*) + 240);
  CHECK(e->alloc_size() - 240 == 64);
  CHECK(e->key() == key);
  CHECK(e->raw_len() == 0);
  // In another namespace the key carries its 4 bytes.
  Memtable::Entry* other = t.UpsertObject(HashKey(key, 3), key, std::make_unique<SizedObject>(240),
                                          Memtable::kDirty, 0, 3);
  CHECK(other->alloc_size() ==
        AllocationSize(sizeof(Memtable::Entry) + 4 + 12 + sizeof(void*)) + 240);
  CHECK(other->alloc_size() == e->alloc_size() + 16);  // the 80-byte class
  CHECK(other->ns() == 3);
  CHECK(other->key() == key);
  // A plain string's raw length is its stored length: nothing kept for it.
  Memtable::Entry* s = Put(&t, "str", "twelve bytes");
  CHECK(s->raw_len() == 12);
  CHECK(s->alloc_size() == AllocationSize(sizeof(Memtable::Entry) + 3 + 12));
  CHECK(s->alloc_size() == 64);  // 59 bytes asked for
}

TEST_CASE("memtable: a compressed value keeps its raw length in front of its stored bytes") {
  Memtable t;
  const std::size_t base = t.bytes();
  for (std::uint32_t ns : {0u, 9u}) {
    CAPTURE(ns);
    const std::string key = "packed";
    Memtable::Entry* e = t.Upsert(HashKey(key, ns), key, "lz4-bytes", 1u << 20,
                                  Memtable::kDirty | Memtable::kCompressed, 0, ns);
    CHECK(e->raw_len() == (1u << 20));
    CHECK(e->stored() == "lz4-bytes");
    CHECK(e->key() == key);
    CHECK(e->ns() == ns);
    // The flags that decide the layout cannot be flipped afterwards.
    t.SetFlag(e, Memtable::kCompressed, false);
    t.SetFlags(e, Memtable::kObject | Memtable::kNamespaced, 0);
    CHECK(e->has(Memtable::kCompressed));
    CHECK_FALSE(e->has(Memtable::kObject));
    CHECK(e->has(Memtable::kNamespaced) == (ns != 0));
    CHECK(e->raw_len() == (1u << 20));
    CHECK(e->stored() == "lz4-bytes");
  }
  CHECK(t.compressed_count() == 2);
  t.Clear();
  CHECK(t.bytes() == base);
}

TEST_CASE("memtable: an object's memory is counted as it changes, and uncounted exactly") {
  Memtable t;
  const std::size_t base = t.bytes();
  auto owned = std::make_unique<SizedObject>(100);
  SizedObject* object = owned.get();
  Memtable::Entry* e = t.UpsertObject(HashKey("obj"), "obj", std::move(owned), Memtable::kDirty, 0);
  const std::size_t with_100 = t.bytes();
  CHECK(with_100 == base + AllocationSize(sizeof(Memtable::Entry) + 3 + sizeof(void*)) + 100);
  CHECK(t.dirty_bytes() == with_100 - base);
  object->set_bytes(5000);
  t.ObjectChanged(e, 100);
  CHECK(t.bytes() == with_100 + 4900);
  CHECK(t.dirty_bytes() == with_100 - base + 4900);
  t.SetFlag(e, Memtable::kDirty, false);  // accounted out and in again at its new size
  CHECK(t.dirty_bytes() == 0);
  object->set_bytes(40);
  t.ObjectChanged(e, 5000);
  CHECK(t.bytes() == with_100 - 60);
  t.SetExpire(e, 77);
  t.Touch(e);
  // Frozen, then replaced: retired at its size then, and released to nothing.
  t.SetFlag(e, Memtable::kFrozen, true);
  Put(&t, "obj", "v");
  CHECK(t.bytes() == base + (AllocationSize(sizeof(Memtable::Entry) + 3 + sizeof(void*)) + 40) +
                         AllocationSize(sizeof(Memtable::Entry) + 3 + 1));
  t.ReleaseRetired();
  t.Erase(Find(t, "obj"));
  CHECK(t.size() == 0);
  CHECK(t.bytes() == base);
  CHECK(t.dirty_bytes() == 0);
}

}  // namespace dynakv::storage
