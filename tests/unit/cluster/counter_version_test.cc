// Counter versions inside SiblingSet: joined, never kept as siblings of each other, whatever
// path (replica put, repair, anti-entropy, hints) brings them together.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cluster/versioned_value.h"
#include "crdt/pn_counter.h"

namespace dynakv::cluster {
namespace {

// A replica's INCR as the server does it: its own actor's entry moved on its local copy.
Version Increment(SiblingSet& set, const std::string& node, std::int64_t ts, std::int64_t delta) {
  crdt::PnCounter state;
  for (const Version& v : set.versions()) {
    if (v.counter) REQUIRE(crdt::PnCounter::Decode(v.value, &state));
  }
  if (state.reset().timestamp_us == 0) {
    crdt::PnCounter::Reset reset;
    reset.timestamp_us = ts;
    reset.origin = node;
    reset.deleted = false;
    state.ApplyReset(reset);
  }
  REQUIRE(state.Increment(node + "/1", delta));
  Version version = set.NewVersion(set.Context(), node, ts);
  version.value = state.Encode();
  REQUIRE(NormalizeCounterVersion(&version));
  set.Add(version);
  return version;
}

std::int64_t ValueOf(const SiblingSet& set) {
  const Version* winner = set.Resolve();
  REQUIRE(winner != nullptr);
  REQUIRE(winner->counter);
  crdt::PnCounter state;
  REQUIRE(crdt::PnCounter::Decode(winner->value, &state));
  return state.Value();
}

TEST_CASE("counter versions: concurrent increments on three replicas join, in any order") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<SiblingSet> replicas(3);
    std::vector<Version> written;
    std::int64_t expected = 0;
    std::int64_t ts = 1000;
    for (int step = 0; step < 40; ++step) {
      const std::size_t r = rng() % 3;
      if (rng() % 4 == 0) {  // a replica's copy sent to another (repair, anti-entropy, hint)
        replicas[rng() % 3].Merge(replicas[r]);
        continue;
      }
      const std::int64_t delta = static_cast<std::int64_t>(rng() % 11) - 5;
      written.push_back(
          Increment(replicas[r], "n" + std::to_string(r), ts += 1 + rng() % 5, delta));
      expected += delta;
    }
    // Every version delivered to a fresh set in a random order: one counter, same bytes.
    std::string first;
    for (int order = 0; order < 4; ++order) {
      std::shuffle(written.begin(), written.end(), rng);
      SiblingSet set;
      for (const Version& v : written) set.Add(v);
      CHECK(set.size() == 1);
      CHECK(ValueOf(set) == expected);
      if (order == 0) first = set.Encode();
      CHECK(set.Encode() == first);
      SiblingSet decoded;
      REQUIRE(SiblingSet::Decode(set.Encode(), &decoded));
      CHECK(decoded.Encode() == first);
    }
    SiblingSet all =
        SiblingSet::Reconcile(SiblingSet::Reconcile(replicas[0], replicas[1]), replicas[2]);
    CHECK(all.Encode() == first);
    CHECK(SiblingSet::Reconcile(replicas[2], SiblingSet::Reconcile(replicas[1], replicas[0]))
              .Encode() == first);
  }
}

TEST_CASE(
    "counter versions: a counter replaces the string it was made from, and a write that "
    "saw the counter replaces it") {
  SiblingSet set;
  Version plain = set.NewVersion({}, "A", 100);
  plain.value = "5";
  REQUIRE(set.Add(plain));
  Increment(set, "A", 200, 1);
  REQUIRE(set.size() == 1);
  CHECK(set.versions()[0].counter);

  // Another replica's increment the later write did not see stays beside it.
  SiblingSet other = set;
  Increment(other, "B", 250, 3);
  Version replace = set.NewVersion(set.Context(), "C", 300);
  replace.value = "hello";
  REQUIRE(set.Add(replace));
  CHECK(set.size() == 1);
  CHECK_FALSE(set.versions()[0].counter);
  set.Merge(other);
  CHECK(set.size() == 2);  // the unseen increment is kept, as a sibling
}

TEST_CASE("counter versions: decode refuses two counters and inconsistent counter fields") {
  SiblingSet a;
  SiblingSet b;
  const Version va = Increment(a, "A", 100, 1);
  const Version vb = Increment(b, "B", 101, 1);
  std::string bytes(1, '\x01');
  bytes.push_back(2);
  va.EncodeTo(&bytes);
  vb.EncodeTo(&bytes);
  SiblingSet decoded;
  CHECK_FALSE(SiblingSet::Decode(bytes, &decoded));

  Version wrong = va;
  wrong.tombstone = true;  // the state says it exists
  std::string one(1, '\x01');
  one.push_back(1);
  wrong.EncodeTo(&one);
  CHECK_FALSE(SiblingSet::Decode(one, &decoded));

  // A clock that does not already hold the counter's own dot as History() would: a join of the
  // set with itself would change it, so no join makes one.
  Version stale_clock = va;
  stale_clock.clock = VectorClock();
  stale_clock.clock.Advance(va.origin_node, va.dot, va.timestamp_us / 1000 - 1);
  std::string stale(1, '\x01');
  stale.push_back(1);
  stale_clock.EncodeTo(&stale);
  CHECK_FALSE(SiblingSet::Decode(stale, &decoded));
}

TEST_CASE("counter versions: a set holding a counter reconciled with itself is itself") {
  SiblingSet set;
  Version plain = set.NewVersion({}, "A", 100);
  plain.value = "x";
  REQUIRE(set.Add(plain));
  SiblingSet other;
  Increment(other, "B", 150, 4);
  Increment(other, "B", 160, -1);
  set.Merge(other);
  REQUIRE(set.size() == 2);  // the plain write and the counter never saw each other
  const std::string bytes = set.Encode();
  SiblingSet decoded;
  REQUIRE(SiblingSet::Decode(bytes, &decoded));
  CHECK(SiblingSet::Reconcile(decoded, decoded).Encode() == bytes);
  CHECK_FALSE(decoded.Add(decoded.versions()[0]));
  CHECK_FALSE(decoded.Add(decoded.versions()[1]));
}

}  // namespace
}  // namespace dynakv::cluster
