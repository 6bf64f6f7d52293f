#include <map>

#include "checks.h"

namespace dynakv::faults {

int CheckCounters(const std::vector<Op>& ops, const FinalState& final,
                  std::vector<Violation>* out) {
  struct Ledger {
    long long acked = 0, low = 0, high = 0;
    int acks = 0, unknown = 0;
    std::int64_t first_us = 0, last_us = 0;
  };
  std::map<int, Ledger> ledgers;
  for (const Op& op : ops) {
    if (op.kind != Op::Kind::kIncr) continue;
    Ledger& l = ledgers[op.key];
    if (l.first_us == 0 || op.start_us < l.first_us) l.first_us = op.start_us;
    l.last_us = std::max(l.last_us, op.end_us);
    if (op.ok()) {
      l.acked += op.seq;
      ++l.acks;
    } else {
      (op.seq < 0 ? l.low : l.high) += op.seq;
      ++l.unknown;
    }
  }
  int found = 0;
  for (const auto& [key, l] : ledgers) {
    const bool known = key >= 0 && static_cast<std::size_t>(key) < final.counters.size();
    const FinalState::Counter* c = known ? &final.counters[static_cast<std::size_t>(key)] : nullptr;
    const long long low = l.acked + l.low;
    const long long high = l.acked + l.high;
    std::string property;
    if (c == nullptr || !c->read_ok) {
      property = "unreadable";
    } else if (c->value < low) {
      property = "lost";
    } else if (c->value > high) {
      property = "phantom";
    } else {
      continue;
    }
    ++found;
    Violation v;
    v.property = property;
    v.key = key;
    v.what = CounterName(key) + " reads " + (c != nullptr ? c->read : std::string("nothing")) +
             ", expected within [" + std::to_string(low) + ", " + std::to_string(high) + "] (" +
             std::to_string(l.acks) + " acknowledged increments summing to " +
             std::to_string(l.acked) + ", " + std::to_string(l.unknown) + " indeterminate)";
    v.from_us = l.first_us;
    v.to_us = l.last_us;
    out->push_back(std::move(v));
  }
  return found;
}

}  // namespace dynakv::faults
