// The OR sorted set: observed-remove members, an LWW score (ZADD) and per-actor increments
// (ZINCRBY) on top of it.
#include "crdt/or_sorted_set.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

#include "crdt_test_util.h"

namespace dynakv::crdt {

using testing::History;

TEST_CASE("ORSortedSet: ZADD then ZINCRBY adds; ZINCRBY then ZADD replaces, as Redis") {
  ORSortedSet z;
  z.Add("n1", "m", 1, 10);
  ORSortedSet delta;
  double score;
  REQUIRE(z.IncrBy("n1", "m", 2.5, &score, &delta));
  CHECK(score == 12.5);
  z.Add("n1", "m", 2, 1);
  CHECK(z.Score("m") == 1.0);
  REQUIRE(z.IncrBy("n2", "new", -3, &score, &delta));  // a new member starts at 0
  CHECK(z.Score("new") == -3.0);
  CHECK(z.Range() == std::vector<std::pair<std::string, double>>{{"new", -3}, {"m", 1}});
}

TEST_CASE("ORSortedSet: a ZADD and a concurrent ZINCRBY: the ZADD's score plus the increment") {
  ORSortedSet a, b;
  b.Join(a.Add("n1", "m", 1, 5));
  const auto add = a.Add("n1", "m", 2, 100);
  ORSortedSet inc;
  double score;
  REQUIRE(b.IncrBy("n2", "m", 3, &score, &inc));
  CHECK(score == 8);
  a.Join(inc);
  b.Join(add);
  CHECK(a.Score("m") == 103.0);
  CHECK(b.Score("m") == 103.0);
  CHECK(a.Encode() == b.Encode());
}

TEST_CASE(
    "ORSortedSet: concurrent ZADDs: the later timestamp wins; concurrent ZINCRBYs all count") {
  ORSortedSet r[3];
  std::vector<ORSortedSet> deltas;
  deltas.push_back(r[0].Add("n1", "m", 50, 1));
  deltas.push_back(r[1].Add("n2", "m", 60, 2));
  double score;
  for (int i = 0; i < 3; ++i) {
    ORSortedSet d;
    REQUIRE(r[i].IncrBy("n" + std::to_string(i + 1), "m", 0.5, &score, &d));
    deltas.push_back(d);
  }
  for (auto& replica : r) {
    for (const auto& d : deltas) replica.Join(d);
  }
  // The n1 and n2 increments each saw their own ZADD only, so both survive, as does n3's.
  CHECK(r[0].Score("m") == 2 + 1.5);
  CHECK(r[0].Encode() == r[1].Encode());
  CHECK(r[1].Encode() == r[2].Encode());
}

TEST_CASE("ORSortedSet: ZREM removes what it saw; a concurrent ZINCRBY keeps the member") {
  ORSortedSet a, b;
  b.Join(a.Add("n1", "m", 1, 7));
  const auto rem = a.Remove("m");
  ORSortedSet inc;
  double score;
  REQUIRE(b.IncrBy("n2", "m", 1, &score, &inc));
  a.Join(inc);
  b.Join(rem);
  CHECK(a.Score("m") == 1.0);  // the ZADD's 7 was removed; the unseen increment stays
  CHECK(b.Score("m") == 1.0);
  const auto reset = a.Reset();
  b.Join(reset);
  CHECK(b.size() == 0);
}

TEST_CASE("ORSortedSet: NaN is refused; +inf and -inf meeting read as 0") {
  ORSortedSet z;
  CHECK(z.Add("n1", "m", 1, std::nan("")).empty());
  CHECK(z.size() == 0);
  z.Add("n1", "m", 1, std::numeric_limits<double>::infinity());
  ORSortedSet d;
  double score;
  CHECK_FALSE(z.IncrBy("n1", "m", -std::numeric_limits<double>::infinity(), &score, &d));
  CHECK(d.empty());
  ORSortedSet a, b;
  ORSortedSet da, db;
  REQUIRE(a.IncrBy("n1", "m", std::numeric_limits<double>::infinity(), &score, &da));
  REQUIRE(b.IncrBy("n2", "m", -std::numeric_limits<double>::infinity(), &score, &db));
  a.Join(db);
  CHECK(a.Score("m") == 0.0);
}

namespace {

ORSortedSet ZsetOp(std::mt19937_64& rng, ORSortedSet& z, const std::string& actor, int alphabet) {
  const int what = std::uniform_int_distribution<int>(0, 99)(rng);
  const std::string m = testing::RandomElement(rng, alphabet);
  const std::int64_t ts = std::uniform_int_distribution<int>(0, 20)(rng);
  if (what < 35) return z.Add(actor, m, ts, std::uniform_int_distribution<int>(-50, 50)(rng) / 4.0);
  if (what < 65) {
    ORSortedSet delta;
    double score;
    z.IncrBy(actor, m, std::uniform_int_distribution<int>(-8, 8)(rng) / 8.0, &score, &delta);
    return delta;
  }
  if (what < 96) return z.Remove(m);
  return z.Reset();
}
ORSortedSet RandomZsetOp(std::mt19937_64& rng, ORSortedSet& z, const std::string& actor) {
  return ZsetOp(rng, z, actor, 6);
}
ORSortedSet WideZsetOp(std::mt19937_64& rng, ORSortedSet& z, const std::string& actor) {
  return ZsetOp(rng, z, actor, 300);
}

}  // namespace

TEST_CASE(
    "ORSortedSet: random histories converge to identical bytes and keep exactly the writes "
    "no ZREM or later write observed") {
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    CAPTURE(seed);
    History<ORSortedSet> h(seed, RandomZsetOp);
    h.Run(250);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
    testing::CheckPayloads(h.replicas()[0].store(), h.ops());
  }
}

TEST_CASE(
    "ORSortedSet: the same over a large sorted set, where deltas join through the dot index") {
  ORSortedSet base;
  for (int i = 0; i < 280; ++i) {
    const std::string m = "e" + std::to_string(i);
    ORSortedSet ignored;
    double score;
    if (i % 2 == 0) base.Add("n0#1", m, i % 20, i);
    base.IncrBy("n0#1", m, 0.5, &score, &ignored);
  }
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    History<ORSortedSet> h(seed, WideZsetOp, base);
    h.Run(400);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
    testing::CheckPayloads(h.replicas()[0].store(), h.ops());
  }
}

TEST_CASE("ORSortedSet: with every delta delivered at once, it behaves as a Redis sorted set") {
  std::mt19937_64 rng(11);
  ORSortedSet replicas[3];
  std::map<std::string, double> model;
  for (int i = 0; i < 3000; ++i) {
    const int r = i % 3;
    const std::string actor = "n" + std::to_string(r);
    const int what = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string m = testing::RandomElement(rng, 20);
    ORSortedSet delta;
    if (what < 40) {
      const double s = static_cast<int>(rng() % 64) / 4.0;
      delta = replicas[r].Add(actor, m, i, s);
      model[m] = s;
    } else if (what < 75) {
      const double by = static_cast<int>(rng() % 17) / 8.0 - 1;
      double score;
      REQUIRE(replicas[r].IncrBy(actor, m, by, &score, &delta));
      model[m] += by;  // exact: eighths
      CHECK(score == model[m]);
    } else if (what < 99) {
      delta = replicas[r].Remove(m);
      model.erase(m);
    } else {
      delta = replicas[r].Reset();
      model.clear();
    }
    for (ORSortedSet& other : replicas) other.Join(delta);
    const auto range = replicas[(r + 1) % 3].Range();
    CHECK(std::map<std::string, double>(range.begin(), range.end()) == model);
    CHECK(std::is_sorted(range.begin(), range.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second < y.second : x.first < y.first;
    }));
  }
}

}  // namespace dynakv::crdt
