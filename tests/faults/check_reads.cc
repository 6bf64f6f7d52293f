#include <algorithm>

#include "checks.h"

namespace dynakv::faults {

int CheckReads(const History& history, const std::vector<Op>& ops, std::vector<Violation>* out) {
  int found = 0;
  for (const Op& r : ops) {
    if (!r.IsRead() || !r.ok() || r.key < 0 || r.key >= history.keys()) continue;
    const KeyHistory& h = history.key(r.key);
    bool explained = false;
    const Op* source = h.Explain(r.seq, r.end_us, &explained);
    const Op* latest = h.LatestAckedEndedBefore(r.start_us);
    Violation v;
    v.key = r.key;
    v.to_us = r.end_us;
    const std::string read = (r.kind == Op::Kind::kGet ? "GET " : "DEL (deleting nothing) ") +
                             KeyName(r.key) + " via n" + std::to_string(r.node) + " [" +
                             std::to_string(r.start_us) + ", " + std::to_string(r.end_us) + "]";
    if (!explained) {
      v.property = "bogus";
      v.what = read + " read seq " + std::to_string(r.seq) + ", which no write started before";
      v.from_us = r.start_us;
    } else if (latest != nullptr && latest->start_us > KeyHistory::EndOf(source)) {
      v.property = "stale";
      v.what = read + " returned " + DescribeWrite(source) + ", older than " +
               DescribeWrite(latest) + " acknowledged before the read began";
      // From the older write on: the fault that lost the newer one may predate it.
      v.from_us =
          source == nullptr ? latest->start_us : std::min(source->start_us, latest->start_us);
    } else {
      continue;
    }
    ++found;
    out->push_back(std::move(v));
  }
  return found;
}

}  // namespace dynakv::faults
