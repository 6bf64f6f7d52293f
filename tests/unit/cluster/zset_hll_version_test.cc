// Sorted-set and HyperLogLog collection versions (collection_state.h kinds 'Z' and 'P') inside
// SiblingSet: deltas of three replicas joined in any order, duplicated or not, to the same bytes;
// concurrent ZINCRBYs summed; an HLL's registers a max, its delete a tombstone; collections of
// different kinds kept as siblings, never joined.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster/versioned_value.h"

namespace dynakv::cluster {
namespace {

using Kind = CollectionState::Kind;

CollectionState StateOf(const SiblingSet& set, Kind kind) {
  CollectionState state(kind);
  for (const Version& v : set.versions()) {
    CollectionState decoded;
    if (v.collection && CollectionState::Decode(v.value, &decoded) && decoded.kind() == kind) {
      return decoded;
    }
  }
  return state;
}

Version Ship(SiblingSet& set, const std::string& node, std::int64_t ts,
             const CollectionState& delta) {
  Version version = set.NewVersion(VectorClock(), node, ts);
  version.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&version));
  set.Add(version);
  return version;
}

// A replica's ZADD, ZINCRBY or ZREM of `member` by its own actor, as the server does it.
enum class ZOp { kAdd, kIncr, kRem };
Version ZWrite(SiblingSet& set, const std::string& node, std::int64_t ts, ZOp op,
               const std::string& member, double score) {
  CollectionState seen = StateOf(set, Kind::kZset);
  CollectionState delta(Kind::kZset);
  const std::string actor = node + "/1";
  switch (op) {
    case ZOp::kAdd:
      delta.zset() = seen.zset().Add(actor, member, ts, score);
      break;
    case ZOp::kIncr: {
      double result = 0;
      REQUIRE(seen.zset().IncrBy(actor, member, score, &result, &delta.zset()));
      break;
    }
    case ZOp::kRem:
      delta.zset() = seen.zset().Remove(member);
      break;
  }
  return Ship(set, node, ts, delta);
}

TEST_CASE("zset versions: deltas of three replicas join in any order; increments all count") {
  std::mt19937_64 rng(17);
  for (int round = 0; round < 30; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::vector<Version> deltas;
    std::int64_t ts = 1000;
    int increments = 0;
    for (int step = 0; step < 80; ++step) {
      const std::size_t r = rng() % 3;
      if (rng() % 6 == 0) {
        replicas[rng() % 3].Merge(replicas[r]);
        continue;
      }
      const std::string node = "n" + std::to_string(r);
      const int pick = static_cast<int>(rng() % 6);
      if (pick < 3) {  // ZINCRBY of the counted member: never removed, never assigned
        deltas.push_back(ZWrite(replicas[r], node, ts += 10, ZOp::kIncr, "counted", 1));
        ++increments;
      } else {
        const std::string member = "m" + std::to_string(rng() % 6);
        deltas.push_back(ZWrite(replicas[r], node, ts += 10, pick == 3 ? ZOp::kAdd : ZOp::kRem,
                                member, static_cast<double>(rng() % 100)));
      }
      if (rng() % 2 == 0) {
        SiblingSet one;
        one.Add(deltas.back());
        replicas[rng() % 3].Merge(one);
      }
    }
    SiblingSet reference;
    for (const Version& d : deltas) reference.Add(d);
    for (SiblingSet& replica : replicas) {
      std::vector<Version> order = deltas;
      order.insert(order.end(), deltas.begin(), deltas.begin() + deltas.size() / 2);
      std::shuffle(order.begin(), order.end(), rng);
      for (const Version& d : order) replica.Add(d);
      CHECK(replica.size() == 1);
      REQUIRE(replica.Encode() == reference.Encode());
      SiblingSet decoded;
      REQUIRE(SiblingSet::Decode(replica.Encode(), &decoded));
      CHECK(decoded.Encode() == replica.Encode());
    }
    const CollectionState merged = StateOf(reference, Kind::kZset);
    if (increments > 0) CHECK(merged.zset().Score("counted") == static_cast<double>(increments));
  }
}

TEST_CASE("zset versions: a ZREM takes what it saw; a concurrent ZADD of the member survives") {
  SiblingSet a;
  const Version first = ZWrite(a, "n1", 100, ZOp::kAdd, "x", 1);
  SiblingSet b;
  b.Add(first);
  ZWrite(a, "n1", 200, ZOp::kAdd, "x", 5);   // re-add with a new score
  ZWrite(b, "n2", 210, ZOp::kRem, "x", 0);   // saw only the first add
  ZWrite(b, "n2", 220, ZOp::kIncr, "y", 2);  // a member only ever incremented
  const SiblingSet ab = SiblingSet::Reconcile(a, b);
  CHECK(ab.Encode() == SiblingSet::Reconcile(b, a).Encode());
  const CollectionState state = StateOf(ab, Kind::kZset);
  CHECK(state.zset().Score("x") == 5.0);
  CHECK(state.zset().Score("y") == 2.0);
  CHECK(ab.versions()[0].expire_at_ms == 0);
  CHECK_FALSE(ab.versions()[0].tombstone);
  // Emptied: a tombstone that still joins (and keeps its context).
  SiblingSet c = ab;
  ZWrite(c, "n3", 300, ZOp::kRem, "x", 0);
  ZWrite(c, "n3", 310, ZOp::kRem, "y", 0);
  REQUIRE(c.size() == 1);
  CHECK(c.versions()[0].tombstone);
  c.Merge(a);  // an older copy does not bring x back
  CHECK(StateOf(c, Kind::kZset).zset().size() == 0);
}

Version PfWrite(SiblingSet& set, const std::string& node, std::int64_t ts,
                const std::vector<std::string>& elements) {
  CollectionState seen = StateOf(set, Kind::kHll);
  crdt::HllRegisters result = seen.hll().registers();
  for (const std::string& e : elements) result.Add(e);
  CollectionState delta(Kind::kHll);
  delta.hll() = seen.hll().Raise(result);
  return Ship(set, node, ts, delta);
}

TEST_CASE("hll versions: concurrent PFADDs all count; a delete is a tombstone that wins") {
  SiblingSet a, b;
  const Version x = PfWrite(a, "n1", 100, {"1", "2", "3"});
  const Version y = PfWrite(b, "n2", 110, {"4"});
  a.Add(y);
  b.Add(x);
  CHECK(a.Encode() == b.Encode());
  REQUIRE(a.size() == 1);
  CHECK(a.versions()[0].collection);
  CHECK_FALSE(a.versions()[0].tombstone);
  CHECK(StateOf(a, Kind::kHll).hll().registers().Count() == 4);
  // A delete (a new epoch) on b; a concurrent add on a is dropped with the old epoch.
  CollectionState seen = StateOf(b, Kind::kHll);
  CollectionState del(Kind::kHll);
  del.hll() = seen.hll().Reset(200, "n2", nullptr);
  del.expiry() = {200, "n2", 0};
  const Version d = Ship(b, "n2", 200, del);
  CHECK(d.tombstone);
  const Version late = PfWrite(a, "n1", 210, {"5"});
  a.Add(d);
  b.Add(late);
  CHECK(a.Encode() == b.Encode());
  REQUIRE(a.size() == 1);
  CHECK(a.versions()[0].tombstone);
  // A PFADD after the delete starts the key again, everywhere.
  const Version again = PfWrite(a, "n1", 300, {"6"});
  b.Add(again);
  CHECK(a.Encode() == b.Encode());
  CHECK_FALSE(a.versions()[0].tombstone);
  CHECK(StateOf(a, Kind::kHll).hll().registers().Count() == 1);
}

TEST_CASE("collection versions of different kinds are siblings, never joined") {
  SiblingSet set;
  const Version z = ZWrite(set, "n1", 100, ZOp::kAdd, "m", 1);
  SiblingSet other;
  const Version h = PfWrite(other, "n2", 110, {"e"});
  set.Add(h);
  CHECK(set.size() == 2);
  CollectionState::Kind kind;
  CHECK(CollectionState::PeekKind(z.value, &kind));
  CHECK(kind == Kind::kZset);
  CHECK(CollectionState::PeekKind(h.value, &kind));
  CHECK(kind == Kind::kHll);
  CHECK_FALSE(CollectionState::PeekKind(std::string("\x01X", 2), &kind));
  // Each kind's payload is checked by its own decoder.
  CollectionState out;
  std::string bad = z.value;
  bad[1] = 'P';
  CHECK_FALSE(CollectionState::Decode(bad, &out));
}

}  // namespace
}  // namespace dynakv::cluster
