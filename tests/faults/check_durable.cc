#include "checks.h"

namespace dynakv::faults {

int CheckDurable(const History& history, const FinalState& final, std::vector<Violation>* out) {
  int found = 0;
  for (int k = 0; k < history.keys(); ++k) {
    const KeyHistory& h = history.key(k);
    const FinalState::Key& f = final.keys.at(static_cast<std::size_t>(k));
    const Op* latest = h.LatestAckedEndedBefore(kNever);
    bool explained = false;
    const Op* source = f.read_ok ? h.Explain(f.seq, kNever, &explained) : nullptr;
    Violation v;
    v.key = k;
    if (!explained) {
      v.property = "unreadable";
      v.what = "final read " + f.read + " matches no write of " + KeyName(k);
    } else if (latest != nullptr && latest->start_us > KeyHistory::EndOf(source)) {
      v.property = "lost";
      v.what = std::string(latest->kind == Op::Kind::kDel ? "deleted value came back: "
                                                          : "acked write lost: ") +
               KeyName(k) + " final " + f.read + " from " + DescribeWrite(source) +
               ", but the last acknowledged write is " + DescribeWrite(latest);
      v.from_us = source == nullptr ? latest->start_us : source->start_us;
      v.to_us = latest->end_us;
    } else {
      continue;
    }
    ++found;
    out->push_back(std::move(v));
  }
  return found;
}

}  // namespace dynakv::faults
