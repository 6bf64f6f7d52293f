// Sorted sets and HyperLogLogs as convergent collections (cluster_zsets.h): a command's effect,
// as SnapshotKeyspace records it on a replica's copy, made into a delta by MakeCollectionVersion
// and joined into the other replicas' copies. Two replicas write concurrently and exchange their
// deltas: both end with the same bytes and with what the guarantees say (README: cluster mode,
// sorted sets and HyperLogLogs).
#include "cluster_zsets.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster_collections.h"
#include "crdt/hyperloglog.h"
#include "snapshot_keyspace.h"
#include "types/codec.h"
#include "types/ops.h"
#include "types/sorted_set.h"

namespace dynakv::server {
namespace {

constexpr std::int64_t kNow = 1'000'000;

class NoLocalKeys final : public Keyspace {
 public:
  std::optional<storage::ValueRef> Get(std::string_view) override { return std::nullopt; }
  bool Exists(std::string_view) override { return false; }
  std::optional<std::int64_t> GetExpireAt(std::string_view) override { return std::nullopt; }
  storage::Status Put(std::string_view, std::string_view, std::int64_t) override {
    return storage::Status::Ok();
  }
  bool Delete(std::string_view) override { return false; }
  bool SetExpireAt(std::string_view, std::int64_t) override { return false; }
  std::uint64_t KeyCount() override { return 0; }
  std::uint64_t Scan(std::uint64_t, std::size_t, std::vector<std::string>*) override { return 0; }
  std::optional<std::string> RandomKey() override { return std::nullopt; }
  void Clear() override {}
};

struct Replica {
  std::string node;
  std::string actor;
  cluster::SiblingSet set;
};

// Runs `command` over the replica's copy of `key` and stores the delta it makes there, as
// ClusterCollections::Apply does; returns the delta. False from MakeCollectionVersion fails.
cluster::Version Write(Replica& r, const std::string& key, std::int64_t ts,
                       const std::function<void(SnapshotKeyspace&)>& command,
                       const ScoreIncrement* increment = nullptr) {
  types::TypesCodec codec;
  NoLocalKeys local;
  SnapshotKeyspace keys(local, kNow, &codec);
  keys.Load(key, r.set);
  command(keys);
  const SnapshotKeyspace::KeyState& state = keys.keys().at(key);
  REQUIRE(state.changed);
  cluster::Version version = r.set.NewVersion(cluster::VectorClock(), r.node, ts);
  REQUIRE(MakeCollectionVersion(r.set, state, r.actor, kNow, &version, nullptr, increment));
  r.set.Add(version);
  return version;
}

void Deliver(Replica& to, const cluster::Version& delta) {
  cluster::SiblingSet one;
  one.Add(delta);
  to.set.Merge(one);
}

void ZAdd(SnapshotKeyspace& keys, std::string_view member, double score) {
  types::OpBuilder op(types::OpCode::kZsetAdd, 2);
  op.Add(types::EncodeScoreArg(score)).Add(member);
  std::int64_t result = 0;
  REQUIRE(keys.Mutate("z", op.op(), &result).ok());
}

void ZRem(SnapshotKeyspace& keys, std::string_view member) {
  types::OpBuilder op(types::OpCode::kZsetRem, 1);
  op.Add(member);
  std::int64_t result = 0;
  REQUIRE(keys.Mutate("z", op.op(), &result).ok());
}

// ZINCRBY as the handler runs it: the member's score read, the result written.
std::function<void(SnapshotKeyspace&)> ZIncr(std::string member, double by) {
  return [member, by](SnapshotKeyspace& keys) {
    double current = 0;
    if (auto value = keys.Get("z")) {
      const auto& zset = dynamic_cast<const types::SortedSet&>(*value->object());
      current = zset.Score(member).value_or(0);
    }
    ZAdd(keys, member, current + by);
  };
}

cluster::CollectionState StateOf(const Replica& r) {
  for (const cluster::Version& v : r.set.versions()) {
    cluster::CollectionState state;
    if (v.collection && cluster::CollectionState::Decode(v.value, &state)) return state;
  }
  FAIL("no collection");
  return {};
}

TEST_CASE("cluster zsets: ZINCRBYs through two replicas all count, a new key's first ones too") {
  Replica a{"n1", "n1/a", {}};
  Replica b{"n2", "n2/b", {}};
  // Both create the key by ZINCRBY of one member, neither having seen the other's.
  ScoreIncrement two{"m", 2};
  ScoreIncrement three{"m", 3};
  const cluster::Version da = Write(a, "z", 100, ZIncr("m", 2), &two);
  const cluster::Version db = Write(b, "z", 110, ZIncr("m", 3), &three);
  Deliver(a, db);
  Deliver(b, da);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(StateOf(a).zset().Score("m") == 5.0);
  // Then concurrent increments over the merged member, and a ZADD of another member.
  ScoreIncrement ten{"m", 10};
  ScoreIncrement one{"m", 1};
  const cluster::Version d1 = Write(a, "z", 200, ZIncr("m", 10), &ten);
  const cluster::Version d2 = Write(b, "z", 210, ZIncr("m", 1), &one);
  const cluster::Version d3 = Write(b, "z", 220, [](SnapshotKeyspace& k) { ZAdd(k, "x", 7); });
  Deliver(a, d2);
  Deliver(a, d3);
  Deliver(b, d1);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(StateOf(a).zset().Score("m") == 16.0);
  CHECK(StateOf(a).zset().Score("x") == 7.0);
  // Without the increment (a transaction's ZINCRBY through the coordinator) the result is
  // assigned: last-write-wins on the member's score.
  const cluster::Version d4 = Write(a, "z", 300, ZIncr("m", 1));
  Deliver(b, d4);
  CHECK(StateOf(b).zset().Score("m") == 17.0);
}

TEST_CASE("cluster zsets: ZREM takes what it saw; a store replaces what it saw; DEL is causal") {
  Replica a{"n1", "n1/a", {}};
  Replica b{"n2", "n2/b", {}};
  const cluster::Version first = Write(a, "z", 100, [](SnapshotKeyspace& k) {
    ZAdd(k, "a", 1);
    ZAdd(k, "b", 2);
  });
  Deliver(b, first);
  // b removes a; a re-adds it concurrently with a new score.
  const cluster::Version rem = Write(b, "z", 200, [](SnapshotKeyspace& k) { ZRem(k, "a"); });
  const cluster::Version readd = Write(a, "z", 210, [](SnapshotKeyspace& k) { ZAdd(k, "a", 9); });
  // b stores a new set over the key (ZUNIONSTORE's PutObject): it saw b only.
  const cluster::Version store = Write(b, "z", 220, [](SnapshotKeyspace& k) {
    REQUIRE(k.PutObject("z", types::SortedSet::SerializeEntries({{"c", 3}}), 0).ok());
  });
  for (const cluster::Version& d : {rem, store}) Deliver(a, d);
  Deliver(b, readd);
  CHECK(a.set.Encode() == b.set.Encode());
  const cluster::CollectionState merged = StateOf(a);
  CHECK(merged.zset().Range() == std::vector<std::pair<std::string, double>>{{"c", 3}, {"a", 9}});
  // DEL through a: removes what a saw; a concurrent ZADD through b survives and is the set.
  const cluster::Version del = Write(a, "z", 300, [](SnapshotKeyspace& k) { k.Delete("z"); });
  const cluster::Version add = Write(b, "z", 310, [](SnapshotKeyspace& k) { ZAdd(k, "d", 4); });
  Deliver(a, add);
  Deliver(b, del);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(StateOf(a).zset().Range() == std::vector<std::pair<std::string, double>>{{"d", 4}});
  // Read back as a Redis sorted set.
  const cluster::Version& version = a.set.versions()[0];
  REQUIRE(IsTypedVersion(version));
  types::TypesCodec codec;
  auto object = codec.Decode(TypedValue(version));
  REQUIRE(object != nullptr);
  CHECK(dynamic_cast<const types::SortedSet&>(*object).Score("d") == 4.0);
}

std::string Hll(const std::vector<std::string>& elements) {
  std::string bytes = crdt::hll::NewSparse();
  for (const std::string& e : elements) crdt::hll::Add(&bytes, e, 3000);
  crdt::hll::InvalidateCache(&bytes);
  return bytes;
}

// PFADD as the handler runs it: the value read, raised, written back as a string.
std::function<void(SnapshotKeyspace&)> PfAdd(std::vector<std::string> elements) {
  return [elements](SnapshotKeyspace& keys) {
    std::string bytes = crdt::hll::NewSparse();
    if (auto value = keys.Get("h")) bytes = value->ToString();
    for (const std::string& e : elements) crdt::hll::Add(&bytes, e, 3000);
    crdt::hll::InvalidateCache(&bytes);
    REQUIRE(keys.Put("h", bytes, 0).ok());
  };
}

std::uint64_t Count(const Replica& r) {
  const cluster::Version* winner = r.set.Resolve();
  REQUIRE(winner != nullptr);
  if (!winner->IsLive(kNow)) return 0;
  CHECK_FALSE(IsTypedVersion(*winner));  // an HLL reads as a string
  bool invalid = false;
  const std::uint64_t n = crdt::hll::Count(PlainValue(*winner), &invalid);
  CHECK_FALSE(invalid);
  return n;
}

TEST_CASE("cluster HLLs: PFADDs through two replicas are a register-wise max; DEL wins") {
  Replica a{"n1", "n1/a", {}};
  Replica b{"n2", "n2/b", {}};
  const cluster::Version da = Write(a, "h", 100, PfAdd({"x", "y"}));
  const cluster::Version db = Write(b, "h", 110, PfAdd({"z"}));
  CHECK(da.collection);
  Deliver(a, db);
  Deliver(b, da);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(Count(a) == 3);
  CHECK(PlainValue(*a.set.Resolve()).substr(16) == Hll({"x", "y", "z"}).substr(16));
  // A PFMERGE-like raise and a concurrent DEL: the delete wins on both.
  const cluster::Version more = Write(a, "h", 200, PfAdd({"w"}));
  const cluster::Version del = Write(b, "h", 210, [](SnapshotKeyspace& k) { k.Delete("h"); });
  CHECK(del.tombstone);
  Deliver(a, del);
  Deliver(b, more);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(Count(a) == 0);
  // Adds after the delete through both replicas both count.
  const cluster::Version after_a = Write(a, "h", 300, PfAdd({"p"}));
  const cluster::Version after_b = Write(b, "h", 310, PfAdd({"q"}));
  Deliver(a, after_b);
  Deliver(b, after_a);
  CHECK(a.set.Encode() == b.set.Encode());
  CHECK(Count(a) == 2);
}

TEST_CASE("cluster HLLs: a replacing SET is a new epoch; other strings stay whole values") {
  Replica a{"n1", "n1/a", {}};
  Write(a, "h", 100, PfAdd({"1", "2", "3"}));
  // SET of other HLL bytes (fewer registers): replaces, as in Redis.
  const std::string other = Hll({"9"});
  Write(a, "h", 200, [&](SnapshotKeyspace& k) { REQUIRE(k.Put("h", other, 0).ok()); });
  CHECK(Count(a) == 1);
  // A string that is no HLL is not a collection write.
  types::TypesCodec codec;
  NoLocalKeys local;
  SnapshotKeyspace keys(local, kNow, &codec);
  keys.Load("h", a.set);
  REQUIRE(keys.Put("h", "HYLL but not really", 0).ok());
  cluster::Version version = a.set.NewVersion(cluster::VectorClock(), "n1", 300);
  CHECK_FALSE(IsHllWrite(a.set, keys.keys().at("h")));
  CHECK_FALSE(MakeCollectionVersion(a.set, keys.keys().at("h"), "n1/a", kNow, &version));
}

}  // namespace
}  // namespace dynakv::server
