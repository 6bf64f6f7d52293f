#include "disk_expiry_sweep.h"

#include <algorithm>
#include <unordered_set>

namespace dynakv::storage {

std::vector<std::shared_ptr<SegmentReader>> DiskExpirySweep::Due(
    const std::vector<std::shared_ptr<SegmentReader>>& segments, std::int64_t now_ms) {
  std::vector<std::shared_ptr<SegmentReader>> due;
  std::vector<SegmentState*> passed_over;
  for (const auto& seg : segments) {
    auto [it, added] = states_.try_emplace(seg->seq());
    SegmentState& st = it->second;
    if (added) {
      st.floor = seg->expiring_records() > 0 ? seg->earliest_expiry_ms() : kNever;
      // A segment that appears mid-pass missed the part of hash space behind the cursor.
      st.whole_pass = cursor_ == 0;
    }
    if (st.skipped) continue;
    if (st.floor <= now_ms) {
      due.push_back(seg);
    } else {
      passed_over.push_back(&st);
    }
  }
  // The step moves the cursor past records of segments it does not walk, so this pass does not
  // see all of them. Their floors stay right: the records passed over expire at the floor or
  // later. Without a step the cursor stays put and nothing is missed.
  if (!due.empty()) {
    for (SegmentState* st : passed_over) st->whole_pass = false;
  }
  // Forget segments that compactions replaced or a FLUSHALL removed.
  if (states_.size() > segments.size()) {
    std::unordered_set<std::uint64_t> live;
    for (const auto& seg : segments) live.insert(seg->seq());
    std::erase_if(states_, [&](const auto& kv) { return live.count(kv.first) == 0; });
  }
  return due;
}

void DiskExpirySweep::NotePending(std::uint64_t seq, std::int64_t expire_at_ms) {
  auto it = states_.find(seq);
  if (it != states_.end()) it->second.pending_min = std::min(it->second.pending_min, expire_at_ms);
}

void DiskExpirySweep::Skip(std::uint64_t seq) {
  auto it = states_.find(seq);
  if (it == states_.end()) return;
  it->second.skipped = true;
  it->second.whole_pass = false;
}

void DiskExpirySweep::FinishPass() {
  for (auto& [seq, st] : states_) {
    // Every value of a wholly walked segment that expired by now was dealt with (and is dead
    // for good); the others expire at pending_min or later. A partly walked one keeps its floor.
    if (st.whole_pass) st.floor = st.pending_min;
    st.pending_min = kNever;
    st.whole_pass = true;
    st.skipped = false;
  }
  cursor_ = 0;
}

void DiskExpirySweep::Reset() {
  states_.clear();
  cursor_ = 0;
}

}  // namespace dynakv::storage
