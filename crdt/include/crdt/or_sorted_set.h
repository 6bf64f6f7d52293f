// The convergent form of a Redis sorted set: observed-remove members (as ORSet) whose score is a
// last-write-wins register (ZADD) plus per-actor increment totals (ZINCRBY); see field_store.h.
//
// A member's score = the winning ZADD score (by hybrid timestamp, then actor id; 0 when the
// member was only ever incremented) + every total in the member, added in actor id order so that
// all replicas round identically. A ZADD replaces the totals it saw, so:
//   - ZADD then ZINCRBY (the increment saw the ZADD): score + increment, as in Redis;
//   - ZINCRBY then ZADD: the ZADD's score, as in Redis;
//   - a ZADD and a ZINCRBY concurrent with it: the ZADD's score + the increment. Neither write
//     is lost: the increment is applied on top of the new score, whichever arrives first;
//   - concurrent ZADDs: the later (timestamp, actor id) score, plus concurrent increments.
// ZREM and Reset (DEL, EXPIRE) remove only what they saw; a concurrent ZADD or ZINCRBY keeps
// the member (add wins). If concurrent increments of +inf and -inf meet, the member reads as 0
// (Redis has no NaN scores); no single replica accepts an operation yielding NaN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crdt/field_store.h"

namespace dynakv::crdt {

class ORSortedSet {
 public:
  // ZADD of one member (caller has applied NX/XX/GT/LT/CH). A NaN score changes nothing and
  // yields an empty delta.
  ORSortedSet Add(std::string_view actor, std::string_view member, std::int64_t timestamp_us,
                  double score);
  // ZINCRBY: false (and nothing changed) when the new score would be NaN; otherwise *result is
  // the member's new score and *delta the change to ship.
  bool IncrBy(std::string_view actor, std::string_view member, double by, double* result,
              ORSortedSet* delta);
  ORSortedSet Remove(std::string_view member);  // ZREM of one member
  ORSortedSet Reset();                          // DEL / EXPIRE of the key
  void Join(const ORSortedSet& other) { store_.Join(other.store_); }

  std::optional<double> Score(std::string_view member) const;
  // (member, score) by score, then member bytes: ZRANGE's order.
  std::vector<std::pair<std::string, double>> Range() const;
  std::size_t size() const { return store_.fields().size(); }
  bool empty() const { return store_.empty(); }
  const CausalContext& context() const { return store_.context(); }
  const FieldStore<ScoreFields>& store() const { return store_; }

  std::string Encode() const { return store_.Encode(); }
  static bool Decode(std::string_view bytes, ORSortedSet* zset) {
    return FieldStore<ScoreFields>::Decode(bytes, &zset->store_);
  }
  // FieldStore::JoinEncoded: Encode() of Decode(encoded) joined with `delta`.
  static bool JoinEncoded(std::string_view encoded, const ORSortedSet& delta, std::string* out,
                          std::size_t* size) {
    return FieldStore<ScoreFields>::JoinEncoded(encoded, delta.store_, out, size);
  }

 private:
  double View(const FieldStore<ScoreFields>::Field& field) const;

  FieldStore<ScoreFields> store_;
};

}  // namespace dynakv::crdt
