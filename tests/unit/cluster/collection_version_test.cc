// Collection versions (a set's ORSet, collection_state.h) inside SiblingSet: deltas and whole
// copies joined, never kept as siblings of each other, in any order and however often delivered;
// the encoding strict and canonical.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster/versioned_value.h"

namespace dynakv::cluster {
namespace {

const Version* CollectionOf(const SiblingSet& set) {
  for (const Version& v : set.versions()) {
    if (v.collection) return &v;
  }
  return nullptr;
}

CollectionState StateOf(const SiblingSet& set) {
  CollectionState state;
  if (const Version* v = CollectionOf(set)) REQUIRE(CollectionState::Decode(v->value, &state));
  return state;
}

// A replica's SADD or SREM as the server does it (cluster_collections.cc): the operation on its
// own copy, by its own actor; the returned version is the delta that is shipped.
Version Write(SiblingSet& set, const std::string& node, std::int64_t ts, bool add,
              const std::string& member) {
  CollectionState seen = StateOf(set);
  CollectionState delta;
  delta.set() = add ? seen.set().Add(node + "/1", member) : seen.set().Remove(member);
  Version version = set.NewVersion(VectorClock(), node, ts);
  version.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&version));
  set.Add(version);
  return version;
}

std::set<std::string> MembersOf(const SiblingSet& set) {
  const std::vector<std::string> members = StateOf(set).set().Members();
  return {members.begin(), members.end()};
}

TEST_CASE("collection versions: deltas and copies of three replicas join in any order") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::vector<Version> deltas;
    std::int64_t ts = 1000;
    for (int step = 0; step < 60; ++step) {
      const std::size_t r = rng() % 3;
      if (rng() % 5 == 0) {  // a whole copy sent to another (repair, anti-entropy, a hint)
        replicas[rng() % 3].Merge(replicas[r]);
        continue;
      }
      const std::string member = "m" + std::to_string(rng() % 8);
      const bool add = rng() % 3 != 0;
      deltas.push_back(Write(replicas[r], "n" + std::to_string(r), ts += 10, add, member));
      // Sometimes the delta reaches another replica at once (a replica put).
      if (rng() % 2 == 0) {
        SiblingSet one;
        one.Add(deltas.back());
        replicas[rng() % 3].Merge(one);
      }
    }
    // Every delta delivered to every replica, shuffled and duplicated: all converge to the same
    // bytes, which equal what joining all deltas in order gives.
    SiblingSet reference;
    for (const Version& d : deltas) reference.Add(d);
    for (SiblingSet& replica : replicas) {
      std::vector<Version> order = deltas;
      order.insert(order.end(), deltas.begin(), deltas.begin() + deltas.size() / 2);
      std::shuffle(order.begin(), order.end(), rng);
      for (const Version& d : order) replica.Add(d);
      CHECK(replica.size() == 1);
      CHECK(replica.Encode() == reference.Encode());
      SiblingSet decoded;
      REQUIRE(SiblingSet::Decode(replica.Encode(), &decoded));
      CHECK(decoded.Encode() == replica.Encode());
    }
  }
}

TEST_CASE("collection versions: an add wins over a concurrent remove; a remove takes what it saw") {
  SiblingSet a;
  SiblingSet b;
  Version first = Write(a, "n1", 100, true, "x");
  b.Add(first);
  Write(a, "n1", 200, true, "x");   // a re-add: a new dot for x
  Write(b, "n2", 210, false, "x");  // removes only the dot b saw
  Write(b, "n2", 220, true, "y");
  Write(a, "n1", 230, false, "nothing-here");  // a remove of nothing: an empty delta
  SiblingSet ab = SiblingSet::Reconcile(a, b);
  SiblingSet ba = SiblingSet::Reconcile(b, a);
  CHECK(ab.Encode() == ba.Encode());
  CHECK(MembersOf(ab) == std::set<std::string>{"x", "y"});
  // A remove that saw both adds of x removes it everywhere it lands.
  Write(ab, "n3", 300, false, "x");
  b.Merge(ab);
  CHECK(MembersOf(b) == std::set<std::string>{"y"});
  // ... and an older copy still holding x does not bring it back.
  b.Merge(a);
  CHECK(MembersOf(b) == std::set<std::string>{"y"});
}

TEST_CASE("collection versions: the expiry register is last-write-wins and follows the state") {
  SiblingSet a;
  Write(a, "n1", 100, true, "x");
  CollectionState expire;
  expire.expiry() = {500, "n2", 99'000};
  Version v = a.NewVersion(VectorClock(), "n2", 500);
  v.value = expire.Encode();
  REQUIRE(NormalizeCollectionVersion(&v));
  CollectionState persist;
  persist.expiry() = {400, "n3", 0};  // older: loses
  Version w = a.NewVersion(VectorClock(), "n3", 400);
  w.value = persist.Encode();
  REQUIRE(NormalizeCollectionVersion(&w));
  SiblingSet x = a;
  x.Add(v);
  x.Add(w);
  SiblingSet y = a;
  y.Add(w);
  y.Add(v);
  CHECK(x.Encode() == y.Encode());
  REQUIRE(CollectionOf(x) != nullptr);
  CHECK(CollectionOf(x)->expire_at_ms == 99'000);
  CHECK_FALSE(CollectionOf(x)->tombstone);
}

TEST_CASE(
    "collection versions: a write that saw a plain value replaces it; a concurrent one is a "
    "sibling; two collections of one kind are never siblings") {
  SiblingSet set;
  Version plain = set.NewVersion(VectorClock(), "n1", 100);
  plain.value = "string";
  set.Add(plain);
  SiblingSet other = set;
  // A collection delta whose clock covers the string replaces it.
  CollectionState seen;
  CollectionState delta;
  delta.set() = seen.set().Add("n2/1", "m");
  Version replacing = set.NewVersion(set.Context(), "n2", 200);
  replacing.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&replacing));
  set.Add(replacing);
  CHECK(set.size() == 1);
  CHECK(set.versions()[0].collection);
  // One that did not see it is kept beside it.
  Version concurrent = other.NewVersion(VectorClock(), "n3", 150);
  concurrent.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&concurrent));
  other.Add(concurrent);
  CHECK(other.size() == 2);
  // Two concurrent collection versions of one kind side by side: Add would have joined them, so
  // such bytes are refused.
  Version mine = SiblingSet().NewVersion(VectorClock(), "n4", 160);
  mine.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&mine));
  std::string bytes(1, 1);
  bytes.push_back(2);
  concurrent.EncodeTo(&bytes);
  mine.EncodeTo(&bytes);
  SiblingSet decoded;
  CHECK_FALSE(SiblingSet::Decode(bytes, &decoded));
}

TEST_CASE("collection versions: decode refuses payloads and flags Encode never writes") {
  SiblingSet set;
  Write(set, "n1", 100, true, "x");
  const std::string good = set.Encode();
  SiblingSet decoded;
  REQUIRE(SiblingSet::Decode(good, &decoded));
  // Every truncation fails cleanly.
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(SiblingSet::Decode(good.substr(0, n), &decoded));
  }
  // A collection whose tombstone flag disagrees with its state (non-empty) is refused.
  Version v = set.versions()[0];
  v.tombstone = true;
  std::string raw;
  raw.push_back(1);
  raw.push_back(1);
  v.EncodeTo(&raw);
  CHECK_FALSE(SiblingSet::Decode(raw, &decoded));
  // A register with an origin but no stamp is not canonical.
  CollectionState state;
  state.expiry() = {0, "n1", 0};
  CollectionState out;
  CHECK_FALSE(CollectionState::Decode(state.Encode(), &out));
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

// A replica's HSET or HINCRBY as the server does it, on a hash.
Version HashWrite(SiblingSet& set, const std::string& node, std::int64_t ts, bool incr,
                  const std::string& field) {
  CollectionState seen(CollectionState::Kind::kHash);
  if (const Version* v = CollectionOf(set)) REQUIRE(CollectionState::Decode(v->value, &seen));
  CollectionState delta(CollectionState::Kind::kHash);
  if (incr) {
    std::int64_t result = 0;
    crdt::AddWinsMap part;
    REQUIRE(seen.map().IncrBy(node + "/1", field, 1, &result, &part) ==
            crdt::AddWinsMap::IncrStatus::kOk);
    delta.map().Join(part);
  } else {
    delta.map().Join(seen.map().Set(node + "/1", field, ts, "v"));
  }
  Version version = set.NewVersion(VectorClock(), node, ts);
  version.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&version));
  set.Add(version);
  return version;
}

TEST_CASE("collection versions: concurrent HINCRBYs interleaved with HSETs all count") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 30; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::vector<std::vector<Version>> inflight(3);  // deltas not delivered yet, per target
    int increments = 0;
    std::int64_t ts = 1000;
    for (int step = 0; step < 300; ++step) {
      const std::size_t r = rng() % 3;
      const bool incr = rng() % 2 == 0;
      Version d = HashWrite(replicas[r], "n" + std::to_string(r), ts += 10, incr,
                            incr ? "f" : "x" + std::to_string(step));
      if (incr) ++increments;
      for (std::size_t t = 0; t < 3; ++t) {
        if (t != r) inflight[t].push_back(d);
      }
      // Deliver some in-flight deltas, in any order.
      for (std::size_t t = 0; t < 3; ++t) {
        std::shuffle(inflight[t].begin(), inflight[t].end(), rng);
        while (!inflight[t].empty() && rng() % 3 != 0) {
          SiblingSet one;
          one.Add(inflight[t].back());
          replicas[t].Merge(one);
          inflight[t].pop_back();
        }
      }
      if (rng() % 10 == 0) replicas[rng() % 3].Merge(replicas[rng() % 3]);
    }
    for (std::size_t t = 0; t < 3; ++t) {
      for (const Version& d : inflight[t]) {
        SiblingSet one;
        one.Add(d);
        replicas[t].Merge(one);
      }
    }
    for (SiblingSet& replica : replicas) {
      CollectionState state;
      REQUIRE(CollectionState::Decode(CollectionOf(replica)->value, &state));
      CHECK(state.map().Get("f") == std::to_string(increments));
      CHECK(replica.Encode() == replicas[0].Encode());
    }
  }
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

// A replica's list write as the server does it (cluster_lists.cc): on its own copy, by its own
// actor; the returned version is the delta that is shipped.
Version ListWrite(SiblingSet& set, const std::string& node, std::int64_t ts, int what,
                  const std::string& value) {
  CollectionState seen(CollectionState::Kind::kList);
  if (const Version* v = CollectionOf(set)) REQUIRE(CollectionState::Decode(v->value, &seen));
  REQUIRE(seen.kind() == CollectionState::Kind::kList);
  CollectionState delta(CollectionState::Kind::kList);
  std::optional<std::string> popped;
  switch (what) {
    case 0:
      delta.list() = seen.list().PushBack(node + "/1", value);
      break;
    case 1:
      delta.list() = seen.list().PushFront(node + "/1", value);
      break;
    case 2:
      delta.list() = seen.list().PopFront(&popped);
      break;
    default:
      delta.list() = seen.list().Reset();
      break;
  }
  Version version = set.NewVersion(VectorClock(), node, ts);
  version.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&version));
  set.Add(version);
  return version;
}

TEST_CASE("collection versions: list deltas of three replicas join in any order to one list") {
  std::mt19937_64 rng(23);
  for (int round = 0; round < 30; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::vector<Version> deltas;
    std::set<std::string> pushed;
    std::int64_t ts = 1000;
    for (int step = 0; step < 80; ++step) {
      const std::size_t r = rng() % 3;
      if (rng() % 6 == 0) {
        replicas[rng() % 3].Merge(replicas[r]);  // a whole copy (anti-entropy, a hint)
        continue;
      }
      const int what = rng() % 20 == 0 ? 3 : static_cast<int>(rng() % 3);
      const std::string value = "v" + std::to_string(step);
      deltas.push_back(ListWrite(replicas[r], "n" + std::to_string(r), ts += 10, what, value));
      if (what < 2) pushed.insert(value);
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
      order.insert(order.end(), deltas.begin(), deltas.begin() + deltas.size() / 3);
      std::shuffle(order.begin(), order.end(), rng);
      for (const Version& d : order) replica.Add(d);
      CHECK(replica.size() == 1);
      CHECK(replica.Encode() == reference.Encode());
    }
    // Each element at most once, only pushed ones; the state round-trips.
    CollectionState state;
    REQUIRE(CollectionOf(reference) != nullptr);
    REQUIRE(CollectionState::Decode(CollectionOf(reference)->value, &state));
    CHECK(state.kind() == CollectionState::Kind::kList);
    const std::vector<std::string> values = state.list().Values();
    const std::set<std::string> distinct(values.begin(), values.end());
    CHECK(distinct.size() == values.size());
    for (const std::string& v : values) CHECK(pushed.count(v) == 1);
    CHECK(CollectionOf(reference)->tombstone == values.empty());
    CollectionState::Kind kind;
    REQUIRE(CollectionState::PeekKind(CollectionOf(reference)->value, &kind));
    CHECK(kind == CollectionState::Kind::kList);
  }
}

TEST_CASE("collection versions: a list and a set of one key are not joined") {
  SiblingSet set;
  const Version list = ListWrite(set, "n1", 100, 0, "x");
  // A set version concurrent with the list: kept beside it, neither joined into the other.
  CollectionState delta;
  CollectionState seen;
  delta.set() = seen.set().Add("n2/1", "m");
  Version other = SiblingSet().NewVersion(VectorClock(), "n2", 110);
  other.value = delta.Encode();
  REQUIRE(NormalizeCollectionVersion(&other));
  set.Add(other);
  CHECK(set.size() == 2);
  // Truncated list states are refused.
  const std::string good = list.value;
  CollectionState out;
  REQUIRE(CollectionState::Decode(good, &out));
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(CollectionState::Decode(good.substr(0, n), &out));
  }
}

// The replica's join over its encoded copy (MergeEncodedCollection, what StoredSiblingsCodec runs
// per write) must store exactly the bytes SiblingSet::Merge would.
void CheckEncodedMerge(const SiblingSet& into, const SiblingSet& incoming, int* taken) {
  std::string out;
  SiblingSet merged = into;
  merged.Merge(incoming);
  if (!into.empty() && MergeEncodedCollection(into.Encode(), incoming, &out)) {
    ++*taken;
    CHECK(out == merged.Encode());
  }
}

TEST_CASE("collection versions: a join over the encoded copy stores the bytes Merge stores") {
  std::mt19937_64 rng(29);
  int taken = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::int64_t ts = 1000;
    for (int step = 0; step < 80; ++step) {
      const std::size_t r = rng() % 3;
      const std::string node = "n" + std::to_string(r);
      Version delta;
      if (rng() % 7 == 0) {  // EXPIRE / PERSIST: only the register changes
        CollectionState change;
        change.expiry() = {ts += 10, node, rng() % 2 == 0 ? 0 : ts + 5000};
        delta = replicas[r].NewVersion(VectorClock(), node, ts);
        delta.value = change.Encode();
        REQUIRE(NormalizeCollectionVersion(&delta));
        replicas[r].Add(delta);
      } else {
        delta =
            Write(replicas[r], node, ts += 10, rng() % 3 != 0, "m" + std::to_string(rng() % 12));
      }
      SiblingSet one;
      one.Add(delta);
      const std::size_t to = rng() % 3;
      if (rng() % 5 == 0) {  // a whole copy (anti-entropy, read repair)
        CheckEncodedMerge(replicas[to], replicas[r], &taken);
        replicas[to].Merge(replicas[r]);
      } else {  // the delta, sometimes twice
        CheckEncodedMerge(replicas[to], one, &taken);
        replicas[to].Merge(one);
      }
    }
  }
  CHECK(taken > 1000);  // the common shape takes the encoded path
  // Other shapes are refused, for the caller's decode and merge.
  SiblingSet plain;
  Version value = plain.NewVersion(VectorClock(), "n1", 5);
  value.value = "v";
  plain.Add(value);
  SiblingSet set;
  SiblingSet one;
  one.Add(Write(set, "n2", 10, true, "m"));
  std::string out;
  CHECK_FALSE(MergeEncodedCollection(plain.Encode(), one, &out));  // a string stored
  CHECK_FALSE(MergeEncodedCollection(set.Encode(), plain, &out));  // a string arriving
}

}  // namespace
}  // namespace dynakv::cluster
