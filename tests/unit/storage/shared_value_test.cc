// Large values held by reference (storage/shared_value.h): a reference taken from a read keeps
// the bytes it saw whatever happens to the key afterwards (overwrite, delete, patch, eviction,
// offload, checkpoint, FLUSHALL), the memtable counts the shared bytes, and the hot-value rule
// keeps often-read compressed values decompressed within max_memory.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "memtable.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::RandomBytes;
using testing::TempDir;
using testing::TestOptions;

namespace {

// JSON-like lines with a random token each: LZ4 shrinks them 2-4x (the hot-value rule skips
// values that shrink more than 8x).
std::string TextBytes(std::size_t n, int seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::string noise = RandomBytes(n, static_cast<std::uint64_t>(seed));
  for (std::size_t i = 0; out.size() < n; ++i) {
    std::string token;
    for (int j = 0; j < 10; ++j)
      token += kHex[static_cast<unsigned char>(noise[(i * 10 + j) % n]) % 16];
    out += "{\"id\":" + std::to_string(seed + static_cast<int>(i)) + ",\"token\":\"" + token +
           "\",\"tags\":[\"a\",\"b\"]}\n";
  }
  out.resize(n);
  return out;
}

std::shared_ptr<SharedValue> Reference(const ValueRef& value) {
  REQUIRE(value.shared() != nullptr);
  return *value.shared();
}

}  // namespace

TEST_CASE(
    "memtable: values from kSharedValueMin bytes on are shared, counted and outlive the entry") {
  Memtable t;
  const std::string small = RandomBytes(kSharedValueMin - 1, 1);
  const std::string large = RandomBytes(kSharedValueMin, 2);
  for (std::uint32_t ns : {0u, 5u}) {
    for (std::string key : {"k", "a-key-of-odd-length"}) {
      CAPTURE(ns);
      CAPTURE(key);
      Memtable::Entry* s =
          t.Upsert(HashKey(key + "s", ns), key + "s", small,
                   static_cast<std::uint32_t>(small.size()), Memtable::kDirty, 0, ns);
      CHECK_FALSE(static_cast<bool>(s->shared));
      const std::size_t before = t.bytes();
      Memtable::Entry* e =
          t.Upsert(HashKey(key, ns), key, large, static_cast<std::uint32_t>(large.size()),
                   Memtable::kDirty, 0, ns);
      REQUIRE(static_cast<bool>(e->shared));
      CHECK(e->key() == key);
      CHECK(e->ns() == ns);
      CHECK(e->stored() == large);
      CHECK(e->raw_len() == large.size());
      CHECK(reinterpret_cast<std::uintptr_t>(&e->shared_value()) % 8 == 0);
      // The entry counts its bytes, header and reference.
      CHECK(t.bytes() - before == e->alloc_size());
      CHECK(e->alloc_size() >= sizeof(Memtable::Entry) + key.size() + large.size());
      std::shared_ptr<SharedValue> held = e->shared_value();
      CHECK(held.use_count() == 2);
      CHECK_FALSE(Memtable::MayChangeInPlace(*e));  // a reader holds it
      const std::string other = RandomBytes(kSharedValueMin + 100, 3);
      t.Upsert(HashKey(key, ns), key, other, static_cast<std::uint32_t>(other.size()),
               Memtable::kDirty, 0, ns);
      CHECK(held->view() == large);
      CHECK(held.use_count() == 1);
      t.Erase(t.Find(HashKey(key, ns), key, ns));
      t.Erase(t.Find(HashKey(key + "s", ns), key + "s", ns));
      CHECK(held->view() == large);
    }
  }
  CHECK(t.size() == 0);
  CHECK(t.bytes() == t.bucket_count() * sizeof(Memtable::EntryPtr));  // nothing left counted
}

TEST_CASE(
    "memtable: a compressed value is shared by its raw size, an uncompressed one by its stored "
    "size") {
  Memtable t;
  const std::string packed = RandomBytes(1000, 5);  // stands for an LZ4 block
  Memtable::Entry* big = t.Upsert(HashKey("big"), "big", packed, kSharedValueMin,
                                  Memtable::kCompressed | Memtable::kDirty, 0);
  CHECK(static_cast<bool>(big->shared));
  CHECK(big->raw_len() == kSharedValueMin);
  CHECK(big->stored() == packed);
  Memtable::Entry* small = t.Upsert(HashKey("small"), "small", packed, kSharedValueMin - 1,
                                    Memtable::kCompressed | Memtable::kDirty, 0);
  CHECK_FALSE(static_cast<bool>(small->shared));
  CHECK(small->raw_len() == kSharedValueMin - 1);
  CHECK(small->stored() == packed);
}

TEST_CASE("memtable: a compressed shared entry keeps its raw length and swaps forms in place") {
  Memtable t;
  const std::string packed = RandomBytes(kSharedValueMin + 10, 4);  // stands for an LZ4 block
  Memtable::Entry* e =
      t.Upsert(HashKey("c"), "c", packed, 100000, Memtable::kCompressed | Memtable::kDirty, 0);
  REQUIRE(static_cast<bool>(e->shared));
  CHECK(e->raw_len() == 100000);
  CHECK(e->stored() == packed);
  CHECK(t.compressed_count() == 1);
  std::shared_ptr<SharedValue> raw = SharedValue::Make(100000);
  std::fill(raw->data(), raw->data() + raw->size(), 'r');
  const std::size_t before = t.bytes();
  t.ReplaceShared(e, raw, /*compressed=*/false);
  CHECK_FALSE(e->has(Memtable::kCompressed));
  CHECK(t.compressed_count() == 0);
  CHECK(e->raw_len() == 100000);
  CHECK(e->stored() == std::string(100000, 'r'));
  CHECK(t.bytes() ==
        before + Memtable::SharedBytes(raw->size()) - Memtable::SharedBytes(packed.size()));
  CHECK(t.dirty_count() == 1);
  CHECK(t.Find(HashKey("c"), "c") == e);
}

TEST_CASE("engine: a read's reference keeps its bytes through overwrite, delete, patch, FLUSHALL") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.hot_value_reads = 0;
  auto engine = OpenEngine(o);
  const std::string v1 = RandomBytes(3 * kSharedValueMin, 7);
  const std::string text = TextBytes(4 * kSharedValueMin, 1);
  REQUIRE(engine->Put("raw", v1, 0).ok());
  REQUIRE(engine->Put("text", text, 0).ok());
  std::shared_ptr<SharedValue> raw_ref = Reference(*engine->Get("raw"));
  auto text_value = engine->Get("text");
  REQUIRE(text_value.has_value());
  CHECK(text_value->compressed());
  std::shared_ptr<SharedValue> text_ref = Reference(*text_value);
  const std::string text_stored(text_ref->view());

  SUBCASE("overwrite") {
    REQUIRE(engine->Put("raw", RandomBytes(3 * kSharedValueMin, 8), 0).ok());
    REQUIRE(engine->Put("text", TextBytes(4 * kSharedValueMin, 9), 0).ok());
  }
  SUBCASE("patch in place is refused while a reply holds the bytes") {
    REQUIRE(engine->PatchString("raw", {BytePatch{10, "patched"}}).ok());
    std::string want = v1;
    want.replace(10, 7, "patched");
    CHECK(GetString(engine.get(), "raw") == want);
  }
  SUBCASE("delete and checkpoint") {
    CHECK(engine->Delete("raw"));
    REQUIRE(engine->Checkpoint().ok());
  }
  SUBCASE("flushall") { engine->Clear(); }
  CHECK(raw_ref->view() == v1);
  CHECK(text_ref->view() == text_stored);
}

TEST_CASE("engine: a patch changes a shared value in place when no reference is held") {
  TempDir dir;
  FakeClock clock;
  auto engine = OpenEngine(TestOptions(dir.path(), &clock));
  const std::string v = RandomBytes(2 * kSharedValueMin, 11);
  REQUIRE(engine->Put("k", v, 0).ok());
  const char* before = engine->Get("k")->shared()->get()->data();
  REQUIRE(engine->PatchString("k", {BytePatch{0, "xy"}}).ok());
  auto after = engine->Get("k");
  CHECK(after->shared()->get()->data() == before);  // same bytes, changed in place
  CHECK(after->ToString() == "xy" + v.substr(2));
}

TEST_CASE("engine: references survive eviction and offload") {
  for (EvictionPolicy policy : {EvictionPolicy::kAllKeysLru, EvictionPolicy::kOffload}) {
    CAPTURE(static_cast<int>(policy));
    TempDir dir;
    FakeClock clock;
    Options o = TestOptions(dir.path(), &clock);
    o.eviction = policy;
    o.max_memory = 40 * kSharedValueMin;
    auto engine = OpenEngine(o);
    const std::string first = RandomBytes(4 * kSharedValueMin, 20);
    REQUIRE(engine->Put("first", first, 0).ok());
    std::shared_ptr<SharedValue> held = Reference(*engine->Get("first"));
    for (int i = 0; i < 40; ++i) {
      REQUIRE(
          engine->Put("k" + std::to_string(i), RandomBytes(4 * kSharedValueMin, 100 + i), 0).ok());
    }
    const EngineStats stats = engine->Stats();
    CHECK(stats.evicted_keys + stats.offloaded_keys > 0);
    CHECK(stats.memtable_bytes <= o.max_memory);
    CHECK(held->view() == first);
    if (policy == EvictionPolicy::kOffload) CHECK(GetString(engine.get(), "first") == first);
  }
}

TEST_CASE("engine: the hot-value rule keeps an often-read compressed value decompressed") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.hot_value_reads = 4;
  auto engine = OpenEngine(o);
  // 2 x kSharedValueMin: shared by its raw size though it is smaller than that compressed.
  const std::string text = TextBytes(2 * kSharedValueMin, 3);
  REQUIRE(engine->Put("hot", text, 0).ok());
  REQUIRE(engine->Put("cold", text, 0).ok());
  const std::uint64_t compressed_bytes = engine->Stats().memtable_bytes;
  std::vector<std::shared_ptr<SharedValue>> held;
  for (int i = 0; i < 3; ++i) {
    auto v = engine->Get("hot");
    CHECK(v->compressed());
    held.push_back(Reference(*v));
  }
  CHECK(engine->Stats().hot_values_decompressed == 0);
  auto v = engine->Get("hot");  // the 4th read within the second
  CHECK_FALSE(v->compressed());
  CHECK(Reference(*v)->view() == text);
  CHECK(engine->Stats().hot_values_decompressed == 1);
  CHECK(engine->Stats().compressed_values == 1);  // "cold" still is
  // The raw form is what the table counts now.
  CHECK(engine->Stats().memtable_bytes > compressed_bytes + text.size() / 2);
  for (const auto& ref : held) CHECK(ref->view() != text);  // the compressed form, still intact
  CHECK(GetString(engine.get(), "hot") == text);

  SUBCASE("reads spread over time do not make a value hot") {
    for (int i = 0; i < 20; ++i) {
      clock.now_ms += 2000;
      engine->Tick();
      CHECK(engine->Get("cold")->compressed());
    }
    CHECK(engine->Stats().hot_values_decompressed == 1);
  }
  SUBCASE("0 turns the rule off") {
    engine->SetHotValueReads(0);
    for (int i = 0; i < 20; ++i) CHECK(engine->Get("cold")->compressed());
  }
  SUBCASE("not when the raw form would pass max_memory") {
    engine->SetMaxMemory(engine->Stats().memtable_bytes + text.size() / 2);
    for (int i = 0; i < 20; ++i) CHECK(engine->Get("cold")->compressed());
    CHECK(engine->Stats().evicted_keys + engine->Stats().offloaded_keys == 0);
  }
}

TEST_CASE("engine: a value kept decompressed survives checkpoint and restart") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.hot_value_reads = 2;
  const std::string text = TextBytes(3 * kSharedValueMin, 5);
  {
    auto engine = OpenEngine(o);
    REQUIRE(engine->Put("k", text, 0).ok());
    for (int i = 0; i < 3; ++i) CHECK(GetString(engine.get(), "k") == text);
    CHECK(engine->Stats().hot_values_decompressed == 1);
    REQUIRE(engine->Checkpoint().ok());
    CHECK(GetString(engine.get(), "k") == text);
  }
  auto engine = OpenEngine(o);
  CHECK(GetString(engine.get(), "k") == text);
}

}  // namespace dynakv::storage
