#include <map>

#include "checks.h"
#include "linearizability.h"

namespace dynakv::faults {

int CheckRegisters(const std::vector<SerialOp>& ops, std::vector<Violation>* out,
                   std::uint64_t max_steps) {
  using lincheck::RegisterOp;
  std::map<int, std::vector<RegisterOp>> histories;
  std::map<int, std::pair<std::int64_t, std::int64_t>> spans;
  for (const SerialOp& op : ops) {
    const bool is_register = op.kind == SerialOp::Kind::kGet || op.kind == SerialOp::Kind::kSet ||
                             op.kind == SerialOp::Kind::kIncr;
    if (!is_register || op.outcome == SerialOp::Outcome::kRefused) continue;
    if (op.kind == SerialOp::Kind::kGet && !op.ok()) continue;  // a failed read says nothing
    RegisterOp r;
    r.invoke = op.start_us;
    r.respond = op.ok() ? op.end_us : kNever;
    r.unknown = !op.ok();
    switch (op.kind) {
      case SerialOp::Kind::kGet:
        r.kind = RegisterOp::Kind::kGet;
        if (!op.nil) r.value = op.value;
        break;
      case SerialOp::Kind::kSet:
        r.kind = RegisterOp::Kind::kSet;
        r.arg = op.value;
        break;
      default:
        r.kind = RegisterOp::Kind::kIncr;
        if (op.ok()) r.value = op.value;
        break;
    }
    histories[op.key].push_back(r);
    auto [it, fresh] = spans.try_emplace(op.key, op.start_us, op.end_us);
    if (!fresh) {
      it->second.first = std::min(it->second.first, op.start_us);
      it->second.second = std::max(it->second.second, op.end_us);
    }
  }
  int found = 0;
  for (auto& [key, history] : histories) {
    const std::size_t size = history.size();
    const lincheck::Verdict verdict = lincheck::CheckRegister(std::move(history), max_steps);
    if (verdict == lincheck::Verdict::kLinearizable) continue;
    ++found;
    Violation v;
    v.key = key;
    const bool undecided = verdict == lincheck::Verdict::kUndecided;
    v.property = undecided ? "undecided" : "not-linearizable";
    v.what = RegisterName(key) + ": the history of " + std::to_string(size) + " register ops " +
             (undecided ? "took more than " + std::to_string(max_steps) + " search states"
                        : "has no linearization");
    v.from_us = spans[key].first;
    v.to_us = spans[key].second;
    out->push_back(std::move(v));
  }
  return found;
}

}  // namespace dynakv::faults
