#include "paxos_proposer.h"

#include <algorithm>
#include <utility>

#include "peer_requests.h"
#include "placement.h"

namespace dynakv::cluster {

struct PaxosProposer::Op {
  std::string key;
  std::string level;  // "SERIAL" or "LOCAL_SERIAL", for errors
  CasCompute compute;
  std::function<void(CasResult)> done;
  std::vector<std::string> participants;  // the acceptors: a majority of them decides
  std::vector<std::string> others;        // replicas outside them (LOCAL_SERIAL): commits only
  std::size_t majority = 0;
  std::uint64_t deadline_ms = 0;  // uv_now
  std::uint64_t round = 0;        // answers of an older round are dropped
  int backoffs = 0;
  paxos::Ballot ballot;
  std::vector<paxos::Promise> promises;
  // Per compute call: the dot of the version it added (0: none, a no-op).
  std::vector<std::uint64_t> attempt_dots;
  bool value_proposed = false;  // a proposal of this command's new value went out
  bool finished = false;
  // Counts the replicas that acknowledge the commit of the command's new value (WAIT).
  std::shared_ptr<WriteProgress> progress;
  net::UvHandle<uv_timer_t> timer;  // the backoff between rounds
  std::function<void()> on_timer;
};

// One phase's answers from the participants.
struct PaxosProposer::Tally {
  std::uint64_t round = 0;
  std::size_t waiting = 0;
  std::size_t oks = 0;
  std::size_t refused = 0;
  bool decided = false;
  std::string failure;  // the first participant's failure, "<node>: <why>"
};

PaxosProposer::PaxosProposer(uv_loop_t* loop, const NodeInfo& self, const Ring& ring,
                             const ClusterOptions& options, ReplicaService& replica,
                             PaxosService& service, PeerPool& peers, Deferrer& deferrer,
                             HybridClock& clock, ClusterStats& stats,
                             std::function<bool(std::string_view)> alive)
    : loop_(loop),
      self_(self),
      ring_(ring),
      options_(options),
      replica_(replica),
      service_(service),
      peers_(peers),
      deferrer_(deferrer),
      clock_(clock),
      stats_(stats),
      alive_(std::move(alive)),
      rng_(std::random_device{}() ^ std::hash<std::string>{}(self.id)) {}

PaxosProposer::~PaxosProposer() = default;

void PaxosProposer::Cas(std::string key, bool local_dc, CasCompute compute,
                        std::function<void(CasResult)> done,
                        std::shared_ptr<WriteProgress> progress) {
  auto op = std::make_shared<Op>();
  op->progress = std::move(progress);
  op->key = std::move(key);
  op->level = local_dc ? "LOCAL_SERIAL" : "SERIAL";
  op->compute = std::move(compute);
  op->done = std::move(done);
  for (const NodeInfo* replica : ReplicasOf(ring_, op->key, options_)) {
    const bool participant = !local_dc || replica->dc == self_.dc;
    (participant ? op->participants : op->others).push_back(replica->id);
  }
  op->majority = op->participants.size() / 2 + 1;
  op->deadline_ms = uv_now(loop_) + static_cast<std::uint64_t>(options_.request_timeout_ms);
  ops_.insert(op);
  ++stats_.serial_requests;
  if (op->participants.empty()) {
    Finish(op, CasResult{false,
                         local_dc ? "UNAVAILABLE LOCAL_SERIAL needs replicas of the key in the "
                                    "local dc '" +
                                        self_.dc + "'"
                                  : "UNAVAILABLE no replicas for the key",
                         0});
    return;
  }
  StartRound(op);
}

void PaxosProposer::StartRound(const OpPtr& op) {
  if (op->finished) return;
  if (stopped_) {
    Finish(op, CasResult{false, "UNAVAILABLE cluster node is stopping", 0});
    return;
  }
  if (uv_now(loop_) >= op->deadline_ms) {
    Finish(op, CasResult{false,
                         op->value_proposed ? UnknownOutcome("no round completed")
                                            : "TIMEOUT SERIAL round not won within " +
                                                  std::to_string(options_.request_timeout_ms) +
                                                  " ms; the command was not applied",
                         0});
    return;
  }
  ++op->round;
  // Members the failure detector holds down would only time out: fail at once, as Cassandra
  // refuses a CAS with too few live replicas.
  const std::size_t up = static_cast<std::size_t>(
      std::count_if(op->participants.begin(), op->participants.end(),
                    [&](const std::string& id) { return id == self_.id || alive_(id); }));
  if (up < op->majority) {
    Retry(op, false,
          "not enough replicas alive for " + op->level + " (needed " +
              std::to_string(op->majority) + ", alive " + std::to_string(up) + ")");
    return;
  }
  ++stats_.serial_rounds;
  op->ballot = paxos::Ballot{clock_.Tick(replica_.NowUs()), self_.id};
  op->promises.clear();
  auto tally = std::make_shared<Tally>();
  tally->round = op->round;
  tally->waiting = op->participants.size();
  Broadcast(op, bus::FrameType::kPaxosPrepare, paxos::EncodePrepare(op->key, op->ballot), false,
            [this, op, tally](const std::string& node, PeerClient::Response response) {
              if (op->finished || tally->round != op->round || tally->decided) return;
              --tally->waiting;
              paxos::Promise promise;
              if (!response.ok || !paxos::DecodePromise(response.payload, &promise)) {
                if (tally->failure.empty()) {
                  tally->failure =
                      node + ": " + (response.ok ? "malformed promise" : response.error);
                }
              } else if (!promise.promised) {
                ++tally->refused;
                clock_.Observe(promise.promised_ballot.micros);  // the next ballot passes it
              } else {
                ++tally->oks;
                op->promises.push_back(std::move(promise));
              }
              if (tally->oks >= op->majority) {
                tally->decided = true;
                OnPromises(op);
              } else if (tally->oks + tally->waiting < op->majority) {
                tally->decided = true;
                Retry(op, tally->refused > 0,
                      "not enough replicas for " + op->level + " (needed " +
                          std::to_string(op->majority) + ", got " + std::to_string(tally->oks) +
                          "; " + tally->failure + ")");
              }
            });
}

void PaxosProposer::OnPromises(const OpPtr& op) {
  paxos::Ballot latest_commit;
  const paxos::Proposal* in_progress = nullptr;
  for (const paxos::Promise& promise : op->promises) {
    latest_commit = std::max(latest_commit, promise.committed);
    if (promise.has_accepted &&
        (in_progress == nullptr || in_progress->ballot < promise.accepted.ballot)) {
      in_progress = &promise.accepted;
    }
  }
  if (in_progress != nullptr && latest_commit < in_progress->ballot) {
    // A round left unfinished (its coordinator died or lost the race after some accepted it):
    // complete it under this ballot, then start over on the value it leaves.
    ++stats_.serial_completed;
    paxos::Proposal repair = *in_progress;
    repair.ballot = op->ballot;
    Propose(op, repair, [this, op, repair] { Commit(op, repair, [this, op] { StartRound(op); }); });
    return;
  }
  SiblingSet current;
  for (const paxos::Promise& promise : op->promises) {
    SiblingSet copy;
    if (promise.current.empty()) continue;
    if (SiblingSet::Decode(promise.current, &copy)) {
      current.Merge(copy);
    } else {
      ++stats_.undecodable_values;
    }
  }
  replica_.DropFlushed(&current);
  replica_.ObserveRead(op->key, current);
  // Did a round (ours, or one that completed ours) already apply an earlier attempt? This
  // node's writes of the key wait for this command (key locks above), so the key's history
  // holds this node's dots up to the attempt that took effect.
  const std::uint64_t seen = current.Context().Get(self_.id);
  for (std::size_t i = op->attempt_dots.size(); i-- > 0;) {
    if (op->attempt_dots[i] != 0 && op->attempt_dots[i] <= seen) {
      Finish(op, CasResult{true, {}, i});
      return;
    }
  }
  const std::size_t attempt = op->attempt_dots.size();
  std::optional<SiblingSet> next = op->compute(current, attempt);
  paxos::Proposal proposal;
  proposal.ballot = op->ballot;
  std::uint64_t dot = 0;
  if (next) {
    for (const Version& version : next->versions()) {
      if (version.origin_node == self_.id && version.dot > seen) dot = std::max(dot, version.dot);
    }
    proposal.encoded_set = next->Encode();
    op->value_proposed = true;
  } else {
    proposal.noop = true;  // seals the read: older proposals can no longer complete after it
  }
  op->attempt_dots.push_back(dot);
  if (!proposal.noop && failpoint_ == PaxosFailpoint::kStopAfterSelfAccept) {
    // Drill: only this node accepts the proposal, then the coordinator "dies".
    service_.Serve(bus::FrameType::kPaxosPropose, paxos::EncodeProposal(op->key, proposal));
    return;
  }
  Propose(op, proposal, [this, op, proposal, attempt] {
    if (proposal.noop) {
      // Nothing to wait for: the commit only clears the acceptors' state.
      Commit(op, proposal, [] {});
      Finish(op, CasResult{true, {}, attempt});
      return;
    }
    if (failpoint_ == PaxosFailpoint::kStopAfterAccept) return;  // drill: "dies" here
    Commit(
        op, proposal,
        [this, op, attempt] {
          Finish(op, CasResult{true, {}, attempt});
        },
        op->progress);
  });
}

void PaxosProposer::Propose(const OpPtr& op, paxos::Proposal proposal,
                            std::function<void()> accepted) {
  auto tally = std::make_shared<Tally>();
  tally->round = op->round;
  tally->waiting = op->participants.size();
  Broadcast(op, bus::FrameType::kPaxosPropose, paxos::EncodeProposal(op->key, proposal), false,
            [this, op, tally, accepted = std::move(accepted)](const std::string& node,
                                                              PeerClient::Response response) {
              if (op->finished || tally->round != op->round || tally->decided) return;
              --tally->waiting;
              paxos::AcceptReply reply;
              if (!response.ok || !paxos::DecodeAcceptReply(response.payload, &reply)) {
                if (tally->failure.empty()) {
                  tally->failure = node + ": " + (response.ok ? "malformed reply" : response.error);
                }
              } else if (!reply.accepted) {
                ++tally->refused;
                clock_.Observe(reply.promised_ballot.micros);
              } else {
                ++tally->oks;
              }
              if (tally->oks >= op->majority) {
                tally->decided = true;
                accepted();
              } else if (tally->oks + tally->waiting < op->majority) {
                tally->decided = true;
                Retry(op, tally->refused > 0,
                      "not enough replicas accepted the " + op->level + " proposal (needed " +
                          std::to_string(op->majority) + ", got " + std::to_string(tally->oks) +
                          "; " + tally->failure + ")");
              }
            });
}

void PaxosProposer::Commit(const OpPtr& op, paxos::Proposal proposal,
                           std::function<void()> committed,
                           std::shared_ptr<WriteProgress> progress) {
  auto tally = std::make_shared<Tally>();
  tally->round = op->round;
  tally->waiting = op->participants.size();
  // Every replica's acknowledgement counts for WAIT, after the reply too (its own callback:
  // the tally's stops once the commit is decided).
  std::function<void(const PeerClient::Response&)> counted;
  if (progress) {
    counted = [progress](const PeerClient::Response& response) {
      if (!response.ok) return;
      ++progress->acked;
      if (progress->on_ack) progress->on_ack();
    };
  }
  Broadcast(
      op, bus::FrameType::kPaxosCommit, paxos::EncodeProposal(op->key, proposal), true,
      [op, tally, committed = std::move(committed)](const std::string&,
                                                    PeerClient::Response response) {
        if (op->finished || tally->round != op->round || tally->decided) return;
        --tally->waiting;
        if (response.ok) ++tally->oks;
        // A majority accepted the proposal, so it is chosen whatever the commit's fate:
        // any later round completes it where the commit did not arrive. The reply still
        // waits for the commit (or its failure), so that a majority usually holds it.
        if (tally->oks >= op->majority || tally->waiting == 0) {
          tally->decided = true;
          committed();
        }
      },
      std::move(counted));
}

void PaxosProposer::Broadcast(
    const OpPtr& op, bus::FrameType type, std::string payload, bool all_replicas,
    std::function<void(const std::string& node, PeerClient::Response)> each,
    std::function<void(const PeerClient::Response&)> every) {
  auto shared = std::make_shared<const std::string>(std::move(payload));
  auto callback = std::make_shared<decltype(each)>(std::move(each));
  auto every_callback = std::make_shared<decltype(every)>(std::move(every));
  std::vector<std::pair<std::string, bool>> targets;
  for (const std::string& node : op->participants) targets.emplace_back(node, true);
  if (all_replicas) {
    for (const std::string& node : op->others) targets.emplace_back(node, false);
  }
  for (const auto& [node, participant] : targets) {
    auto answer = [callback, every_callback, node = node,
                   participant = participant](PeerClient::Response r) {
      if (*every_callback) (*every_callback)(r);
      if (participant) (*callback)(node, std::move(r));
    };
    if (node == self_.id) {
      deferrer_.Defer([this, type, shared, answer] {
        BusServer::ServiceReply reply = service_.Serve(type, *shared);
        if (reply.ok) {
          answer(PeerClient::Response{true, {}, std::move(reply.payload)});
        } else {
          answer(PeerClient::Response{false, std::move(reply.payload), {}});
        }
      });
    } else {
      SendOrFail(peers_, deferrer_, node, type, shared, std::move(answer));
    }
  }
}

void PaxosProposer::Retry(const OpPtr& op, bool refused, const std::string& failure) {
  if (op->finished) return;
  if (!refused) {
    Finish(op,
           CasResult{false, op->value_proposed ? UnknownOutcome(failure) : "UNAVAILABLE " + failure,
                     0});
    return;
  }
  ++stats_.serial_contention;
  // Contention: another coordinator holds a higher ballot. Back off a random while (growing
  // with each refusal) so that competing coordinators stop preempting each other.
  const int cap_ms = 4 << std::min(op->backoffs, 4);
  ++op->backoffs;
  const std::uint64_t wait_ms = 1 + rng_() % static_cast<std::uint64_t>(cap_ms);
  if (uv_now(loop_) + wait_ms >= op->deadline_ms) {
    Finish(op, CasResult{false,
                         op->value_proposed ? UnknownOutcome("contention")
                                            : "TIMEOUT SERIAL round not won within " +
                                                  std::to_string(options_.request_timeout_ms) +
                                                  " ms (contention); the command was not applied",
                         0});
    return;
  }
  if (!op->timer) {
    std::weak_ptr<Op> weak = op;
    op->on_timer = [this, weak] {
      if (OpPtr locked = weak.lock()) StartRound(locked);
    };
    if (op->timer.Init([this](uv_timer_t* t) { return uv_timer_init(loop_, t); }, op.get()) != 0) {
      Finish(op, CasResult{false, "UNAVAILABLE cannot start a timer", 0});
      return;
    }
  }
  uv_timer_start(
      op->timer.get(), [](uv_timer_t* timer) { static_cast<Op*>(timer->data)->on_timer(); },
      wait_ms, 0);
}

std::string PaxosProposer::UnknownOutcome(const std::string& why) const {
  return "TIMEOUT SERIAL outcome unknown (" + why +
         "): the command's proposal went out but its round did not complete, so it may or may "
         "not have been applied (read the key at SERIAL to learn)";
}

void PaxosProposer::Finish(const OpPtr& op, CasResult result) {
  if (op->finished) return;
  op->finished = true;
  if (!result.ok) ++stats_.serial_failures;
  op->timer.Close();
  ops_.erase(op);
  deferrer_.Defer([done = std::move(op->done), result = std::move(result)] { done(result); });
}

void PaxosProposer::Stop(std::shared_ptr<void> token) {
  stopped_ = true;
  const std::set<OpPtr> ops = ops_;
  for (const OpPtr& op : ops) {
    op->timer.Close(token);
    Finish(op, CasResult{false, "UNAVAILABLE cluster node is stopping", 0});
  }
}

}  // namespace dynakv::cluster
