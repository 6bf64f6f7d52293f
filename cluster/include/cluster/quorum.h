// Counting replies for one replicated request. The coordinator sends the request to its targets
// (the key's preference list), feeds every reply in, and answers the client as soon as the
// outcome is decided: enough acks, or so many failures that enough acks can no longer come.
// Time is the caller's business: when its timer fires it calls OnTimeout. No I/O here, so every
// interleaving of replies can be unit tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/consistency_level.h"

namespace dynakv::cluster {

struct QuorumTarget {
  std::string node;
  std::string dc;
};

class QuorumTracker {
 public:
  enum class Outcome { kPending, kSucceeded, kFailed };
  struct Reply {
    std::string node;
    std::string payload;
  };

  // `required` acks from any of `nodes` (one datacenter).
  QuorumTracker(const std::vector<std::string>& nodes, int required);
  // Every requirement must be met (e.g. EACH_QUORUM: one per dc). Targets listed twice count once.
  // A requirement that no number of replies can meet fails the request at once.
  QuorumTracker(std::vector<QuorumTarget> targets, std::vector<AckRequirement> requirements);

  // Records one target's answer (ok: it applied the write / returned data in `payload`). A reply
  // from a non-target, or a second one from the same target, is ignored. Once decided the outcome
  // stays, but later successful replies are still collected: a read coordinator uses them for
  // read repair.
  Outcome OnReply(std::string_view node, bool ok, std::string payload = {});
  // The caller's deadline passed: a pending request fails.
  Outcome OnTimeout();

  Outcome outcome() const { return outcome_; }
  bool decided() const { return outcome_ != Outcome::kPending; }
  bool all_replied() const { return replied_count_ == targets_.size(); }
  int acks() const { return acks_; }
  int failures() const { return failures_; }
  // Successful replies in arrival order.
  const std::vector<Reply>& replies() const { return replies_; }
  // For a failed request, the client's error, fixed when it failed, e.g.
  // "UNAVAILABLE not enough replicas (needed 2, got 1)"; empty otherwise.
  const std::string& error() const { return error_; }

 private:
  struct Group {
    AckRequirement requirement;
    int eligible = 0;  // targets whose replies count towards it
    int acks = 0;
    int failures = 0;
  };

  bool Counts(const Group& group, const QuorumTarget& target) const {
    return group.requirement.dc.empty() || group.requirement.dc == target.dc;
  }
  void Decide(bool timed_out);
  void FailWith(const Group& group);

  std::vector<QuorumTarget> targets_;
  std::vector<bool> replied_;  // per target
  std::size_t replied_count_ = 0;
  std::vector<Group> groups_;
  std::vector<Reply> replies_;
  int acks_ = 0;
  int failures_ = 0;
  Outcome outcome_ = Outcome::kPending;
  std::string error_;
};

}  // namespace dynakv::cluster
