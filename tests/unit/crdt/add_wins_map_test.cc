// The add-wins map (hashes): LWW-register fields, counter fields, HDEL removing only what it saw.
#include "crdt/add_wins_map.h"

#include <doctest/doctest.h>

#include <limits>
#include <map>

#include "crdt_test_util.h"

namespace dynakv::crdt {

using testing::History;
using testing::RoundTrip;

TEST_CASE("AddWinsMap: concurrent HSETs of different fields both survive") {
  AddWinsMap a, b;
  const auto da = a.Set("n1", "f1", 100, "x");
  const auto db = b.Set("n2", "f2", 90, "y");
  a.Join(db);
  b.Join(da);
  CHECK(a.Entries() == std::vector<std::pair<std::string, std::string>>{{"f1", "x"}, {"f2", "y"}});
  CHECK(a.Encode() == b.Encode());
}

TEST_CASE("AddWinsMap: concurrent HSETs of one field: the later timestamp, then the larger actor") {
  AddWinsMap a, b;
  const auto da = a.Set("n1", "f", 200, "late");
  const auto db = b.Set("n2", "f", 100, "early");
  a.Join(db);
  b.Join(da);
  CHECK(a.Get("f") == "late");
  CHECK(b.Get("f") == "late");
  CHECK(a.store().Find("f")->registers.size() == 2);  // the loser is kept until a write sees it
  const auto later = b.Set("n2", "f", 300, "final");
  a.Join(later);
  CHECK(a.store().Find("f")->registers.size() == 1);
  CHECK(a.Get("f") == "final");

  AddWinsMap c, d;  // a timestamp tie: the larger actor id wins, on both sides
  const auto dc = c.Set("n1", "f", 5, "from-n1");
  const auto dd = d.Set("n2", "f", 5, "from-n2");
  c.Join(dd);
  d.Join(dc);
  CHECK(c.Get("f") == "from-n2");
  CHECK(d.Get("f") == "from-n2");
}

TEST_CASE("AddWinsMap: HDEL removes only what it saw; a concurrent HSET survives") {
  AddWinsMap a, b;
  b.Join(a.Set("n1", "f", 1, "v1"));
  const auto del = a.Remove("f");
  const auto set = b.Set("n2", "f", 2, "v2");
  a.Join(set);
  b.Join(del);
  CHECK(a.Get("f") == "v2");
  CHECK(b.Get("f") == "v2");
  CHECK(a.Encode() == b.Encode());
  CHECK(a.Remove("absent").empty());
}

TEST_CASE("AddWinsMap: HINCRBY through three replicas: every increment counts") {
  AddWinsMap r[3];
  std::vector<AddWinsMap> deltas;
  std::int64_t result = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3; ++i) {
      AddWinsMap delta;
      REQUIRE(r[i].IncrBy("n" + std::to_string(i), "hits", i + 1, &result, &delta) ==
              AddWinsMap::IncrStatus::kOk);
      deltas.push_back(delta);
    }
  }
  for (auto& replica : r) {
    for (auto it = deltas.rbegin(); it != deltas.rend(); ++it) replica.Join(*it);
  }
  CHECK(r[0].Get("hits") == "60");
  CHECK(r[0].store().Find("hits")->totals.size() == 3);  // one total per actor, not per HINCRBY
  CHECK(r[0].Encode() == r[2].Encode());
}

TEST_CASE("AddWinsMap: HINCRBY refuses a non-integer and an overflow, as Redis") {
  AddWinsMap m;
  m.Set("n1", "s", 1, "abc");
  m.Set("n1", "big", 1, std::to_string(std::numeric_limits<std::int64_t>::max()));
  AddWinsMap delta;
  std::int64_t result;
  CHECK(m.IncrBy("n1", "s", 1, &result, &delta) == AddWinsMap::IncrStatus::kNotInteger);
  CHECK(m.IncrBy("n1", "big", 1, &result, &delta) == AddWinsMap::IncrStatus::kOverflow);
  CHECK(delta.empty());
  CHECK(m.IncrBy("n1", "big", -5, &result, &delta) == AddWinsMap::IncrStatus::kOk);
  CHECK(result == std::numeric_limits<std::int64_t>::max() - 5);
  CHECK(m.Get("big") == std::to_string(result));
  m.Set("n1", "lead", 1, "007");  // not an integer to Redis either
  CHECK(m.IncrBy("n1", "lead", 1, &result, &delta) == AddWinsMap::IncrStatus::kNotInteger);
}

TEST_CASE("AddWinsMap: HSET then HINCRBY, and HSET concurrent with HINCRBY") {
  AddWinsMap a, b;
  b.Join(a.Set("n1", "f", 1, "10"));
  AddWinsMap inc;
  std::int64_t result;
  REQUIRE(b.IncrBy("n2", "f", 5, &result, &inc) == AddWinsMap::IncrStatus::kOk);
  CHECK(result == 15);
  const auto set = a.Set("n1", "f", 2, "100");  // concurrent with the increment
  a.Join(inc);
  b.Join(set);
  CHECK(a.Get("f") == "105");
  CHECK(b.Get("f") == "105");
  // An HSET that saw the increment replaces it.
  b.Join(b.Set("n2", "f", 3, "7"));
  CHECK(b.Get("f") == "7");
  // A non-integer HSET concurrent with an increment reads as the HSET's value.
  AddWinsMap c = b, d = b;
  AddWinsMap inc2;
  REQUIRE(c.IncrBy("n3", "f", 1, &result, &inc2) == AddWinsMap::IncrStatus::kOk);
  const auto text = d.Set("n4", "f", 4, "text");
  c.Join(text);
  d.Join(inc2);
  CHECK(c.Get("f") == "text");
  CHECK(c.Encode() == d.Encode());
}

TEST_CASE("AddWinsMap: HDEL concurrent with HINCRBY keeps the incrementing actor's total") {
  AddWinsMap a, b;
  AddWinsMap d1, d2;
  std::int64_t result;
  REQUIRE(a.IncrBy("n1", "f", 3, &result, &d1) == AddWinsMap::IncrStatus::kOk);
  REQUIRE(b.IncrBy("n2", "f", 4, &result, &d2) == AddWinsMap::IncrStatus::kOk);
  a.Join(d2);
  b.Join(d1);
  const auto del = a.Remove("f");  // saw n1:3 and n2:4
  AddWinsMap inc;
  REQUIRE(b.IncrBy("n2", "f", 10, &result, &inc) == AddWinsMap::IncrStatus::kOk);
  a.Join(inc);
  b.Join(del);
  // n1's seen total is gone; n2's increment was concurrent, so n2's total (4 + 10) stays.
  CHECK(a.Get("f") == "14");
  CHECK(b.Get("f") == "14");
}

TEST_CASE("AddWinsMap: Reset removes every field it saw, not a concurrent one") {
  AddWinsMap a, b;
  b.Join(a.Set("n1", "f1", 1, "x"));
  const auto reset = a.Reset();
  const auto set = b.Set("n2", "f2", 2, "y");
  a.Join(set);
  b.Join(reset);
  CHECK(a.Entries() == std::vector<std::pair<std::string, std::string>>{{"f2", "y"}});
  CHECK(b.Encode() == a.Encode());
}

namespace {

AddWinsMap MapOp(std::mt19937_64& rng, AddWinsMap& m, const std::string& actor, int alphabet) {
  const int what = std::uniform_int_distribution<int>(0, 99)(rng);
  const std::string f = testing::RandomElement(rng, alphabet);
  // Few distinct timestamps, so ties (broken by actor id) happen.
  const std::int64_t ts = std::uniform_int_distribution<int>(0, 20)(rng);
  if (what < 35) return m.Set(actor, f, ts, "v" + std::to_string(rng() % 5));
  if (what < 65) {
    AddWinsMap delta;
    std::int64_t result;
    m.IncrBy(actor, f, std::uniform_int_distribution<int>(-5, 5)(rng), &result, &delta);
    return delta;
  }
  if (what < 96) return m.Remove(f);
  return m.Reset();
}
AddWinsMap RandomMapOp(std::mt19937_64& rng, AddWinsMap& m, const std::string& actor) {
  return MapOp(rng, m, actor, 6);
}
AddWinsMap WideMapOp(std::mt19937_64& rng, AddWinsMap& m, const std::string& actor) {
  return MapOp(rng, m, actor, 300);
}

}  // namespace

TEST_CASE(
    "AddWinsMap: random histories converge to identical bytes and keep exactly the writes "
    "no HDEL or later write observed") {
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    CAPTURE(seed);
    History<AddWinsMap> h(seed, RandomMapOp);
    h.Run(250);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
    testing::CheckPayloads(h.replicas()[0].store(), h.ops());
  }
}

TEST_CASE("AddWinsMap: the same over a large hash, where deltas join through the dot index") {
  AddWinsMap base;
  std::int64_t result;
  for (int i = 0; i < 280; ++i) {
    const std::string f = "e" + std::to_string(i);
    base.Set("n0#1", f, i % 20, "v");
    AddWinsMap ignored;
    if (i % 3 == 0) base.IncrBy("n0#1", f, 1, &result, &ignored);  // "v" + 1: refused
    if (i % 3 == 1) base.Remove(f), base.IncrBy("n0#1", f, 2, &result, &ignored);
  }
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    History<AddWinsMap> h(seed, WideMapOp, base);
    h.Run(400);
    h.Finish();
    CHECK(testing::DotsOf(h.replicas()[0]) == h.ExpectedLive());
    testing::CheckPayloads(h.replicas()[0].store(), h.ops());
  }
}

TEST_CASE("AddWinsMap: with every delta delivered at once, it behaves as a Redis hash") {
  std::mt19937_64 rng(7);
  AddWinsMap replicas[3];
  std::map<std::string, std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const int r = i % 3;
    const std::string actor = "n" + std::to_string(r);
    const int what = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string f = testing::RandomElement(rng, 20);
    AddWinsMap delta;
    if (what < 40) {
      const std::string v = rng() % 4 == 0 ? "x" : std::to_string(static_cast<int>(rng() % 100));
      delta = replicas[r].Set(actor, f, i, v);
      model[f] = v;
    } else if (what < 75) {
      std::int64_t result;
      const auto status =
          replicas[r].IncrBy(actor, f, static_cast<int>(rng() % 21) - 10, &result, &delta);
      std::int64_t current = 0;
      const bool integer = !model.count(f) || ParseRedisInteger(model[f], &current);
      CHECK((status == AddWinsMap::IncrStatus::kOk) == integer);
      if (status == AddWinsMap::IncrStatus::kOk) model[f] = std::to_string(result);
    } else if (what < 99) {
      delta = replicas[r].Remove(f);
      model.erase(f);
    } else {
      delta = replicas[r].Reset();
      model.clear();
    }
    for (AddWinsMap& other : replicas) other.Join(delta);
    const auto entries = replicas[(r + 2) % 3].Entries();
    CHECK(std::map<std::string, std::string>(entries.begin(), entries.end()) == model);
  }
}

TEST_CASE("ParseRedisInteger follows string2ll") {
  std::int64_t v;
  CHECK(ParseRedisInteger("0", &v));
  CHECK(ParseRedisInteger("-9223372036854775808", &v));
  CHECK(v == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(ParseRedisInteger("9223372036854775808", &v));
  for (const char* bad : {"", "-0", "01", "+1", " 1", "1 ", "1a", "-", "18446744073709551616"}) {
    CHECK_FALSE(ParseRedisInteger(bad, &v));
  }
}

}  // namespace dynakv::crdt
