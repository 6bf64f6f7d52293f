#include "history.h"

#include <algorithm>

namespace dynakv::faults {

void KeyHistory::Add(const Op& write) {
  writes_.push_back(&write);
  if (write.kind == Op::Kind::kSet) by_seq_[write.seq] = &write;
}

void KeyHistory::Seal() {
  acked_by_end_.clear();
  for (const Op* w : writes_) {
    if (w->ok()) acked_by_end_.push_back(w);
  }
  std::sort(acked_by_end_.begin(), acked_by_end_.end(),
            [](const Op* a, const Op* b) { return a->end_us < b->end_us; });
  latest_start_upto_.clear();
  for (const Op* w : acked_by_end_) {
    const bool newer =
        latest_start_upto_.empty() || w->start_us > latest_start_upto_.back()->start_us;
    latest_start_upto_.push_back(newer ? w : latest_start_upto_.back());
  }
}

std::int64_t KeyHistory::EndOf(const Op* op) {
  if (op == nullptr) return kBeginning;
  return op->ok() ? op->end_us : kNever;
}

const Op* KeyHistory::Explain(long long seq, std::int64_t before_us, bool* found) const {
  *found = false;
  if (seq > 0) {
    const auto it = by_seq_.find(seq);
    if (it == by_seq_.end() || it->second->start_us >= before_us) return nullptr;
    *found = true;
    return it->second;
  }
  if (seq < 0) return nullptr;
  // nil: the initial state, or the DEL that gives the reader the most slack.
  *found = true;
  const Op* best = nullptr;
  for (const Op* w : writes_) {
    if (w->kind == Op::Kind::kDel && w->start_us < before_us && EndOf(w) > EndOf(best)) best = w;
  }
  return best;
}

const Op* KeyHistory::LatestAckedEndedBefore(std::int64_t before_us) const {
  const auto it = std::lower_bound(acked_by_end_.begin(), acked_by_end_.end(), before_us,
                                   [](const Op* w, std::int64_t t) { return w->end_us < t; });
  if (it == acked_by_end_.begin()) return nullptr;
  return latest_start_upto_[static_cast<std::size_t>(it - acked_by_end_.begin()) - 1];
}

std::string DescribeWrite(const Op* w) {
  if (w == nullptr) return "the initial state (no write)";
  std::string s = (w->kind == Op::Kind::kSet ? "SET #" : "DEL #") + std::to_string(w->seq);
  s += " via n" + std::to_string(w->node);
  s += w->ok() ? " acked" : " indeterminate (" + w->error + ")";
  s +=
      " [" + std::to_string(w->start_us) + ", " + (w->ok() ? std::to_string(w->end_us) : "?") + "]";
  return s;
}

History::History(const std::vector<Op>& ops, int keys) : keys_(static_cast<std::size_t>(keys)) {
  for (const Op& op : ops) {
    if (op.IsWrite() && op.key >= 0 && op.key < keys)
      keys_[static_cast<std::size_t>(op.key)].Add(op);
  }
  for (KeyHistory& k : keys_) k.Seal();
}

}  // namespace dynakv::faults
