// The list sequence CRDT: concurrent pushes all kept in one order everywhere, pops remove what
// they saw, and a list behaves as a Redis list when every delta arrives at once.
#include "crdt/sequence.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "crdt_test_util.h"

namespace dynakv::crdt {

using testing::History;
using testing::RoundTrip;
using Strings = std::vector<std::string>;

TEST_CASE("Sequence: LPUSH and RPUSH on one replica order as Redis does") {
  Sequence s;
  s.PushBack("n1", "b");
  s.PushBack("n1", "c");
  s.PushFront("n1", "a");
  s.PushFront("n1", "z");
  CHECK(s.Values() == Strings{"z", "a", "b", "c"});
  std::optional<std::string> v;
  s.PopBack(&v);
  CHECK(v == "c");
  s.PopFront(&v);
  CHECK(v == "z");
  CHECK(s.Values() == Strings{"a", "b"});
  s.PushBack("n1", "d");  // after the tombstone of c: still last
  CHECK(s.Values() == Strings{"a", "b", "d"});
  const auto elements = s.Elements();
  s.InsertAfter("n1", elements[0].first, "a2");  // LINSERT AFTER a
  CHECK(s.Values() == Strings{"a", "a2", "b", "d"});
  CHECK(RoundTrip(s).Values() == s.Values());
}

TEST_CASE("Sequence: concurrent RPUSHes through three nodes are all kept, in one order") {
  Sequence base;
  base.PushBack("n0", "x");
  Sequence r[3] = {base, base, base};
  std::vector<Sequence> deltas;
  for (int i = 0; i < 3; ++i) {
    deltas.push_back(r[i].PushBack("n" + std::to_string(i + 1), "from" + std::to_string(i + 1)));
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r[(i + j) % 3].Join(deltas[(i + 2 * j) % 3]);
  }
  const Strings values = r[0].Values();
  CHECK(values.size() == 4);
  CHECK(values.front() == "x");
  CHECK(values == Strings{"x", "from3", "from2", "from1"});  // same seq: larger actor id first
  CHECK(r[1].Encode() == r[0].Encode());
  CHECK(r[2].Encode() == r[0].Encode());
  // A later RPUSH that saw them all goes last.
  r[1].PushBack("n2", "last");
  CHECK(r[1].Values().back() == "last");
}

TEST_CASE("Sequence: concurrent pops may hand out the same element; a concurrent push survives") {
  Sequence a;
  a.PushBack("n1", "job1");
  a.PushBack("n1", "job2");
  Sequence b = a;
  std::optional<std::string> va, vb;
  const auto pa = a.PopFront(&va);
  const auto pb = b.PopFront(&vb);
  CHECK(va == "job1");
  CHECK(vb == "job1");  // both popped it: documented
  const auto push = b.PushFront("n2", "job0");
  a.Join(pb);
  a.Join(push);
  b.Join(pa);
  CHECK(a.Values() == Strings{"job0", "job2"});
  CHECK(a.Encode() == b.Encode());
}

TEST_CASE("Sequence: InsertBefore lands right before its element, here and on every replica") {
  Sequence a;
  a.PushBack("n1", "x");
  a.PushBack("n1", "y");
  a.PushFront("n1", "w");
  Sequence b = a;
  const auto elements = a.Elements();  // w x y
  // Before the first element: at the head, before a concurrent LPUSH's element too (its seq is
  // larger than everything the writer saw).
  const auto d1 = a.InsertBefore("n1", elements[0].first, "before-w");
  const auto d2 = a.InsertBefore("n1", elements[2].first, "before-y");
  std::optional<std::string> popped;
  const auto d3 = a.PopFront(&popped);  // removes before-w: an anchor that goes away
  CHECK(popped == "before-w");
  const auto d4 = a.InsertBefore("n1", elements[1].first, "before-x");
  CHECK(a.Values() == Strings{"w", "before-x", "x", "before-y", "y"});
  // Concurrently on b: an element after x (an anchor of before-y's neighbour) and a new head.
  const auto e1 = b.InsertAfter("n2", elements[1].first, "after-x");
  const auto e2 = b.PushFront("n2", "head");
  for (const Sequence* d : {&d1, &d2, &d3, &d4}) b.Join(*d);
  a.Join(e1);
  a.Join(e2);
  CHECK(a.Encode() == b.Encode());
  const Strings values = a.Values();
  auto at = [&](const std::string& v) {
    return std::find(values.begin(), values.end(), v) - values.begin();
  };
  CHECK(at("before-x") + 1 == at("x"));
  // Concurrent inserts after x may come between (a larger seq first), but never past y.
  CHECK(values == Strings{"head", "w", "before-x", "x", "before-y", "after-x", "y"});
  CHECK(at("before-y") < at("y"));
  CHECK(values.size() == 7);
  CHECK(RoundTrip(a).Values() == values);
}

TEST_CASE("Sequence: an element whose origin has not arrived waits, then takes its place") {
  Sequence a, b;
  const auto d1 = a.PushBack("n1", "one");
  const auto d2 = a.PushBack("n1", "two");
  b.Join(d2);
  CHECK(b.Values().empty());
  CHECK_FALSE(b.empty());
  b.Join(d1);
  CHECK(b.Values() == Strings{"one", "two"});
  CHECK(b.Encode() == a.Encode());
}

TEST_CASE("Sequence: Reset removes what it saw; a push concurrent with it survives") {
  Sequence a;
  a.PushBack("n1", "x");
  a.PushBack("n1", "y");
  Sequence b = a;
  const auto reset = a.Reset();
  CHECK(a.size() == 0);
  CHECK(reset.Removed().size() == 2);
  const auto push = b.PushBack("n2", "z");  // anchored on y, which the reset removes
  a.Join(push);
  b.Join(reset);
  CHECK(a.Values() == Strings{"z"});
  CHECK(b.Values() == Strings{"z"});
  CHECK(a.Encode() == b.Encode());
}

namespace {

Sequence RandomListOp(std::mt19937_64& rng, Sequence& s, const std::string& actor) {
  const int what = std::uniform_int_distribution<int>(0, 99)(rng);
  const std::string v = "v" + std::to_string(rng() % 1000);
  std::optional<std::string> popped;
  if (what < 30) return s.PushBack(actor, v);
  if (what < 55) return s.PushFront(actor, v);
  if (what < 70) {
    const auto elements = s.Elements();
    if (elements.empty()) return s.PushBack(actor, v);
    return s.InsertAfter(actor, elements[rng() % elements.size()].first, v);
  }
  if (what < 85) return s.PopFront(&popped);
  if (what < 97) return s.PopBack(&popped);
  return s.Reset();
}

}  // namespace

TEST_CASE(
    "Sequence: random histories converge to identical bytes; nothing pushed is lost "
    "unless popped, and each element follows its anchor") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    History<Sequence> h(seed, RandomListOp);
    h.Run(250);
    h.Finish();
    const Sequence& final = h.replicas()[0];
    // Every inserted id is visible unless some operation removed it.
    std::set<Sequence::Id> inserted, removed;
    std::map<Sequence::Id, std::string> values;
    for (const Sequence& op : h.ops()) {
      for (const auto& [id, value] : op.Present()) {
        inserted.insert(id);
        values[id] = value;
      }
    }
    for (const Sequence& op : h.ops()) {
      for (const Sequence::Id& id : op.Removed()) removed.insert(id);
    }
    std::map<Sequence::Id, std::size_t> position;
    for (const auto& [id, value] : final.Elements()) {
      CHECK(inserted.count(id) == 1);
      CHECK(removed.count(id) == 0);
      CHECK(values[id] == value);
      position[id] = position.size();
    }
    for (const Sequence::Id& id : inserted) CHECK((position.count(id) == 1) == !removed.count(id));
    // RGA's intent: an element comes after the element it was inserted after.
    for (const auto& [id, at] : position) {
      const auto origin = final.Origin(id);
      REQUIRE(origin.has_value());
      if (position.count(*origin)) CHECK(position[*origin] < at);
    }
    CHECK(final.size() <= inserted.size());
  }
}

TEST_CASE("Sequence: with every delta delivered at once, it behaves as a Redis list") {
  std::mt19937_64 rng(17);
  Sequence replicas[3];
  std::deque<std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const int r = i % 3;
    const std::string actor = "n" + std::to_string(r);
    const int what = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string v = std::to_string(i);
    Sequence delta;
    std::optional<std::string> popped;
    if (what < 35) {
      delta = replicas[r].PushBack(actor, v);
      model.push_back(v);
    } else if (what < 65) {
      delta = replicas[r].PushFront(actor, v);
      model.push_front(v);
    } else if (what < 82) {
      delta = replicas[r].PopFront(&popped);
      CHECK(popped == (model.empty() ? std::nullopt : std::optional<std::string>(model.front())));
      if (!model.empty()) model.pop_front();
    } else {
      delta = replicas[r].PopBack(&popped);
      CHECK(popped == (model.empty() ? std::nullopt : std::optional<std::string>(model.back())));
      if (!model.empty()) model.pop_back();
    }
    for (Sequence& other : replicas) other.Join(delta);
    CHECK(replicas[(r + 1) % 3].Values() == Strings(model.begin(), model.end()));
  }
}

}  // namespace dynakv::crdt
