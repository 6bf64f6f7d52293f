// A sorted set value: unique members ordered by score, then by member bytes, in one of Redis's
// two encodings.
// - listpack: every entry in one flat buffer (8-byte score | varint length | member), kept in
//   order, walked linearly. Used while the set has at most zset_max_listpack_entries members and
//   none longer than zset_max_listpack_value bytes, as in Redis.
// - skiplist: a skiplist (zskiplist.h: O(log n) rank and range) whose nodes also form the
//   member -> node index (O(1) ZSCORE, and the ZSCAN cursor and random picks of hashes).
// A listpack converts to a skiplist the moment a write crosses a threshold, never back (as Redis).
// The serialized form remembers a skiplist; a listpack is decoded as one unless its contents
// exceed the limits now in force.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/object.h"
#include "types/listpack.h"
#include "types/value_type.h"

namespace dynakv::types {

class ZSkiplist;

class SortedSet final : public storage::ValueObject {
 public:
  enum class Encoding { kListpack, kSkiplist };
  // (member, score) -> keep going.
  using Visitor = std::function<bool(std::string_view member, double score)>;
  using Pred = std::function<bool(std::string_view member, double score)>;

  SortedSet();
  ~SortedSet() override;

  // --- storage::ValueObject -------------------------------------------------------------------
  std::size_t MemoryUsage() const override;
  // ValueType::kSortedSet byte | flags byte (1: skiplist) | varint count |
  // (8-byte little-endian score | varint len | member)* in order
  void Serialize(std::string* out) const override;
  bool Empty() const override { return size() == 0; }
  // A skiplist is serialized in chunks while it changes (zskiplist.h); a listpack is small and
  // serialized whole, as before (nullptr).
  std::unique_ptr<storage::ObjectSnapshot> StartSnapshot() override;
  void EndSnapshot() override;

  // The set a Serialize() form (tag byte included) stands for; nullptr when malformed.
  static std::unique_ptr<SortedSet> Decode(std::string_view serialized, const TypeLimits& limits);

  // The Serialize() form of a new set holding `ascending` (distinct members, in the set's order),
  // without a skiplist flag: Decode picks the encoding by the limits, as Redis does for a store.
  static std::string SerializeEntries(
      const std::vector<std::pair<std::string_view, double>>& ascending);

  Encoding encoding() const { return list() ? Encoding::kSkiplist : Encoding::kListpack; }
  std::string_view EncodingName() const;  // OBJECT ENCODING: "listpack" / "skiplist"
  std::size_t size() const;

  std::optional<double> Score(std::string_view member) const;
  // Adds `member` or moves it to `score`; true when it is new. Converts to a skiplist when the
  // write crosses `limits` (Redis's zsetAdd). `score` must not be NaN.
  bool Add(std::string_view member, double score, const TypeLimits& limits);
  bool Remove(std::string_view member);  // whether it existed
  // 0-based rank in ascending order, nullopt when absent.
  std::optional<std::size_t> Rank(std::string_view member) const;
  // How many leading entries (ascending) satisfy `before`, which must hold for a prefix of the
  // order (score < x, member < y when all scores are equal): the rank of the first that does not.
  std::size_t CountLeading(const Pred& before) const;
  // Visits entries from rank `rank` on, ascending (or descending when `reverse`), while `fn`
  // returns true.
  void Walk(std::size_t rank, bool reverse, const Visitor& fn) const;
  // ZSCAN: a listpack is returned whole (cursor 0), as Redis does; a skiplist's member table from
  // hash position `cursor`, at least `count` members. Returns the next cursor, 0 when done.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A member chosen at random; the set must not be empty.
  std::pair<std::string_view, double> Random(std::mt19937_64& rng) const;

 private:
  // Listpack walk: the byte offset of `member`'s entry (npos when absent), and its score.
  std::size_t Find(std::string_view member, double* score) const;
  void ListpackInsert(std::string_view member, double score);
  void ListpackErase(std::size_t at);
  void ConvertToSkiplist();

  ZSkiplist* list() const { return rep_.table(); }  // set once converted

  // 8 bytes: with the vtable a SortedSet is 16.
  CompactOrTable<ZSkiplist> rep_;
};

}  // namespace dynakv::types
