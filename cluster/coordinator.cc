#include "coordinator.h"

#include <algorithm>
#include <random>
#include <utility>

#include "anti_entropy_messages.h"
#include "cluster/bus_protocol.h"
#include "placement.h"
#include "stand_ins.h"

namespace dynakv::cluster {

namespace {

constexpr char kStoppingError[] = "UNAVAILABLE cluster node is stopping";
// Stand-ins tried per failed replica (refused sends, e.g. a peer in reconnect backoff, do not
// count): bounds how long a failing write waits when stand-ins time out one after another.
constexpr int kMaxStandInTries = 3;

// A QuorumTracker fed so that a failed request reports every ack: acks go in as they arrive, so
// success is decided as early as possible, but failures are held back until no reply is
// outstanding and no target is left to ask. Otherwise a quick failure (a refused connect) could
// fix the outcome while an ack was still on its way, and the client would read "got 1" when two
// replicas hold the write. Replies are bounded by the request timeout, so holding back never
// hangs a request.
class PatientQuorum {
 public:
  PatientQuorum(const std::vector<QuorumTarget>& targets,
                const std::vector<AckRequirement>& requirements)
      : tracker_(targets, requirements), unasked_(targets.size()) {}

  // A request goes to one more target (a reply from it is then awaited).
  void Asking() {
    if (unasked_ == 0) return;
    --unasked_;
    ++outstanding_;
  }
  void AskingAll() {
    outstanding_ += unasked_;
    unasked_ = 0;
  }
  void OnReply(const std::string& node, bool ok) {
    if (outstanding_ == 0) return;
    --outstanding_;
    if (ok) {
      tracker_.OnReply(node, true);
    } else {
      held_failures_.push_back(node);
    }
    if (outstanding_ > 0 || unasked_ > 0) return;
    for (const std::string& failed : held_failures_) tracker_.OnReply(failed, false);
    held_failures_.clear();
  }
  bool decided() const { return tracker_.decided(); }
  bool succeeded() const { return tracker_.outcome() == QuorumTracker::Outcome::kSucceeded; }
  const std::string& error() const { return tracker_.error(); }
  // Every target asked so far has answered (or failed).
  bool idle() const { return outstanding_ == 0; }
  bool anyone_unasked() const { return unasked_ > 0; }

 private:
  QuorumTracker tracker_;
  std::size_t unasked_;
  std::size_t outstanding_ = 0;
  std::vector<std::string> held_failures_;
};

// The fewest of `targets`, in their order, whose acks can meet every requirement.
std::vector<std::size_t> FewestMeeting(const std::vector<QuorumTarget>& targets,
                                       const std::vector<AckRequirement>& requirements) {
  std::vector<int> needed;
  for (const AckRequirement& requirement : requirements) needed.push_back(requirement.required);
  auto counts = [&](std::size_t group, const QuorumTarget& target) {
    return requirements[group].dc.empty() || requirements[group].dc == target.dc;
  };
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (std::all_of(needed.begin(), needed.end(), [](int n) { return n <= 0; })) break;
    bool helps = false;
    for (std::size_t g = 0; g < needed.size(); ++g) helps |= needed[g] > 0 && counts(g, targets[i]);
    if (!helps) continue;
    chosen.push_back(i);
    for (std::size_t g = 0; g < needed.size(); ++g) needed[g] -= counts(g, targets[i]) ? 1 : 0;
  }
  return chosen;
}

}  // namespace

struct Coordinator::ReadOp {
  ReadOp(std::string k, const Plan& plan, std::function<void(ReadResult)> d)
      : key(std::move(k)),
        targets(plan.targets),
        asked(plan.targets.size(), false),
        tracker(plan.targets, plan.requirements),
        done(std::move(d)) {}
  std::string key;
  std::vector<QuorumTarget> targets;  // this node first, then the reachable ones, in ring order
  std::vector<bool> asked;            // per target
  std::shared_ptr<const std::string> payload;  // the REPLICA_GET request
  PatientQuorum tracker;
  std::function<void(ReadResult)> done;
  std::vector<Copy> copies;  // successful replies, in arrival order
  bool answered = false;
  bool repaired = false;
};

struct Coordinator::WriteOp {
  WriteOp(std::string k, const Plan& plan, std::shared_ptr<const std::string> e,
          std::function<void(WriteResult)> d)
      : key(std::move(k)),
        targets(plan.targets),
        encoded(std::move(e)),
        tracker(plan.targets, plan.requirements),
        done(std::move(d)) {}
  std::string key;
  std::vector<QuorumTarget> targets;
  std::shared_ptr<const std::string> encoded;  // the set, as every copy stores it
  std::unique_ptr<StandIns> stand_ins;         // listed at the first failure (sloppy quorum)
  PatientQuorum tracker;
  std::function<void(WriteResult)> done;
  bool answered = false;
};

bool Coordinator::MakePlan(std::string_view key, const ConsistencyLevel& level, Plan* plan,
                           std::string* error) const {
  const std::vector<const NodeInfo*> replicas = ReplicasOf(ring_, key, options_);
  if (options_.replicas_per_dc.empty()) {
    plan->requirements = {AckRequirement{"", RequiredAcks(level, options_.replication_factor)}};
  } else {
    if (!ResolveConsistency(level, options_.replicas_per_dc, self_.dc, &plan->requirements,
                            error)) {
      *error = "ERR " + *error;
      return false;
    }
  }
  if (replicas.empty()) {
    *error = "UNAVAILABLE no replicas for the key";
    return false;
  }
  plan->targets.clear();
  for (const NodeInfo* node : replicas) plan->targets.push_back(QuorumTarget{node->id, node->dc});
  return true;
}

void Coordinator::Read(std::string key, const ConsistencyLevel& level,
                       std::function<void(ReadResult)> done) {
  ++stats_.reads;
  Plan plan;
  std::string error;
  if (stopped_) error = kStoppingError;
  if (!error.empty() || !MakePlan(key, level, &plan, &error)) {
    ++stats_.read_failures;
    ReadResult result;
    result.error = std::move(error);
    deferrer_.Defer([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
    return;
  }
  // The local copy costs no network and a dead peer only a retry, so those come first and last.
  std::stable_partition(plan.targets.begin(), plan.targets.end(), [&](const QuorumTarget& t) {
    return t.node == self_.id;
  });
  std::stable_partition(plan.targets.begin(), plan.targets.end(), [&](const QuorumTarget& t) {
    return t.node == self_.id || peers_.Reachable(t.node);
  });
  auto op = std::make_shared<ReadOp>(std::move(key), plan, std::move(done));
  if (op->tracker.decided()) {  // a level no number of replies can meet: ask nobody
    AnswerRead(*op);
    return;
  }
  op->payload = std::make_shared<const std::string>(bus::EncodeReplicaGet(op->key));
  std::vector<std::size_t> first;
  if (options_.read_repair_chance > 0 &&
      std::uniform_real_distribution<double>(0, 1)(rng_) < options_.read_repair_chance) {
    ++stats_.read_repair_checks;
    for (std::size_t i = 0; i < op->targets.size(); ++i) first.push_back(i);
  } else {
    first = FewestMeeting(op->targets, plan.requirements);
  }
  // All are counted as asked before any is: a reply that comes back at once (the local copy, a
  // refused send) must not find the read idle and repair or retry before the rest went out.
  for (std::size_t i : first) {
    op->asked[i] = true;
    op->tracker.Asking();
  }
  for (std::size_t i : first) Ask(op, i);
}

void Coordinator::Ask(const std::shared_ptr<ReadOp>& op, std::size_t index) {
  const std::string& node = op->targets[index].node;
  if (node == self_.id) {
    // The local replica needs no network; its answer still reaches the client only through
    // the deferrer, like any other.
    Copy copy{node, {}, {}};
    copy.set = local_.Get(op->key, &copy.encoded);
    OnReadReply(op, index, &copy);
    return;
  }
  auto on_reply = [this, op, index](PeerClient::Response response) {
    Copy copy;
    const bool ok = response.ok && DecodeCopy(op->targets[index].node, response.payload, &copy);
    OnReadReply(op, index, ok ? &copy : nullptr);
  };
  std::string send_error;
  if (!peers_.Send(node, bus::FrameType::kReplicaGet, op->payload, std::move(on_reply),
                   &send_error)) {
    OnReadReply(op, index, nullptr);
  }
}

void Coordinator::AskAnother(const std::shared_ptr<ReadOp>& op, std::string_view dc) {
  std::size_t next = op->targets.size();
  for (std::size_t i = 0; i < op->targets.size(); ++i) {
    if (op->asked[i]) continue;
    if (next == op->targets.size()) next = i;
    if (op->targets[i].dc == dc) {  // a stand-in from the same dc meets the same requirement
      next = i;
      break;
    }
  }
  if (next == op->targets.size()) return;
  ++stats_.read_retries;
  op->asked[next] = true;
  op->tracker.Asking();
  Ask(op, next);
}

bool Coordinator::DecodeCopy(const std::string& node, std::string_view payload, Copy* copy) {
  bus::ReplyStatus status;
  std::string_view encoded;
  copy->node = node;
  if (!bus::DecodeReply(payload, &status, &encoded) ||
      (status == bus::ReplyStatus::kValue && !SiblingSet::Decode(encoded, &copy->set))) {
    ++stats_.bus_protocol_errors;
    if (options_.log_warning) {
      options_.log_warning("Cluster bus: node " + node + " sent an invalid REPLICA_GET reply");
    }
    return false;
  }
  copy->encoded.assign(encoded);
  return true;
}

void Coordinator::OnReadReply(const std::shared_ptr<ReadOp>& op, std::size_t index, Copy* copy) {
  const QuorumTarget& target = op->targets[index];
  op->tracker.OnReply(target.node, copy != nullptr);
  if (copy != nullptr) op->copies.push_back(std::move(*copy));
  // Each failure is replaced by a replica not asked yet; and should every asked one have
  // answered without meeting the level (a target listed twice), the rest are asked too.
  if (!op->tracker.decided() && op->tracker.anyone_unasked() &&
      (copy == nullptr || op->tracker.idle())) {
    AskAnother(op, target.dc);
  }
  if (!op->answered && op->tracker.decided()) AnswerRead(*op);
  if (!op->repaired && op->tracker.decided() && op->tracker.idle()) {
    op->repaired = true;
    RepairStale(*op);
  }
}

void Coordinator::AnswerRead(ReadOp& op) {
  op.answered = true;
  ReadResult result;
  if (op.tracker.succeeded()) {
    result.ok = true;
    for (const Copy& each : op.copies) result.siblings.Merge(each.set);
    // A replica that has not applied a FLUSHALL yet must not show what it emptied.
    local_.DropFlushed(&result.siblings);
    // A write that follows this read must sort after what it saw.
    local_.ObserveRead(op.key, result.siblings);
  } else {
    ++stats_.read_failures;
    result.error = op.tracker.error();
  }
  deferrer_.Defer([done = std::move(op.done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void Coordinator::RepairStale(const ReadOp& op) {
  SiblingSet merged;
  for (const Copy& copy : op.copies) merged.Merge(copy.set);
  local_.DropFlushed(&merged);
  if (merged.empty()) return;
  const std::string encoded = merged.Encode();
  std::shared_ptr<const std::string> payload;
  for (const Copy& copy : op.copies) {
    // Equal sets encode to equal bytes (canonical order), so bytes tell a stale copy.
    if (copy.encoded == encoded) continue;
    ++stats_.read_repairs;
    if (copy.node == self_.id) {
      const storage::Status status = local_.Put(op.key, merged);
      if (!status.ok() && options_.log_warning) {
        options_.log_warning("Read repair of the local replica failed: " + status.ToString());
      }
      continue;
    }
    if (!payload) {
      payload = std::make_shared<const std::string>(bus::EncodeReplicaPut(op.key, encoded));
    }
    // Best effort: a replica that misses the repair is repaired by a later read.
    auto ignore_reply = [](PeerClient::Response) {};
    std::string error;
    peers_.Send(copy.node, bus::FrameType::kReplicaPut, payload, ignore_reply, &error);
  }
}

void Coordinator::Write(std::string key, const SiblingSet& siblings, const ConsistencyLevel& level,
                        std::function<void(WriteResult)> done,
                        std::shared_ptr<WriteProgress> progress) {
  ++stats_.writes;
  Plan plan;
  std::string error;
  if (stopped_) error = kStoppingError;
  if (!error.empty() || !MakePlan(key, level, &plan, &error)) {
    ++stats_.write_failures;
    deferrer_.Defer([done = std::move(done), error = std::move(error)] {
      done(WriteResult{false, error});
    });
    return;
  }
  auto encoded = std::make_shared<const std::string>(siblings.Encode());
  auto op = std::make_shared<WriteOp>(key, plan, std::move(encoded), std::move(done));
  if (op->tracker.decided()) {  // a level no number of acks can meet: write nowhere
    AnswerWrite(*op);
    return;
  }
  op->tracker.AskingAll();  // every replica gets every write
  std::shared_ptr<const std::string> payload;
  for (const QuorumTarget& target : plan.targets) {
    if (target.node == self_.id) {
      const storage::Status status = local_.Put(key, siblings);
      if (!status.ok() && options_.log_warning) {
        options_.log_warning("Local replica write failed: " + status.ToString());
      }
      if (status.ok()) Replicated(progress);
      OnWriteReply(op, target.node, status.ok());
      continue;
    }
    if (!payload) {
      payload = std::make_shared<const std::string>(bus::EncodeReplicaPut(key, *op->encoded));
    }
    auto on_reply = [this, op, progress, node = target.node](PeerClient::Response response) {
      if (IsWriteAck(response)) {
        Replicated(progress);
        OnWriteReply(op, node, true);
      } else {
        StandIn(op, node, 0);
      }
    };
    std::string send_error;
    if (!peers_.Send(target.node, bus::FrameType::kReplicaPut, payload, std::move(on_reply),
                     &send_error)) {
      StandIn(op, target.node, 0);
    }
  }
}

void Coordinator::WriteBatch(std::vector<KeyedSet> writes, const ConsistencyLevel& level,
                             std::function<void(WriteResult)> done,
                             std::shared_ptr<WriteProgress> progress) {
  // Every key's own write is tracked (acks, stand-ins, the error) as Write tracks it; the batch
  // answers once all of them have, with the first failure.
  struct Batch {
    std::size_t waiting = 0;
    WriteResult result{true, {}};
    std::function<void(WriteResult)> done;
  };
  auto batch = std::make_shared<Batch>();
  batch->waiting = writes.size();
  batch->done = std::move(done);
  auto answer = [batch](WriteResult result) {
    if (!result.ok && batch->result.ok) batch->result = std::move(result);
    if (--batch->waiting == 0) batch->done(std::move(batch->result));
  };
  if (writes.empty()) {
    deferrer_.Defer([batch] { batch->done(batch->result); });
    return;
  }
  Plan plan;
  std::string error;
  bool together = !stopped_ && MakePlan(writes.front().key, level, &plan, &error);
  for (std::size_t i = 1; together && i < writes.size(); ++i) {
    Plan other;
    together = MakePlan(writes[i].key, level, &other, &error) &&
               std::equal(plan.targets.begin(), plan.targets.end(), other.targets.begin(),
                          other.targets.end(), [](const QuorumTarget& a, const QuorumTarget& b) {
                            return a.node == b.node;
                          });
  }
  if (!together) {  // stopping, no plan, or keys of several replica sets: one write per key
    for (KeyedSet& write : writes) Write(std::move(write.key), write.set, level, answer);
    return;
  }
  std::vector<std::shared_ptr<WriteOp>> ops;
  std::vector<ae::KeySet> pairs;
  for (const KeyedSet& write : writes) {
    ++stats_.writes;
    auto encoded = std::make_shared<const std::string>(write.set.Encode());
    ops.push_back(std::make_shared<WriteOp>(write.key, plan, std::move(encoded), answer));
    ops.back()->tracker.AskingAll();
    pairs.push_back(ae::KeySet{ops.back()->key, *ops.back()->encoded});
  }
  if (ops.front()->tracker.decided()) {  // a level no number of acks can meet
    for (const auto& op : ops) AnswerWrite(*op);
    return;
  }
  std::shared_ptr<const std::string> payload;
  for (const QuorumTarget& target : plan.targets) {
    if (target.node == self_.id) {
      std::vector<std::pair<std::string_view, SiblingSet>> local;
      for (const KeyedSet& write : writes) local.emplace_back(write.key, write.set);
      const storage::Status status = local_.PutBatch(local);
      if (!status.ok() && options_.log_warning) {
        options_.log_warning("Local replica write failed: " + status.ToString());
      }
      if (status.ok()) Replicated(progress);
      for (const auto& op : ops) OnWriteReply(op, target.node, status.ok());
      continue;
    }
    if (!payload) payload = std::make_shared<const std::string>(ae::EncodePush(pairs));
    auto on_reply = [this, ops, progress, node = target.node](PeerClient::Response response) {
      const bool ack = IsWriteAck(response);
      if (ack) Replicated(progress);
      for (const auto& op : ops) {
        if (ack) {
          OnWriteReply(op, node, true);
        } else {
          StandIn(op, node, 0);
        }
      }
    };
    std::string send_error;
    if (!peers_.Send(target.node, bus::FrameType::kReplicaPutBatch, payload, std::move(on_reply),
                     &send_error)) {
      for (const auto& op : ops) StandIn(op, target.node, 0);
    }
  }
}

void Coordinator::StandIn(const std::shared_ptr<WriteOp>& op, const std::string& owner,
                          int tries) {
  auto target = std::find_if(op->targets.begin(), op->targets.end(),
                             [&](const QuorumTarget& t) { return t.node == owner; });
  if (options_.sloppy_quorum && !stopped_ && target != op->targets.end() &&
      tries < kMaxStandInTries) {
    if (!op->stand_ins) {
      op->stand_ins = std::make_unique<StandIns>(ring_, op->key, op->targets,
                                                 !options_.replicas_per_dc.empty());
    }
    while (const QuorumTarget* stand_in = op->stand_ins->Next(target->dc)) {
      if (SendHinted(op, owner, stand_in->node, tries)) return;
    }
  }
  OnWriteReply(op, owner, false);
}

bool Coordinator::SendHinted(const std::shared_ptr<WriteOp>& op, const std::string& owner,
                             const std::string& stand_in, int tries) {
  if (stand_in == self_.id) {
    SiblingSet set;
    storage::Status status = SiblingSet::Decode(*op->encoded, &set)
                                 ? local_.StoreHint(owner, op->key, set)
                                 : storage::Status::Corruption("the write's set does not decode");
    // The hint stands for a replica's ack, so it is as durable as one before it counts.
    if (status.ok()) status = local_.FlushLog();
    if (!status.ok()) {
      if (options_.log_warning) {
        options_.log_warning("Keeping a hint for " + owner + " failed: " + status.ToString());
      }
      return false;
    }
    ++stats_.hinted_writes;
    OnWriteReply(op, owner, true);
    return true;
  }
  auto payload = std::make_shared<const std::string>(
      bus::EncodeReplicaPutHinted(op->key, *op->encoded, owner));
  auto on_reply = [this, op, owner, tries](PeerClient::Response response) {
    if (IsWriteAck(response)) {
      OnWriteReply(op, owner, true);
    } else {
      StandIn(op, owner, tries + 1);
    }
  };
  std::string error;
  if (!peers_.Send(stand_in, bus::FrameType::kReplicaPutHinted, payload, std::move(on_reply),
                   &error)) {
    return false;
  }
  ++stats_.hinted_writes;
  return true;
}

void Coordinator::OnWriteReply(const std::shared_ptr<WriteOp>& op, const std::string& node,
                               bool ok) {
  op->tracker.OnReply(node, ok);
  if (!op->answered && op->tracker.decided()) AnswerWrite(*op);
}

void Coordinator::Replicated(const std::shared_ptr<WriteProgress>& progress) {
  if (!progress) return;
  ++progress->acked;
  if (progress->on_ack) deferrer_.Defer([progress] { progress->on_ack(); });
}

void Coordinator::AnswerWrite(WriteOp& op) {
  op.answered = true;
  WriteResult result;
  result.ok = op.tracker.succeeded();
  if (!result.ok) {
    ++stats_.write_failures;
    result.error = op.tracker.error();
  }
  deferrer_.Defer([done = std::move(op.done), result = std::move(result)] { done(result); });
}

}  // namespace dynakv::cluster
