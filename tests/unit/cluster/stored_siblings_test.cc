// A collection's version set stored as an object whose log records are joins
// (cluster/stored_siblings.h): the codec joins as SiblingSet::Merge does, the engine logs
// O(delta) bytes per join whatever the set's size, and recovery (log replay, with and without a
// checkpoint under it) gives back the same bytes.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster/stored_siblings.h"
#include "cluster/versioned_value.h"
#include "storage/engine.h"
#include "temp_dir.h"

namespace dynakv::cluster {
namespace {

// An SADD of `member` by `node` over `set` (as cluster_collections.cc writes it): the delta
// version, also joined into `set`.
SiblingSet Add(SiblingSet& set, const std::string& node, std::int64_t ts,
               const std::string& member) {
  CollectionState seen;
  for (const Version& v : set.versions()) {
    if (v.collection) REQUIRE(CollectionState::Decode(v.value, &seen));
  }
  CollectionState delta;
  delta.set() = seen.set().Add(node + "/1", member);
  Version version = set.NewVersion(VectorClock(), node, ts);
  version.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&version));
  set.Add(version);
  SiblingSet out;
  out.Add(version);
  return out;
}

std::string Stored(storage::Engine& engine, const std::string& key) {
  const auto ref = engine.Get(key);
  REQUIRE(ref.has_value());
  REQUIRE(ref->object() != nullptr);
  return StoredBytes(*ref);
}

TEST_CASE("stored siblings: the codec's join is SiblingSet::Merge, and says what it did") {
  const StoredSiblingsCodec codec(nullptr);
  SiblingSet expected;
  std::unique_ptr<storage::ValueObject> object;
  std::int64_t result = 0;
  const SiblingSet first = Add(expected, "A", 100, "a");
  REQUIRE(codec.Apply(nullptr, JoinOp(first.Encode()), &result, &object));
  REQUIRE(object != nullptr);
  CHECK(result == (kJoinChanged | kJoinHasCollection));
  for (int i = 0; i < 50; ++i) {
    const SiblingSet delta = Add(expected, i % 2 ? "B" : "C", 200 + i, "m" + std::to_string(i));
    REQUIRE(codec.Apply(object.get(), JoinOp(delta.Encode()), &result, nullptr));
    CHECK(result == (kJoinChanged | kJoinHasCollection));
    // The same delta again changes nothing (joins are idempotent).
    REQUIRE(codec.Apply(object.get(), JoinOp(delta.Encode()), &result, nullptr));
    CHECK(result == kJoinHasCollection);
  }
  auto* stored = dynamic_cast<StoredSiblings*>(object.get());
  REQUIRE(stored != nullptr);
  CHECK(stored->encoded() == expected.Encode());
  // Serialize and Decode round-trip; garbage and other tags are refused (no next codec).
  std::string serialized;
  stored->Serialize(&serialized);
  CHECK(serialized == SerializedSiblings(expected.Encode()));
  const auto decoded = codec.Decode(serialized);
  REQUIRE(decoded != nullptr);
  CHECK(dynamic_cast<StoredSiblings*>(decoded.get())->encoded() == expected.Encode());
  CHECK(codec.Decode(SerializedSiblings("not a set")) == nullptr);
  CHECK(codec.Decode(std::string(1, '\x01') + expected.Encode()) == nullptr);
  CHECK_FALSE(codec.Apply(object.get(), JoinOp("garbage"), &result, nullptr));
  CHECK_FALSE(codec.Apply(object.get(), std::string(1, '\x01'), &result, nullptr));
  // A plain version joined over the collection that saw it replaces it: no collection left.
  SiblingSet plain;
  Version string = expected.NewVersion(expected.Context(), "A", 10'000);
  string.value = "s";
  plain.Add(string);
  REQUIRE(codec.Apply(object.get(), JoinOp(plain.Encode()), &result, nullptr));
  CHECK(result == kJoinChanged);
}

TEST_CASE("stored siblings: an engine logs each join in O(delta) bytes and replays them") {
  testing::TempDir dir("dynakv-stored-siblings");
  const StoredSiblingsCodec codec(nullptr);
  storage::Options options;
  options.dir = dir.path();
  options.fsync = storage::FsyncPolicy::kNo;
  options.object_codec = &codec;
  SiblingSet expected;
  std::vector<std::uint64_t> per_join;
  {
    std::unique_ptr<storage::Engine> engine;
    REQUIRE(storage::Engine::Open(options, &engine).ok());
    std::int64_t result = 0;
    for (int i = 0; i < 3000; ++i) {
      const SiblingSet delta = Add(expected, "A", 1000 + i, "member:" + std::to_string(i));
      const std::uint64_t before = engine->LogEnd();
      REQUIRE(engine->Mutate("k", JoinOp(delta.Encode()), &result).ok());
      per_join.push_back(engine->LogEnd() - before);
      if (i == 1500) REQUIRE(engine->Checkpoint().ok());  // half under a checkpoint
    }
    REQUIRE(engine->FlushLog().ok());
    CHECK(Stored(*engine, "k") == expected.Encode());
  }
  // The whole set is tens of kilobytes by the end; each join stays the size of its delta.
  CHECK(expected.Encode().size() > 30'000);
  CHECK(per_join.back() < 200);
  CHECK(per_join.back() <= per_join[10] + 8);
  // Reopened: the checkpoint's object, then the joins after it replayed.
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(options, &engine).ok());
  CHECK(Stored(*engine, "k") == expected.Encode());
}

}  // namespace
}  // namespace dynakv::cluster
