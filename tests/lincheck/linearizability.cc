#include "linearizability.h"

#include <algorithm>
#include <string>
#include <unordered_set>

namespace dynakv::lincheck {
namespace {

using State = std::optional<std::int64_t>;

// Applies `op` to `state`: false when its recorded outcome is impossible there.
bool Step(const RegisterOp& op, State* state) {
  switch (op.kind) {
    case RegisterOp::Kind::kGet:
      return op.unknown || op.value == *state;
    case RegisterOp::Kind::kSet:
      *state = op.arg;
      return true;
    case RegisterOp::Kind::kSetNx:
      if (op.unknown) {
        if (!state->has_value()) *state = op.arg;
        return true;
      }
      if (op.set != !state->has_value()) return false;
      if (op.set) *state = op.arg;
      return true;
    case RegisterOp::Kind::kIncr: {
      const std::int64_t next = state->value_or(0) + 1;
      if (!op.unknown && op.value != next) return false;
      *state = next;
      return true;
    }
  }
  return false;
}

// Repeatedly linearizes one op among those invoked before every pending completed op has
// responded, as long as its outcome fits the state; the memo remembers (ops done, state) pairs
// that led nowhere.
class Search {
 public:
  Search(std::vector<RegisterOp> ops, std::uint64_t max_steps)
      : ops_(std::move(ops)), done_(ops_.size(), '0'), max_steps_(max_steps) {
    // By invocation, completed ops before unknown ones of the same time: the loop below stops at
    // the first op invoked too late, and tries the likelier candidates first.
    std::stable_sort(ops_.begin(), ops_.end(),
                     [](const RegisterOp& a, const RegisterOp& b) { return a.invoke < b.invoke; });
  }

  Verdict Run() {
    const bool ok = Linearize(State{});
    if (steps_ > max_steps_) return Verdict::kUndecided;
    return ok ? Verdict::kLinearizable : Verdict::kNotLinearizable;
  }

 private:
  bool Linearize(const State& state) {
    std::int64_t first_response = std::numeric_limits<std::int64_t>::max();
    bool complete = true;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (done_[i] == '1' || ops_[i].unknown) continue;
      complete = false;
      first_response = std::min(first_response, ops_[i].respond);
    }
    if (complete) return true;
    if (++steps_ > max_steps_) return false;
    if (!seen_.insert(done_ + (state ? std::to_string(*state) : "nil")).second) return false;
    for (std::size_t i = 0; i < ops_.size() && ops_[i].invoke <= first_response; ++i) {
      if (done_[i] == '1') continue;
      State next = state;
      if (!Step(ops_[i], &next)) continue;
      done_[i] = '1';
      if (Linearize(next)) return true;
      done_[i] = '0';
      if (steps_ > max_steps_) return false;
    }
    return false;
  }

  std::vector<RegisterOp> ops_;
  std::string done_;  // '1' per linearized op, in ops_ order
  std::unordered_set<std::string> seen_;
  std::uint64_t steps_ = 0;
  std::uint64_t max_steps_;
};

}  // namespace

Verdict CheckRegister(std::vector<RegisterOp> ops, std::uint64_t max_steps) {
  return Search(std::move(ops), max_steps).Run();
}

}  // namespace dynakv::lincheck
