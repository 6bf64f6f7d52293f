// The machinery shared by the add-wins map (hashes) and the OR sorted set: named fields that are
// present while they hold a dot, each field a small bag of two kinds of dotted payloads.
//
//   - Registers (HSET's value, ZADD's score): a write tags its register with a new dot and a
//     hybrid-clock timestamp and drops every dot of the field it saw. Concurrent writes each keep
//     their register (a multi-value register) and readers pick the last writer by (timestamp,
//     actor id, dot counter), a total order, so every replica picks the same one. Keeping the
//     losers until a later write sees them is what makes this a join: dropping them early would
//     let a remove that saw only the winner disagree with a replica that never saw the winner.
//   - Totals (HINCRBY's, ZINCRBY's counter): per actor, its running sum of increments into the
//     field, under the actor's latest dot; an increment replaces the actor's previous dot, so
//     once every delta is in, a field keeps one total per actor whatever the number of
//     increments.
//
// A field's dots come and go as the ORSet's members' do: remove (HDEL, ZREM) drops the dots it
// saw, Reset (DEL, EXPIRE) every dot the value has seen, and a field is present while any dot is
// left. An unseen register or total survives a concurrent remove (add wins). One limit, as
// Riak's embedded counters: an increment concurrent with a remove keeps the incrementing actor's
// whole total, including its increments the remove had seen; other actors' seen totals go.
//
// T supplies the payload types: TextFields (strings, integer totals modulo 2^64, so sums stay
// exact wherever the final value fits in 64 bits) and ScoreFields (doubles).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/causal_context.h"
#include "crdt/dot_index.h"

namespace dynakv::crdt {

struct TextFields {
  using Value = std::string;
  using Total = std::uint64_t;
  static constexpr char kTag = 'M';
};
struct ScoreFields {
  using Value = double;
  using Total = double;
  static constexpr char kTag = 'Z';
};

template <typename T>
class FieldStore {
 public:
  struct Register {
    Dot dot;
    std::int64_t timestamp_us = 0;
    typename T::Value value{};
  };
  struct Total {
    Dot dot;
    typename T::Total total{};
  };
  struct Field {
    std::vector<Register> registers;
    // One per actor once every delta is in (an increment replaces the actor's previous total);
    // a replica missing a remove can briefly hold an old total of the actor beside a new one.
    std::vector<Total> totals;
  };
  using Fields = std::map<std::string, Field, std::less<>>;

  // Each operation changes this store and returns the delta to ship.
  // Write the field's register: drops every dot of the field seen here, totals included.
  FieldStore Assign(std::string_view actor, std::string_view name, std::int64_t timestamp_us,
                    typename T::Value value);
  // Add `by` to `actor`'s total in the field (registers untouched).
  FieldStore Increment(std::string_view actor, std::string_view name, typename T::Total by);
  FieldStore Remove(std::string_view name);  // empty delta when the field is absent
  FieldStore Reset();
  // O(|other|) when other's context covers few dots compared with the number of fields (a
  // delta), else a merge of both field lists.
  void Join(const FieldStore& other);

  const Field* Find(std::string_view name) const;
  const Fields& fields() const { return fields_; }
  const CausalContext& context() const { return ctx_; }
  bool empty() const { return fields_.empty() && ctx_.empty(); }

  // The register readers see: the largest by (timestamp, actor id, dot counter); null if none.
  const Register* Winner(const Field& field) const;
  // The field's totals in actor id order, so that floating-point sums are formed identically
  // on every replica.
  std::vector<typename T::Total> TotalsInOrder(const Field& field) const;

  // Canonical encoding: T::kTag, the context, fields in byte order, each with its registers and
  // totals sorted by actor. Decode accepts only what Encode writes.
  std::string Encode() const;
  static bool Decode(std::string_view bytes, FieldStore* store);
  // Encode() of Decode(encoded) joined with `delta`, copying the fields the delta does not touch
  // as raw bytes (see ORSet::JoinEncoded). *size gets the joined store's number of fields.
  static bool JoinEncoded(std::string_view encoded, const FieldStore& delta, std::string* out,
                          std::size_t* size);

 private:
  void JoinAll(const FieldStore& other, const std::vector<std::uint32_t>& map);
  void JoinSmall(const FieldStore& other, const std::vector<std::uint32_t>& map);
  void BuildIndex();
  void Unindex(const Field& field);

  Fields fields_;
  CausalContext ctx_;
  DotIndex index_;
};

extern template class FieldStore<TextFields>;
extern template class FieldStore<ScoreFields>;

}  // namespace dynakv::crdt
