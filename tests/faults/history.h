// The op log indexed per key, for the checkers: which write produced a value that was read, and
// which acknowledged writes had finished (or started) by a given time.
//
// Times are what the clients saw. An acknowledged write took effect somewhere in [start, end];
// an indeterminate one (error, timeout) may take effect at any time after its start, even after
// the run (a paused coordinator resumes), so its end counts as +infinity.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "op_log.h"

namespace dynakv::faults {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kBeginning = std::numeric_limits<std::int64_t>::min();

class KeyHistory {
 public:
  void Add(const Op& write);
  // Call once every write is added.
  void Seal();

  // Of the writes that could have produced what a read saw - value `seq`, or nil (0): any DEL or
  // the initial state - and that started before `before_us`, the one that took effect latest at
  // the earliest: nullptr for the initial state. Sets *found = false when nothing could have
  // produced it (a value never written, or written only after `before_us`).
  const Op* Explain(long long seq, std::int64_t before_us, bool* found) const;
  // When the write `op` (nullptr: the initial state) was over at the latest.
  static std::int64_t EndOf(const Op* op);

  // Among the acknowledged writes that ended before `before_us`, the one that started last
  // (nullptr when there is none). Any read or final state that began after `before_us` must
  // reflect it or something newer.
  const Op* LatestAckedEndedBefore(std::int64_t before_us) const;

  std::size_t writes() const { return writes_.size(); }

 private:
  std::vector<const Op*> writes_;
  std::unordered_map<long long, const Op*> by_seq_;
  std::vector<const Op*> acked_by_end_;       // acknowledged writes, ordered by end
  std::vector<const Op*> latest_start_upto_;  // [i]: the latest-starting of acked_by_end_[0..i]
};

// "SET #12 via n2 acked [start, end]", "DEL #7 via n1 indeterminate (timeout) [start, ?]", or
// the initial state for nullptr.
std::string DescribeWrite(const Op* w);

// Every key's history. The ops must outlive it.
class History {
 public:
  History(const std::vector<Op>& ops, int keys);
  const KeyHistory& key(int k) const { return keys_.at(static_cast<std::size_t>(k)); }
  int keys() const { return static_cast<int>(keys_.size()); }

 private:
  std::vector<KeyHistory> keys_;
};

}  // namespace dynakv::faults
