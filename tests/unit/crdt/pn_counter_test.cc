#include "crdt/pn_counter.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dynakv::crdt {
namespace {

using namespace std::string_literals;

PnCounter::Reset MakeReset(const PnCounter& observed, std::int64_t ts, std::string origin,
                           bool deleted, std::int64_t base) {
  PnCounter::Reset reset;
  reset.timestamp_us = ts;
  reset.origin = std::move(origin);
  reset.deleted = deleted;
  reset.base = deleted ? 0 : base;
  reset.floor = observed.entries();
  return reset;
}

PnCounter Joined(PnCounter a, const PnCounter& b) {
  a.Join(b);
  return a;
}

// A replica of the model below: its counter state plus which operations it has seen.
struct Replica {
  PnCounter state;
  std::set<int> seen;  // ids of increments this replica's state includes
};

struct Op {
  std::int64_t delta = 0;
};

struct ResetRecord {
  PnCounter::Reset reset;
  std::set<int> seen;  // the increments it observed
};

// Random histories over `actors` replicas: increments (each replica increments only its own
// actor), resets observing the replica's state, and one-way state transfers in between.
struct History {
  std::vector<Replica> replicas;
  std::vector<Op> ops;
  std::vector<ResetRecord> resets;

  History(std::uint64_t seed, int actors, int steps) : replicas(actors) {
    std::mt19937_64 rng(seed);
    std::int64_t clock = 1000;
    for (int step = 0; step < steps; ++step) {
      const int r = static_cast<int>(rng() % actors);
      Replica& replica = replicas[r];
      switch (rng() % 10) {
        case 0: {
          const bool deleted = rng() % 3 == 0;
          const std::int64_t base = static_cast<std::int64_t>(rng() % 2001) - 1000;
          ResetRecord record{
              MakeReset(replica.state, clock += rng() % 3, "n" + std::to_string(r), deleted, base),
              replica.seen};
          replica.state.ApplyReset(record.reset);
          resets.push_back(std::move(record));
          break;
        }
        case 1:
        case 2:
        case 3: {
          const int to = static_cast<int>(rng() % actors);
          replicas[to].state.Join(replica.state);
          replicas[to].seen.insert(replica.seen.begin(), replica.seen.end());
          break;
        }
        default: {
          const std::int64_t delta = static_cast<std::int64_t>(rng() % 21) - 10;
          REQUIRE(replica.state.Increment("n" + std::to_string(r), delta));
          replica.seen.insert(static_cast<int>(ops.size()));
          ops.push_back(Op{delta});
        }
      }
    }
  }

  // What a state that saw everything must show: the last reset's base plus every increment it
  // did not observe.
  std::pair<bool, std::int64_t> Expected() const {
    const ResetRecord* winner = nullptr;
    for (const ResetRecord& record : resets) {
      if (winner == nullptr || winner->reset < record.reset) winner = &record;
    }
    bool exists = winner != nullptr && !winner->reset.deleted;
    std::int64_t value = winner == nullptr ? 0 : winner->reset.base;
    std::map<int, std::pair<std::uint64_t, std::uint64_t>> unobserved;
    for (int id = 0; id < static_cast<int>(ops.size()); ++id) {
      if (winner != nullptr && winner->seen.count(id)) continue;
      value += ops[id].delta;
      if (ops[id].delta != 0) exists = true;
    }
    return {exists, value};
  }
};

TEST_CASE("pn_counter: increments per actor add up, and a fresh counter does not exist") {
  PnCounter counter;
  CHECK_FALSE(counter.Exists());
  CHECK(counter.Value() == 0);
  CHECK(counter.Increment("a", 5));
  CHECK(counter.Increment("b", -3));
  CHECK(counter.Increment("a", -1));
  CHECK(counter.Exists());
  CHECK(counter.Value() == 1);
  CHECK(counter.entries().at("a") == PnCounter::Entry{5, 1});
  CHECK(counter.entries().at("b") == PnCounter::Entry{0, 3});
}

TEST_CASE("pn_counter: an entry that would pass 2^64-1 is refused and nothing changes") {
  PnCounter counter;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  CHECK(counter.Increment("a", kMax));
  CHECK(counter.Increment("a", kMax));
  CHECK(counter.Increment("a", 1));  // p = 2^64 - 1
  const PnCounter before = counter;
  CHECK_FALSE(counter.Increment("a", 1));
  CHECK(counter == before);
  CHECK(counter.Increment("a", kMin));  // n = 2^63
  CHECK(counter.Increment("a", kMin + 1));
  CHECK_FALSE(counter.Increment("a", -2));
  // A refused first increment leaves no entry behind (encodings stay canonical).
  PnCounter fresh;
  CHECK(fresh.Increment("z", 0));
  CHECK(fresh.entries().empty());
}

TEST_CASE("pn_counter: the value saturates at the int64 range") {
  PnCounter counter;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(counter.Increment("a", kMax));
  CHECK(counter.Increment("b", kMax));
  CHECK(counter.Value() == kMax);
  CHECK(counter.Increment("c", std::numeric_limits<std::int64_t>::min()));
  CHECK(counter.Increment("d", std::numeric_limits<std::int64_t>::min()));
  CHECK(counter.Increment("e", std::numeric_limits<std::int64_t>::min()));
  CHECK(counter.Value() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("pn_counter: a reset replaces what it observed and keeps concurrent increments") {
  PnCounter a;
  REQUIRE(a.Increment("a", 10));
  PnCounter b = a;               // b has seen a's 10
  REQUIRE(a.Increment("a", 7));  // concurrent with the reset below
  b.ApplyReset(MakeReset(b, 100, "b", false, 3));
  CHECK(b.Value() == 3);
  REQUIRE(b.Increment("b", 1));  // after the reset
  const PnCounter merged = Joined(a, b);
  CHECK(merged.Value() == 3 + 7 + 1);
  CHECK(merged == Joined(b, a));
}

TEST_CASE("pn_counter: a delete leaves the key absent unless increments it did not see exist") {
  PnCounter a;
  REQUIRE(a.Increment("a", 4));
  PnCounter b = a;
  b.ApplyReset(MakeReset(b, 100, "b", true, 0));
  CHECK_FALSE(b.Exists());
  CHECK_FALSE(Joined(a, b).Exists());  // a holds nothing b did not see

  REQUIRE(a.Increment("a", 2));  // concurrent with the delete
  const PnCounter merged = Joined(a, b);
  CHECK(merged.Exists());
  CHECK(merged.Value() == 2);

  // An increment and a decrement the delete did not see still make the key exist, as 0.
  PnCounter c = b;
  REQUIRE(c.Increment("c", 1));
  REQUIRE(c.Increment("c", -1));
  CHECK(c.Exists());
  CHECK(c.Value() == 0);
}

TEST_CASE("pn_counter: concurrent resets: the later one wins, what only the loser saw counts") {
  PnCounter base;
  REQUIRE(base.Increment("a", 1));
  PnCounter x = base;
  PnCounter y = base;
  REQUIRE(x.Increment("a", 5));  // x is a's replica: sees 5 more before its reset
  x.ApplyReset(MakeReset(x, 200, "x", false, 100));
  y.ApplyReset(MakeReset(y, 300, "y", false, 50));  // later, saw only the first 1
  const PnCounter merged = Joined(x, y);
  CHECK(merged.reset().origin == "y");
  CHECK(merged.Value() == 50 + 5);
}

TEST_CASE("pn_counter: join is commutative, associative and idempotent over random histories") {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    History history(seed, 3 + static_cast<int>(seed % 3), 60);
    const auto& r = history.replicas;
    const PnCounter& a = r[0].state;
    const PnCounter& b = r[1].state;
    const PnCounter& c = r[2].state;
    CHECK(Joined(a, b) == Joined(b, a));
    CHECK(Joined(Joined(a, b), c) == Joined(a, Joined(b, c)));
    CHECK(Joined(a, a) == a);
    CHECK(Joined(Joined(a, b), b) == Joined(a, b));
    CHECK(Joined(a, b).Encode() == Joined(b, a).Encode());

    // Every replica joined in any order: one state, one encoding, the model's value.
    PnCounter forward;
    PnCounter backward;
    for (std::size_t i = 0; i < r.size(); ++i) {
      forward.Join(r[i].state);
      backward.Join(r[r.size() - 1 - i].state);
    }
    CHECK(forward == backward);
    CHECK(forward.Encode() == backward.Encode());
    const auto [exists, value] = history.Expected();
    CHECK(forward.Exists() == exists);
    if (exists) CHECK(forward.Value() == value);
  }
}

TEST_CASE("pn_counter: the encoding round-trips and is canonical") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    History history(seed, 4, 40);
    for (const Replica& replica : history.replicas) {
      const std::string bytes = replica.state.Encode();
      PnCounter decoded;
      REQUIRE(PnCounter::Decode(bytes, &decoded));
      CHECK(decoded == replica.state);
      CHECK(decoded.Encode() == bytes);
      // Any truncation or trailing byte is refused.
      for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CHECK_FALSE(PnCounter::Decode(std::string_view(bytes).substr(0, cut), &decoded));
      }
      CHECK_FALSE(PnCounter::Decode(bytes + '\0', &decoded));
    }
  }
}

TEST_CASE("pn_counter: decode refuses non-canonical and impossible states") {
  PnCounter counter;
  REQUIRE(counter.Increment("a", 3));
  REQUIRE(counter.Increment("b", -2));
  const std::string good = counter.Encode();
  PnCounter decoded;
  REQUIRE(PnCounter::Decode(good, &decoded));

  std::string bad_format = good;
  bad_format[0] = 2;
  CHECK_FALSE(PnCounter::Decode(bad_format, &decoded));
  std::string bad_flag = good;
  bad_flag[1] = 4;
  CHECK_FALSE(PnCounter::Decode(bad_flag, &decoded));

  // Entries out of order: swap by building the bytes by hand (format, flags, ts 0, origin "",
  // base 0, expiry 0, empty floor, then 2 entries "b" before "a").
  const std::string unsorted =
      "\x01\x01\x00\x00\x00\x00\x00\x02\x01"
      "b\x00\x02\x01"
      "a\x03\x00"s;
  CHECK_FALSE(PnCounter::Decode(unsorted, &decoded));
  const std::string sorted =
      "\x01\x01\x00\x00\x00\x00\x00\x02\x01"
      "a\x03\x00\x01"
      "b\x00\x02"s;
  REQUIRE(PnCounter::Decode(sorted, &decoded));
  CHECK(decoded == counter);
  // A zero entry, and a non-minimal varint, are second encodings of the same state.
  const std::string zero =
      "\x01\x01\x00\x00\x00\x00\x00\x01\x01"
      "a\x00\x00"s;
  CHECK_FALSE(PnCounter::Decode(zero, &decoded));
  const std::string long_varint =
      "\x01\x01\x00\x00\x00\x00\x00\x01\x01"
      "a\x83\x00\x00"s;
  CHECK_FALSE(PnCounter::Decode(long_varint, &decoded));
  // A floor above the entries.
  const std::string high_floor =
      "\x01\x01\x00\x00\x00\x00\x01\x01"
      "a\x05\x00\x01\x01"
      "a\x03\x00"s;
  CHECK_FALSE(PnCounter::Decode(high_floor, &decoded));
}

}  // namespace
}  // namespace dynakv::crdt
