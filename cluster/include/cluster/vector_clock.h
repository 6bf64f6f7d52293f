// A vector clock: per node, how many events of that node a piece of data has seen. Comparing two
// clocks tells whether one version saw the other (and may replace it) or whether they were
// written concurrently (and both must be kept as siblings).
//
// Each entry also remembers when it last moved (wall ms). Clocks grow with every node that ever
// coordinated a write to the key, so they are pruned like Dynamo's and Riak's: the oldest entries
// go once there are too many. Pruning can only make versions look concurrent that were not
// (a spurious sibling), never hide a concurrent one, and the age floor keeps entries of recent
// writes, which are the ones still likely to be compared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace dynakv::cluster {

struct ClockPruneOptions {
  std::size_t max_entries = 10;   // Riak's small_vclock
  std::int64_t min_age_ms = 20000;  // Riak's young_vclock: entries younger are never dropped
};

class VectorClock {
 public:
  enum class Order { kEqual, kBefore, kAfter, kConcurrent };
  struct Entry {
    std::uint64_t counter = 0;  // >= 1 for every stored entry; absent means 0
    std::int64_t updated_ms = 0;
  };
  using Entries = std::map<std::string, Entry, std::less<>>;

  // Records one new event of `node`.
  void Increment(std::string_view node, std::int64_t now_ms);
  // Raises node's counter to at least `counter`: this clock has now seen that event.
  void Advance(std::string_view node, std::uint64_t counter, std::int64_t updated_ms);
  std::uint64_t Get(std::string_view node) const;

  // How this clock relates to `other`: kBefore means every counter here is <= the other's and
  // one is smaller (the other version saw this one).
  Order Compare(const VectorClock& other) const;
  bool Descends(const VectorClock& other) const;  // this has seen everything `other` has
  // Pointwise maximum: the clock of data that has seen both.
  void Merge(const VectorClock& other);
  // Drops least recently updated entries while there are more than max_entries, stopping at the
  // first entry younger than min_age_ms (ties: smaller node id first). Returns how many went.
  std::size_t Prune(std::int64_t now_ms, const ClockPruneOptions& options = {});

  const Entries& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Compact binary form: varint count, then per entry in id order: length-prefixed id, varint
  // counter, zigzag varint updated_ms.
  void EncodeTo(std::string* dst) const;
  std::string Encode() const;
  // Consumes one clock from the front of *input. False on truncated or malformed data (counter
  // 0, ids out of order or repeated), so a garbage clock can never compare as a real one.
  static bool DecodeFrom(std::string_view* input, VectorClock* clock);
  // The whole of `bytes` must be exactly one clock.
  static bool Decode(std::string_view bytes, VectorClock* clock);

  std::string ToString() const;  // "{a:2,b:1}", for logs and test failures

 private:
  Entries entries_;
};

}  // namespace dynakv::cluster
