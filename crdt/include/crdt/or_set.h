// An observed-remove set without tombstones (Riak's ORSWOT, the delta-state AWORSet of Almeida
// et al.): the convergent form of a Redis set.
//
// Each member holds the dots of the adds that put it there (one per actor that added it
// concurrently, usually one), and the causal context holds every dot the set has seen:
//   - SADD tags the member with a new dot and drops the dots it saw: add wins over a concurrent
//     remove, because the remove cannot have seen the new dot;
//   - SREM drops the member's dots it saw; they stay in the context, so a merge with a copy that
//     still holds them knows they were removed, and the member never comes back through merge
//     (only a new SADD brings it back);
//   - Reset (DEL, EXPIRE of the key) drops everything the set has seen, and nothing else.
//
// Every operation changes this set and returns a delta: a set holding only what changed and the
// dots it covers, so one SADD ships O(member) bytes. Join accepts a delta or a whole set and is
// commutative, associative and idempotent, so replicas that joined the same deltas, in any order,
// duplicated or not, hold equal sets and byte-identical encodings.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/causal_context.h"
#include "crdt/dot_index.h"

namespace dynakv::crdt {

class ORSet {
 public:
  // Usually one dot, one per actor that added the member concurrently. A replica that got a
  // re-add's delta but not the remove between them briefly holds two dots of one actor.
  using Dots = std::vector<Dot>;

  // SADD of one member, written by `actor`.
  ORSet Add(std::string_view actor, std::string_view member);
  // SREM of one member: an empty delta when it is not here (nothing observed, nothing to ship).
  ORSet Remove(std::string_view member);
  // DEL / EXPIRE of the whole set: removes every member this copy has seen.
  ORSet Reset();
  // O(|other|) when other's context covers few dots compared with this set's size (a delta),
  // else a merge of both member lists, O(|this| + |other|).
  void Join(const ORSet& other);

  bool Contains(std::string_view member) const { return entries_.count(member) != 0; }
  // The dots keeping `member` here (indexes of context()); null when absent.
  const Dots* Find(std::string_view member) const;
  std::size_t size() const { return entries_.size(); }
  std::vector<std::string> Members() const;  // byte order
  const CausalContext& context() const { return ctx_; }
  // No member and no history: the empty delta, or a set never written.
  bool empty() const { return entries_.empty() && ctx_.empty(); }

  // Canonical encoding: tag 'S', the context, then members in byte order, each with its dots.
  std::string Encode() const;
  // Accepts only what Encode writes (Encode(Decode(b)) == b); false, never a crash, otherwise.
  static bool Decode(std::string_view bytes, ORSet* set);
  // Encode() of Decode(encoded) joined with `delta`, without decoding the members the delta does
  // not touch (O(|encoded|) byte copies, no allocation per member): a replica's join of one
  // write. *size gets the joined set's size(). `encoded` must come from Encode() (a stored copy
  // already checked): false, never a crash, on anything else, but not every malformed input is
  // caught.
  static bool JoinEncoded(std::string_view encoded, const ORSet& delta, std::string* out,
                          std::size_t* size);

 private:
  using Entries = std::map<std::string, Dots, std::less<>>;
  void JoinAll(const ORSet& other, const std::vector<std::uint32_t>& map);
  void JoinSmall(const ORSet& other, const std::vector<std::uint32_t>& map);
  void BuildIndex();

  Entries entries_;
  CausalContext ctx_;
  DotIndex index_;
};

}  // namespace dynakv::crdt
