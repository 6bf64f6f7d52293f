// Helpers shared by the crdt tests: replicas exchanging deltas through a lossy, duplicating,
// reordering "network", and an oracle for which writes must still be visible.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crdt/add_wins_map.h"
#include "crdt/causal_context.h"
#include "crdt/or_set.h"
#include "crdt/or_sorted_set.h"

namespace dynakv::crdt::testing {

// A dot named by its actor id, comparable across values (indexes are per value).
using GlobalDot = std::pair<std::string, std::uint64_t>;
using LiveDots = std::map<std::string, std::set<GlobalDot>>;  // element -> its dots

inline GlobalDot Global(const CausalContext& ctx, Dot d) { return {ctx.actor(d.actor), d.counter}; }

inline bool Covers(const CausalContext& ctx, const GlobalDot& d) {
  const std::uint32_t a = ctx.Find(d.first);
  return a != kNoActor && ctx.Contains(Dot{a, d.second});
}

inline LiveDots DotsOf(const ORSet& s) {
  LiveDots out;
  for (const auto& m : s.Members()) {
    for (const Dot& d : *s.Find(m)) out[m].insert(Global(s.context(), d));
  }
  return out;
}

template <typename T>
LiveDots DotsOf(const FieldStore<T>& s) {
  LiveDots out;
  for (const auto& [name, field] : s.fields()) {
    for (const auto& r : field.registers) out[name].insert(Global(s.context(), r.dot));
    for (const auto& t : field.totals) out[name].insert(Global(s.context(), t.dot));
  }
  return out;
}
inline LiveDots DotsOf(const AddWinsMap& m) { return DotsOf(m.store()); }
inline LiveDots DotsOf(const ORSortedSet& z) { return DotsOf(z.store()); }

// Decode(Encode(v)) must give back the same bytes: the encoding is canonical and lossless.
template <typename V>
V RoundTrip(const V& v) {
  const std::string bytes = v.Encode();
  V out;
  REQUIRE(V::Decode(bytes, &out));
  REQUIRE(out.Encode() == bytes);
  return out;
}

template <typename V>
V Joined(V a, const V& b) {
  a.Join(b);
  return a;
}

// The values a replica joins into their encoding (JoinEncoded): History checks every delivery
// against the decoded join.
template <typename V>
concept JoinsEncoded = requires(const V& v, std::string* out, std::size_t* n) {
  V::JoinEncoded(std::string_view(), v, out, n);
};
static_assert(JoinsEncoded<ORSet> && JoinsEncoded<AddWinsMap> && JoinsEncoded<ORSortedSet>);

// Three replicas, each writing as its own actor (an actor id changes on a "restart": a new
// incarnation, as a node's). Every delta an operation returns goes on the network, where it can
// be delivered to any replica, any number of times, in any order, or never until Finish.
template <typename V>
class History {
 public:
  // op(rng, replica, actor) runs one random operation on the replica and returns its delta.
  using Op = V (*)(std::mt19937_64&, V&, const std::string&);

  // Every replica starts from `base` (say a large value all have, so that deltas take the joins'
  // small path), which counts as the first operation.
  History(std::uint64_t seed, Op op, const V& base = V()) : rng_(seed), op_(op) {
    for (int i = 0; i < 3; ++i) actors_.push_back("n" + std::to_string(i + 1) + "#1");
    replicas_.assign(3, base);
    ops_.push_back(base);
    deltas_.push_back(base.Encode());
  }

  void Run(int steps) {
    for (int i = 0; i < steps; ++i) Step();
  }

  void Step() {
    const int r = Pick(3);
    const int what = Pick(100);
    if (what < 50) {
      const V delta = op_(rng_, replicas_[r], actors_[r]);
      deltas_.push_back(RoundTrip(delta).Encode());
      ops_.push_back(delta);
    } else if (what < 85 && !deltas_.empty()) {
      Deliver(deltas_[Pick(deltas_.size())], &replicas_[r]);
    } else if (what < 95) {
      Deliver(replicas_[Pick(3)].Encode(), &replicas_[r]);  // anti-entropy: a whole state
    } else if (what < 97) {
      actors_[r] = "n" + std::to_string(r + 1) + "#" + std::to_string(++restarts_ + 1);
    } else {
      CheckJoinLaws();
    }
  }

  // Every delta to every replica, in a fresh random order each: all must then hold the same
  // bytes, and those of a new replica that got only the deltas, in yet another order.
  void Finish() {
    V fresh;
    replicas_.push_back(fresh);
    for (V& replica : replicas_) {
      std::vector<std::size_t> order(deltas_.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng_);
      for (std::size_t i : order) Deliver(deltas_[i], &replica);
    }
    const std::string bytes = replicas_[0].Encode();
    for (const V& replica : replicas_) CHECK(replica.Encode() == bytes);
    replicas_.pop_back();
    CheckJoinLaws();
  }

  // What the history says must be visible: every dot an operation created that no other
  // operation's delta covers (a later write, remove or reset that saw it).
  LiveDots ExpectedLive() const {
    LiveDots created;
    std::vector<std::pair<std::size_t, GlobalDot>> origin;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      for (const auto& [element, dots] : DotsOf(ops_[i])) {
        for (const GlobalDot& d : dots) origin.push_back({i, d});
      }
    }
    LiveDots live;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      for (const auto& [element, dots] : DotsOf(ops_[i])) {
        for (const GlobalDot& d : dots) {
          bool covered = false;
          for (std::size_t j = 0; j < ops_.size() && !covered; ++j) {
            covered = j != i && Covers(ops_[j].context(), d);
          }
          if (!covered) live[element].insert(d);
        }
      }
    }
    return live;
  }

  void CheckJoinLaws() {
    const V& a = replicas_[0];
    const V& b = replicas_[1];
    const V& c = replicas_[2];
    CHECK(Joined(a, b).Encode() == Joined(b, a).Encode());
    CHECK(Joined(Joined(a, b), c).Encode() == Joined(a, Joined(b, c)).Encode());
    CHECK(Joined(a, a).Encode() == a.Encode());
    RoundTrip(a);
  }

  const std::vector<V>& replicas() const { return replicas_; }
  const std::vector<V>& ops() const { return ops_; }
  std::vector<std::string> Encodings() const {
    std::vector<std::string> out = deltas_;
    for (const V& r : replicas_) out.push_back(r.Encode());
    return out;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  void Deliver(const std::string& bytes, V* to) {
    V v;
    REQUIRE(V::Decode(bytes, &v));
    if constexpr (JoinsEncoded<V>) {
      // The join a replica runs over its encoded copy gives the bytes of the decoded join.
      std::string joined;
      std::size_t size = 0;
      REQUIRE(V::JoinEncoded(to->Encode(), v, &joined, &size));
      to->Join(v);
      CHECK(joined == to->Encode());
      CHECK(size == to->size());
      return;
    }
    to->Join(v);
  }

  std::mt19937_64 rng_;
  Op op_;
  std::vector<std::string> actors_;
  std::vector<V> replicas_;
  std::vector<V> ops_;
  std::vector<std::string> deltas_;
  int restarts_ = 0;
};

inline std::string RandomElement(std::mt19937_64& rng, int alphabet) {
  return "e" + std::to_string(std::uniform_int_distribution<int>(0, alphabet - 1)(rng));
}

}  // namespace dynakv::crdt::testing

namespace dynakv::crdt::testing {

// Every register and total a replica holds is the one its dot's operation wrote: payloads
// travel with their dots unchanged through any number of joins.
template <typename T, typename V>
void CheckPayloads(const FieldStore<T>& final, const std::vector<V>& ops) {
  std::map<GlobalDot, std::pair<std::int64_t, typename T::Value>> registers;
  std::map<GlobalDot, typename T::Total> totals;
  for (const V& op : ops) {
    const auto& s = op.store();
    for (const auto& [name, field] : s.fields()) {
      for (const auto& r : field.registers) {
        registers[Global(s.context(), r.dot)] = {r.timestamp_us, r.value};
      }
      for (const auto& t : field.totals) totals[Global(s.context(), t.dot)] = t.total;
    }
  }
  for (const auto& [name, field] : final.fields()) {
    for (const auto& r : field.registers) {
      const auto& expected = registers.at(Global(final.context(), r.dot));
      CHECK(expected.first == r.timestamp_us);
      CHECK(expected.second == r.value);
    }
    for (const auto& t : field.totals) CHECK(totals.at(Global(final.context(), t.dot)) == t.total);
  }
}

}  // namespace dynakv::crdt::testing
