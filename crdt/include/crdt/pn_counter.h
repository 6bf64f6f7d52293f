// A PN-counter with causal reset: the state behind INCR/DECR in cluster mode.
//
// Increments: every actor (a node incarnation: node id plus an id created with its data
// directory) keeps its own totals of increments (p) and decrements (n). Only the actor itself
// ever changes its entry, so replicas join entries by taking the larger totals, and a replica
// that has seen every increment holds every total exactly (Riak's and Cassandra's counters).
//
// Reset: SET, DEL, EXPIRE, ... of a counter key write a reset register: the value set (`base`,
// or `deleted`), the expiry, and the entries the writer had seen (`floor`). Registers are
// last-write-wins by (timestamp, origin). The value is
//     base + sum over actors of (p - floor.p) - (n - floor.n)
// under the winning register: increments the reset saw are replaced by its base, increments
// concurrent with it are added on top. A deleted counter exists again only when an actor moved
// past the floor (an increment the DEL did not see).
//
// Join is commutative, associative and idempotent, and the encoding is canonical (sorted
// entries, no zero entries), so replicas that saw the same writes store identical bytes.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace dynakv::crdt {

class PnCounter {
 public:
  struct Entry {
    std::uint64_t p = 0;  // sum of increments
    std::uint64_t n = 0;  // sum of decrements (magnitudes)
    auto operator<=>(const Entry&) const = default;
  };
  using Entries = std::map<std::string, Entry, std::less<>>;

  struct Reset {
    std::int64_t timestamp_us = 0;  // hybrid logical time of the reset
    std::string origin;             // the node that wrote it: breaks timestamp ties
    bool deleted = true;            // the state before any reset: no value
    std::int64_t base = 0;
    std::int64_t expire_at_ms = 0;  // absolute unix ms, 0: never
    Entries floor;                  // the entries the reset observed
    auto operator<=>(const Reset&) const = default;
  };

  // Adds `delta` to `actor`'s own entry. False (nothing changed) when its total would pass
  // 2^64 - 1: the caller answers with the overflow error.
  bool Increment(std::string_view actor, std::int64_t delta);
  // Joins `reset` into the register (the last write wins); its floor joins the entries.
  void ApplyReset(Reset reset);
  // The least upper bound of the two states.
  void Join(const PnCounter& other);

  // Whether the key holds a value: not deleted, or an actor moved past the deleted floor.
  bool Exists() const;
  // The formula above, saturated to the int64 range (concurrent increments, each within range
  // where it was made, can add up past it).
  std::int64_t Value() const;

  const Entries& entries() const { return entries_; }
  const Reset& reset() const { return reset_; }

  void EncodeTo(std::string* dst) const;
  std::string Encode() const;
  // Strict: false on truncation, trailing bytes, unsorted or zero entries, an unknown format
  // or flag, or a floor above the entries (no join produces one).
  static bool Decode(std::string_view bytes, PnCounter* counter);

  bool operator==(const PnCounter&) const = default;

 private:
  Entries entries_;
  Reset reset_;
};

}  // namespace dynakv::crdt
