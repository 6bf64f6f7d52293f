// The payload of a collection version (Version::collection, README: cluster mode, convergent
// collections): a convergent collection (crdt/) and the last-write-wins register of its expiry.
//
// A collection version is never a sibling of another collection of the same kind: SiblingSet::Add
// joins the two (JoinVersions), as it joins counters. Writes ship deltas: a version whose payload
// holds only what one command changed (an ORSet delta) and the register if the command set it;
// joined into any copy, in any order, duplicated or not, it gives the same state.
//
// Expiry: EXPIRE, PERSIST, DEL and a write to an expired collection set the register, stamped
// (hybrid time, origin) as any version; the later stamp wins. DEL and a write after expiry also
// remove every element their writer had seen (a reset), so elements added concurrently, which it
// could not have seen, survive it. An HLL's registers carry no dots: its reset starts a new epoch,
// which wins over writes concurrent with it (crdt/hll_state.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crdt/add_wins_map.h"
#include "crdt/hll_state.h"
#include "crdt/or_set.h"
#include "crdt/or_sorted_set.h"
#include "crdt/sequence.h"

namespace dynakv::cluster {

struct ExpiryRegister {
  std::int64_t timestamp_us = 0;  // 0: never written (joins below every written one)
  std::string origin;
  std::int64_t expire_at_ms = 0;  // absolute unix ms, 0: never
  bool operator==(const ExpiryRegister&) const = default;
};

class CollectionState {
 public:
  // A set (an observed-remove set), a hash (an add-wins map of LWW fields and counters), a list
  // (a sequence CRDT: server/cluster_lists.h), a sorted set (observed-remove members, LWW scores
  // plus per-actor increments) or a HyperLogLog (registers joined by max, in delete-wins epochs:
  // crdt/hll_state.h).
  enum class Kind : char { kSet = 'S', kHash = 'H', kList = 'L', kZset = 'Z', kHll = 'P' };

  CollectionState() = default;
  explicit CollectionState(Kind kind) : kind_(kind) {}

  Kind kind() const { return kind_; }
  // The state of the kind; the others stay empty.
  crdt::ORSet& set() { return set_; }
  const crdt::ORSet& set() const { return set_; }
  crdt::AddWinsMap& map() { return map_; }
  const crdt::AddWinsMap& map() const { return map_; }
  crdt::Sequence& list() { return list_; }
  const crdt::Sequence& list() const { return list_; }
  crdt::ORSortedSet& zset() { return zset_; }
  const crdt::ORSortedSet& zset() const { return zset_; }
  crdt::HllState& hll() { return hll_; }
  const crdt::HllState& hll() const { return hll_; }
  ExpiryRegister& expiry() { return expiry_; }
  const ExpiryRegister& expiry() const { return expiry_; }

  // Least upper bound; both must be of one kind (SiblingSet joins only those).
  void Join(const CollectionState& other);
  // No element (a deleted or emptied collection, or a remove-only delta); an HLL: not created
  // in its epoch (PFADD of no element creates an empty one, as in Redis).
  bool Empty() const;

  std::string Encode() const;
  // Strict: false on anything Encode could not have written.
  static bool Decode(std::string_view bytes, CollectionState* state);
  // The kind of an encoded state without decoding it (false when there is none).
  static bool PeekKind(std::string_view bytes, Kind* kind);
  // Encode() of Decode(encoded).Join(delta), for a set, a hash or a sorted set, without decoding
  // the elements `delta` does not touch (crdt's JoinEncoded: what a replica does per write).
  // *empty and *expiry get the joined state's Empty() and expiry(). `encoded` must be a state
  // already checked (a stored copy). False for the other kinds, a delta of another kind or bytes
  // that are not a state: the caller decodes and joins instead.
  static bool JoinEncoded(std::string_view encoded, const CollectionState& delta, std::string* out,
                          bool* empty, ExpiryRegister* expiry);

 private:
  Kind kind_ = Kind::kSet;
  ExpiryRegister expiry_;
  crdt::ORSet set_;
  crdt::AddWinsMap map_;
  crdt::Sequence list_;
  crdt::ORSortedSet zset_;
  crdt::HllState hll_;
};

}  // namespace dynakv::cluster
