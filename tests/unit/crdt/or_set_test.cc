// The observed-remove set: add wins over a concurrent remove, a remove takes only what it saw,
// nothing removed comes back through a merge, and replicas converge to identical bytes.
#include "crdt/or_set.h"

#include <doctest/doctest.h>

#include <set>

#include "crdt_test_util.h"

namespace dynakv::crdt {

using testing::History;
using testing::RoundTrip;

TEST_CASE("ORSet: add then remove on one replica; a delta carries only its member") {
  ORSet s;
  const ORSet d1 = s.Add("a", "x");
  s.Add("a", "y");
  CHECK(s.Members() == std::vector<std::string>{"x", "y"});
  CHECK(d1.Members() == std::vector<std::string>{"x"});
  const ORSet rm = s.Remove("x");
  CHECK(s.Members() == std::vector<std::string>{"y"});
  CHECK(rm.size() == 0);
  CHECK_FALSE(rm.context().empty());
  CHECK(s.Remove("absent").empty());  // nothing observed, nothing shipped
  RoundTrip(s);
}

TEST_CASE("ORSet: a concurrent add wins over a remove") {
  ORSet a, b;
  b.Join(a.Add("n1", "x"));            // both hold x
  const ORSet remove = a.Remove("x");  // n1 removes the x it saw
  const ORSet add = b.Add("n2", "x");  // n2 re-adds x concurrently
  a.Join(add);
  b.Join(remove);
  CHECK(a.Contains("x"));
  CHECK(b.Contains("x"));
  CHECK(a.Encode() == b.Encode());
}

TEST_CASE("ORSet: a remove takes only the adds it observed") {
  ORSet a, b, c;
  const ORSet add1 = a.Add("n1", "x");
  b.Join(add1);
  const ORSet add2 = c.Add("n3", "x");  // b has not seen this one
  const ORSet remove = b.Remove("x");
  for (ORSet* r : {&a, &b, &c}) {
    r->Join(add1);
    r->Join(add2);
    r->Join(remove);
  }
  CHECK(a.Contains("x"));
  REQUIRE(a.Find("x")->size() == 1);
  CHECK(a.context().actor(a.Find("x")->front().actor) == "n3");
  CHECK(a.Encode() == b.Encode());
  CHECK(b.Encode() == c.Encode());
}

TEST_CASE(
    "ORSet: no resurrection: an old copy still holding a removed member does not bring it back") {
  ORSet a;
  a.Add("n1", "x");
  a.Add("n1", "y");
  const ORSet old = a;  // e.g. a replica that was partitioned away, or a hint
  a.Remove("x");
  a.Join(old);
  CHECK_FALSE(a.Contains("x"));
  ORSet b = old;
  b.Join(a);
  CHECK_FALSE(b.Contains("x"));
  CHECK(b.Encode() == a.Encode());
  // Only a new add brings it back.
  b.Add("n2", "x");
  a.Join(b);
  CHECK(a.Contains("x"));
}

TEST_CASE("ORSet: Reset removes what it saw; an add concurrent with it survives") {
  ORSet a, b;
  const ORSet base = a.Add("n1", "x");
  a.Add("n1", "y");
  b.Join(base);
  const ORSet add = b.Add("n2", "z");
  const ORSet reset = a.Reset();
  CHECK(a.size() == 0);
  a.Join(add);
  b.Join(reset);
  b.Join(a);
  CHECK(a.Members() == std::vector<std::string>{"z"});
  CHECK(b.Members() == std::vector<std::string>{"z"});
}

TEST_CASE("ORSet: out-of-order deltas leave a dot cloud that folds once the gap fills") {
  ORSet a, b;
  std::vector<ORSet> deltas;
  for (int i = 0; i < 5; ++i) deltas.push_back(a.Add("n1", "m" + std::to_string(i)));
  b.Join(deltas[4]);
  b.Join(deltas[2]);
  CHECK(b.context().ToString() == "{n1:0 +n1:3 +n1:5}");
  for (int i : {0, 1, 3}) b.Join(deltas[i]);
  CHECK(b.context().ToString() == "{n1:5}");
  CHECK(b.Encode() == a.Encode());
}

namespace {

ORSet SetOp(std::mt19937_64& rng, ORSet& s, const std::string& actor, int alphabet) {
  const int what = std::uniform_int_distribution<int>(0, 99)(rng);
  const std::string e = testing::RandomElement(rng, alphabet);
  if (what < 55) return s.Add(actor, e);
  if (what < 95) return s.Remove(e);
  return s.Reset();
}
ORSet RandomSetOp(std::mt19937_64& rng, ORSet& s, const std::string& actor) {
  return SetOp(rng, s, actor, 8);
}
// Over a large set, where a delta's join takes the small path (through the dot index).
ORSet WideSetOp(std::mt19937_64& rng, ORSet& s, const std::string& actor) {
  return SetOp(rng, s, actor, 300);
}

}  // namespace

TEST_CASE(
    "ORSet: random histories over 3 replicas converge to identical bytes and keep exactly "
    "the adds no remove observed") {
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    CAPTURE(seed);
    History<ORSet> h(seed, RandomSetOp);
    h.Run(250);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
  }
}

TEST_CASE("ORSet: the same over a large set, where deltas join through the dot index") {
  ORSet base;
  for (int i = 0; i < 280; ++i) base.Add("n0#1", "e" + std::to_string(i));
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    History<ORSet> h(seed, WideSetOp, base);
    h.Run(400);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
  }
}

TEST_CASE("ORSet: with every delta delivered at once, it behaves as a Redis set") {
  std::mt19937_64 rng(42);
  ORSet replicas[3];
  std::set<std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const int r = i % 3;
    const std::string actor = "n" + std::to_string(r);
    const int what = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string e = testing::RandomElement(rng, 50);
    ORSet delta;
    if (what < 60) {
      delta = replicas[r].Add(actor, e);
      model.insert(e);
    } else if (what < 99) {
      delta = replicas[r].Remove(e);
      model.erase(e);
    } else {
      delta = replicas[r].Reset();
      model.clear();
    }
    for (ORSet& other : replicas) other.Join(delta);
    CHECK(replicas[(r + 1) % 3].Members() == std::vector<std::string>(model.begin(), model.end()));
  }
}

TEST_CASE("ORSet: an add into a large set ships a delta the size of the member") {
  ORSet s;
  for (int i = 0; i < 10000; ++i) s.Add("node-a#1", "member:" + std::to_string(i));
  const std::string delta = s.Add("node-b#1", "member:5").Encode();
  CHECK(delta.size() < 40);
  CHECK(s.Encode().size() > 100000);
}

}  // namespace dynakv::crdt
