// The convergent form of a Redis hash: an add-wins map (Riak's map) whose fields are
// last-write-wins registers (HSET) and counters (HINCRBY). See field_store.h for the merge rules;
// in Redis terms:
//   - concurrent HSETs of different fields both survive; of the same field, the one with the
//     larger (hybrid timestamp, actor id) is read, and the map keeps the other until a later
//     write sees both;
//   - HDEL removes only the writes of the field it saw: an HSET or HINCRBY concurrent with it
//     survives (add wins); Reset (DEL, EXPIRE) likewise for every field;
//   - HINCRBY adds to the incrementing actor's total in the field; concurrent HINCRBYs all count.
//     HSET replaces the totals it saw. A field reads as its register's value plus the sum of its
//     totals when the register holds an integer (or there is no register: the sum alone); an
//     HSET of a non-integer concurrent with an HINCRBY reads as the HSET's value, and a later
//     HINCRBY is refused as Redis refuses it, until an HSET replaces both.
// Totals are summed modulo 2^64, so a field reads exactly whenever its true value fits in a
// signed 64-bit integer, in whatever order the increments merged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crdt/field_store.h"

namespace dynakv::crdt {

class AddWinsMap {
 public:
  // HSET of one field by `actor` at hybrid-clock time `timestamp_us`.
  AddWinsMap Set(std::string_view actor, std::string_view field, std::int64_t timestamp_us,
                 std::string_view value);
  enum class IncrStatus { kOk, kNotInteger, kOverflow };
  // HINCRBY: on kOk, *result is the field's new value and *delta the change to ship; otherwise
  // nothing changed (Redis's "hash value is not an integer" / "increment or decrement would
  // overflow").
  IncrStatus IncrBy(std::string_view actor, std::string_view field, std::int64_t by,
                    std::int64_t* result, AddWinsMap* delta);
  AddWinsMap Remove(std::string_view field);  // HDEL of one field
  AddWinsMap Reset();                         // DEL / EXPIRE of the hash
  void Join(const AddWinsMap& other) { store_.Join(other.store_); }

  std::optional<std::string> Get(std::string_view field) const;
  std::vector<std::pair<std::string, std::string>> Entries() const;  // field byte order
  bool Contains(std::string_view field) const { return store_.Find(field) != nullptr; }
  std::size_t size() const { return store_.fields().size(); }
  bool empty() const { return store_.empty(); }
  const CausalContext& context() const { return store_.context(); }
  const FieldStore<TextFields>& store() const { return store_; }

  std::string Encode() const { return store_.Encode(); }
  static bool Decode(std::string_view bytes, AddWinsMap* map) {
    return FieldStore<TextFields>::Decode(bytes, &map->store_);
  }
  // FieldStore::JoinEncoded: Encode() of Decode(encoded) joined with `delta`.
  static bool JoinEncoded(std::string_view encoded, const AddWinsMap& delta, std::string* out,
                          std::size_t* size) {
    return FieldStore<TextFields>::JoinEncoded(encoded, delta.store_, out, size);
  }

 private:
  std::string View(const FieldStore<TextFields>::Field& field) const;

  FieldStore<TextFields> store_;
};

// Redis's string2ll: an optional '-', no leading zeros, no spaces or '+', fits in 64 bits.
bool ParseRedisInteger(std::string_view s, std::int64_t* value);

}  // namespace dynakv::crdt
