// Where active expiry stands in the segments. Expired values on disk are found by walking the
// segments in hash order, a bounded slice per tick. The walk's position is a hash, as a SCAN
// cursor is, so segments that checkpoints and compactions add or remove under it do not disturb
// it.
//
// Walking costs reads, so each segment has a floor: every value in it with an expiry before the
// floor is known to be dead (reaped, or shadowed by a newer version, which stays newer for good).
// A segment whose floor is still in the future is not walked at all. The floor starts as the
// earliest expiry its footer records, and once a pass has walked the whole segment it rises to
// the earliest expiry that pass saw still pending.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "segment_reader.h"

namespace dynakv::storage {

class DiskExpirySweep {
 public:
  // The segments (of `segments`, oldest first, and in that order) that may hold values expired
  // at `now_ms`: the ones the next step walks.
  std::vector<std::shared_ptr<SegmentReader>> Due(
      const std::vector<std::shared_ptr<SegmentReader>>& segments, std::int64_t now_ms);
  // The walk met a value of segment `seq` that expires at `expire_at_ms`, which is not due yet.
  void NotePending(std::uint64_t seq, std::int64_t expire_at_ms);
  // Segment `seq` could not be read: the rest of this pass leaves it out.
  void Skip(std::uint64_t seq);
  // The walk reached the end of hash space: raises the floors and starts over at hash 0.
  void FinishPass();
  void Reset();  // nothing is left on disk

  std::uint64_t cursor() const { return cursor_; }
  void set_cursor(std::uint64_t hash) { cursor_ = hash; }

 private:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  struct SegmentState {
    std::int64_t floor = 0;
    std::int64_t pending_min = kNever;  // the earliest pending expiry seen in this pass
    bool whole_pass = false;            // walked in every step of this pass since hash 0
    bool skipped = false;               // unreadable in this pass
  };

  std::uint64_t cursor_ = 0;
  std::unordered_map<std::uint64_t, SegmentState> states_;  // by segment seq
};

}  // namespace dynakv::storage
