#include "cluster/quorum.h"

#include <algorithm>
#include <utility>

namespace dynakv::cluster {

namespace {

std::vector<QuorumTarget> AnyDc(const std::vector<std::string>& nodes) {
  std::vector<QuorumTarget> targets;
  targets.reserve(nodes.size());
  for (const std::string& node : nodes) targets.push_back(QuorumTarget{node, ""});
  return targets;
}

}  // namespace

QuorumTracker::QuorumTracker(const std::vector<std::string>& nodes, int required)
    : QuorumTracker(AnyDc(nodes), {AckRequirement{"", required}}) {}

QuorumTracker::QuorumTracker(std::vector<QuorumTarget> targets,
                             std::vector<AckRequirement> requirements) {
  for (QuorumTarget& target : targets) {
    const bool seen = std::any_of(targets_.begin(), targets_.end(), [&](const QuorumTarget& t) {
      return t.node == target.node;
    });
    if (!seen) targets_.push_back(std::move(target));
  }
  replied_.assign(targets_.size(), false);
  for (AckRequirement& requirement : requirements) {
    Group group{std::move(requirement)};
    for (const QuorumTarget& target : targets_) group.eligible += Counts(group, target) ? 1 : 0;
    groups_.push_back(std::move(group));
  }
  Decide(false);
}

QuorumTracker::Outcome QuorumTracker::OnReply(std::string_view node, bool ok,
                                              std::string payload) {
  auto it = std::find_if(targets_.begin(), targets_.end(),
                         [&](const QuorumTarget& t) { return t.node == node; });
  if (it == targets_.end()) return outcome_;
  const auto index = static_cast<std::size_t>(it - targets_.begin());
  if (replied_[index]) return outcome_;
  replied_[index] = true;
  ++replied_count_;
  ok ? ++acks_ : ++failures_;
  for (Group& group : groups_) {
    if (Counts(group, *it)) ok ? ++group.acks : ++group.failures;
  }
  if (ok) replies_.push_back(Reply{std::string(node), std::move(payload)});
  if (!decided()) Decide(false);
  return outcome_;
}

QuorumTracker::Outcome QuorumTracker::OnTimeout() {
  if (!decided()) Decide(true);
  return outcome_;
}

void QuorumTracker::Decide(bool timed_out) {
  bool all_met = true;
  for (const Group& group : groups_) {
    if (group.acks >= group.requirement.required) continue;
    all_met = false;
    // Fail as soon as the replies still outstanding cannot make up the difference, so the
    // client is not kept waiting for a timeout that can only confirm it.
    const int outstanding = group.eligible - group.acks - group.failures;
    if (timed_out || group.acks + outstanding < group.requirement.required) {
      FailWith(group);
      return;
    }
  }
  if (all_met) outcome_ = Outcome::kSucceeded;
}

void QuorumTracker::FailWith(const Group& group) {
  outcome_ = Outcome::kFailed;
  error_ = "UNAVAILABLE not enough replicas (needed " +
           std::to_string(group.requirement.required) + ", got " + std::to_string(group.acks) +
           ")";
}

}  // namespace dynakv::cluster
