// SnapshotKeyspace: a cluster command's handler sees the last-write-wins value of what was read
// and its writes are recorded (not applied) with the final state of every key it changed.

#include "snapshot_keyspace.h"

#include <doctest/doctest.h>

#include <string>

#include "types/codec.h"
#include "types/hash.h"
#include "types/ops.h"

namespace dynakv::server {
namespace {

constexpr std::int64_t kNow = 1'000'000;

// A node-local keyspace for the calls a snapshot forwards.
class CountingKeyspace final : public Keyspace {
 public:
  std::optional<storage::ValueRef> Get(std::string_view) override { return std::nullopt; }
  bool Exists(std::string_view) override { return false; }
  std::optional<std::int64_t> GetExpireAt(std::string_view) override { return std::nullopt; }
  storage::Status Put(std::string_view, std::string_view, std::int64_t) override {
    return storage::Status::Ok();
  }
  bool Delete(std::string_view) override { return false; }
  bool SetExpireAt(std::string_view, std::int64_t) override { return false; }
  std::uint64_t KeyCount() override { return 42; }
  std::uint64_t Scan(std::uint64_t, std::size_t, std::vector<std::string>* keys) override {
    keys->push_back("local");
    return 0;
  }
  std::optional<std::string> RandomKey() override { return "local"; }
  void Clear() override { ++clears; }
  int clears = 0;
};

cluster::SiblingSet Set(std::initializer_list<cluster::Version> versions) {
  cluster::SiblingSet set;
  for (const cluster::Version& version : versions) REQUIRE(set.Add(version));
  return set;
}

cluster::Version V(const std::string& origin, std::int64_t ts, const std::string& value,
                   bool tombstone = false, std::int64_t expire_at = 0) {
  cluster::Version version;
  version.origin_node = origin;
  version.dot = 1;
  version.timestamp_us = ts;
  version.value = value;
  version.tombstone = tombstone;
  version.expire_at_ms = expire_at;
  return version;
}

std::string Value(SnapshotKeyspace& keys, std::string_view key) {
  const std::optional<storage::ValueRef> value = keys.Get(key);
  REQUIRE(value);
  return value->ToString();
}

TEST_CASE("reads show the last-write-wins sibling when it is live") {
  CountingKeyspace local;
  SnapshotKeyspace keys(local, kNow);
  keys.Load("siblings", Set({V("a", 10, "old"), V("b", 20, "new")}));
  keys.Load("deleted", Set({V("a", 10, "x"), V("b", 20, "", /*tombstone=*/true)}));
  keys.Load("expired", Set({V("a", 10, "x", false, kNow - 1)}));
  keys.Load("expiring", Set({V("a", 10, "soon", false, kNow + 500)}));
  keys.Load("empty", {});

  CHECK(Value(keys, "siblings") == "new");
  CHECK(keys.Exists("siblings"));
  CHECK(keys.GetExpireAt("siblings") == 0);
  for (const char* absent : {"deleted", "expired", "empty", "never-loaded"}) {
    CAPTURE(absent);
    CHECK_FALSE(keys.Get(absent));
    CHECK_FALSE(keys.Exists(absent));
    CHECK_FALSE(keys.GetExpireAt(absent));
  }
  CHECK(keys.GetExpireAt("expiring") == kNow + 500);
  for (const auto& [key, state] : keys.keys()) CHECK_FALSE(state.changed);
}

TEST_CASE("writes are recorded with each key's final state") {
  CountingKeyspace local;
  SnapshotKeyspace keys(local, kNow);
  keys.Load("a", Set({V("n", 1, "1")}));
  keys.Load("b", Set({V("n", 1, "2")}));
  keys.Load("c", Set({V("n", 1, "3")}));
  keys.Load("d", Set({V("n", 1, "4")}));

  CHECK(keys.Put("a", "10", 0).ok());
  CHECK(Value(keys, "a") == "10");
  CHECK(keys.Delete("b"));
  CHECK_FALSE(keys.Delete("b"));
  CHECK_FALSE(keys.Delete("missing"));
  CHECK(keys.SetExpireAt("c", kNow + 100));
  CHECK(keys.SetExpireAt("d", kNow - 1));  // a past time deletes, as in the engine
  CHECK_FALSE(keys.Exists("d"));
  CHECK_FALSE(keys.SetExpireAt("missing", kNow + 100));
  CHECK(keys.Put("new", "v", kNow + 5).ok());

  const auto& states = keys.keys();
  CHECK(states.at("a").changed);
  CHECK(states.at("a").exists);
  CHECK(states.at("a").value == "10");
  CHECK(states.at("b").changed);
  CHECK_FALSE(states.at("b").exists);
  CHECK(states.at("c").expire_at_ms == kNow + 100);
  CHECK(states.at("c").value == "3");
  CHECK_FALSE(states.at("d").exists);
  CHECK(states.at("new").expire_at_ms == kNow + 5);
  CHECK_FALSE(states.contains("missing"));
}

TEST_CASE("node-local operations go to this node's replica") {
  CountingKeyspace local;
  SnapshotKeyspace keys(local, kNow);
  CHECK(keys.KeyCount() == 42);
  std::vector<std::string> scanned;
  CHECK(keys.Scan(0, 10, &scanned) == 0);
  CHECK(scanned == std::vector<std::string>{"local"});
  CHECK(keys.RandomKey() == "local");
  keys.Clear();
  CHECK(local.clears == 1);
}

TEST_CASE("typed versions: a hash is decoded, changed by element operations and written whole") {
  types::TypesCodec codec;
  CountingKeyspace local;
  SnapshotKeyspace keys(local, kNow, &codec);
  types::Hash hash;
  hash.Set("a", "1", codec.limits());
  cluster::Version typed = V("n1", 10, "");
  typed.typed = true;
  hash.Serialize(&typed.value);
  keys.Load("h", Set({typed}));
  keys.Load("s", Set({V("n1", 10, "text")}));

  std::optional<storage::ValueRef> value = keys.Get("h");
  REQUIRE(value);
  REQUIRE(value->object() != nullptr);
  CHECK(dynamic_cast<const types::Hash&>(*value->object()).Get("a") == "1");
  CHECK(keys.Get("s")->object() == nullptr);

  std::int64_t added = 0;
  types::OpBuilder set(types::OpCode::kHashSet, 2);
  set.Add("b").Add("2");
  REQUIRE(keys.Mutate("h", set.op(), &added).ok());
  CHECK(added == 1);
  CHECK(keys.keys().at("h").changed);
  CHECK(dynamic_cast<const types::Hash&>(*keys.Get("h")->object()).size() == 2);
  // A string refuses element operations; a missing key is created.
  CHECK(keys.Mutate("s", set.op(), &added).code() == storage::Status::Code::kInvalidArgument);
  CHECK_FALSE(keys.keys().at("s").changed);
  REQUIRE(keys.Mutate("new", set.op(), &added).ok());
  CHECK(keys.Get("new")->object() != nullptr);
  // Emptied: deleted, as Redis never keeps an empty hash.
  types::OpBuilder del(types::OpCode::kHashDel, 1);
  del.Add("b");
  REQUIRE(keys.Mutate("new", del.op(), &added).ok());
  CHECK_FALSE(keys.Exists("new"));
  CHECK(keys.keys().at("new").changed);
  // Without a codec a typed version reads as absent, never as its serialized bytes.
  SnapshotKeyspace blind(local, kNow);
  blind.Load("h", Set({typed}));
  CHECK_FALSE(blind.Get("h"));
  CHECK(blind.Mutate("h", set.op(), &added).code() == storage::Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace dynakv::server
