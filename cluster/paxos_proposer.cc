#include "paxos_proposer.h"

#include <algorithm>
#include <utility>

#include "peer_requests.h"
#include "placement.h"

namespace dynakv::cluster {

struct PaxosProposer::Op {
  std::string instance;           // the Paxos instance: the key, or its tag's (paxos::InstanceOf)
  std::vector<std::string> keys;  // the keys read and written (distinct, one instance)
  bool group = false;             // PAXOS_PREPARE_GROUP and group proposals (a tag's instance)
  std::string level;              // "SERIAL" or "LOCAL_SERIAL", for errors
  CasGroupCompute compute;
  std::function<void(CasResult)> done;
  std::vector<std::string> participants;  // the acceptors: a majority of them decides
  std::vector<std::string> others;        // replicas outside them (LOCAL_SERIAL): commits only
  std::size_t majority = 0;
  std::uint64_t deadline_ms = 0;  // uv_now
  std::uint64_t round = 0;        // answers of an older round are dropped
  int backoffs = 0;
  paxos::Ballot ballot;
  std::vector<paxos::Promise> promises;
  // Per compute call: the dot of a version it added and that version's key (dot 0: none).
  std::vector<std::pair<std::size_t, std::uint64_t>> attempt_dots;
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
  std::vector<std::string> keys{key};
  CasGroup(
      std::move(keys), local_dc,
      [compute = std::move(compute), key = std::move(key)](
          const std::vector<SiblingSet>& current,
          std::size_t attempt) -> std::optional<std::vector<KeyedSet>> {
        std::optional<SiblingSet> next = compute(current[0], attempt);
        if (!next) return std::nullopt;
        std::vector<KeyedSet> writes;
        writes.push_back(KeyedSet{key, std::move(*next)});
        return writes;
      },
      std::move(done), std::move(progress));
}

void PaxosProposer::CasGroup(std::vector<std::string> keys, bool local_dc, CasGroupCompute compute,
                             std::function<void(CasResult)> done,
                             std::shared_ptr<WriteProgress> progress) {
  auto op = std::make_shared<Op>();
  op->progress = std::move(progress);
  op->keys = std::move(keys);
  op->level = local_dc ? "LOCAL_SERIAL" : "SERIAL";
  op->compute = std::move(compute);
  op->done = std::move(done);
  ops_.insert(op);
  ++stats_.serial_requests;
  if (op->keys.empty()) {
    Finish(op, CasResult{false, "ERR SERIAL needs at least one key", 0});
    return;
  }
  op->instance = paxos::InstanceOf(op->keys[0]);
  for (const std::string& key : op->keys) {
    if (paxos::InstanceOf(key) != op->instance) {
      Finish(op, CasResult{false, "CROSSSLOT Keys in request don't hash to the same slot", 0});
      return;
    }
  }
  op->group = op->keys.size() > 1 || op->instance != op->keys[0];
  for (const NodeInfo* replica : ReplicasOf(ring_, op->keys[0], options_)) {
    const bool participant = !local_dc || replica->dc == self_.dc;
    (participant ? op->participants : op->others).push_back(replica->id);
  }
  op->majority = op->participants.size() / 2 + 1;
  op->deadline_ms = uv_now(loop_) + static_cast<std::uint64_t>(options_.request_timeout_ms);
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
  std::string prepare = op->group ? paxos::EncodePrepareGroup(op->instance, op->ballot, op->keys)
                                  : paxos::EncodePrepare(op->instance, op->ballot);
  Broadcast(op, op->group ? bus::FrameType::kPaxosPrepareGroup : bus::FrameType::kPaxosPrepare,
            std::move(prepare), false,
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
  const paxos::Proposal* newest = nullptr;  // the highest accepted or committed proposal
  for (const paxos::Promise& promise : op->promises) {
    latest_commit = std::max(latest_commit, promise.committed);
    if (promise.has_accepted && (newest == nullptr || newest->ballot < promise.accepted.ballot)) {
      newest = &promise.accepted;
    }
  }
  if (newest != nullptr && latest_commit < newest->ballot) {
    // A round left unfinished (its coordinator died or lost the race after some accepted it):
    // complete it under this ballot, then start over on the value it leaves.
    ++stats_.serial_completed;
    paxos::Proposal repair = *newest;
    repair.ballot = op->ballot;
    Propose(op, repair,
            [this, op, repair] { Commit(op, repair, true, [this, op] { StartRound(op); }); });
    return;
  }
  // Promisers that missed the latest commit (its coordinator reached fewer than all, or died
  // while committing) may lack its sets, and after this round nothing would tell them: re-send
  // it (the promise of a replica that has it carries it) to a majority first, so every commit
  // is on a majority before a later one is made (Cassandra repairs its most recent commit so).
  const bool lagging =
      std::any_of(op->promises.begin(), op->promises.end(),
                  [&](const paxos::Promise& p) { return p.committed < latest_commit; });
  if (lagging && newest != nullptr && newest->ballot == latest_commit && !newest->noop) {
    ++stats_.serial_completed;
    const paxos::Proposal commit = *newest;
    Commit(op, commit, true, [this, op] { StartRound(op); });
    return;
  }
  std::vector<SiblingSet> current(op->keys.size());
  for (const paxos::Promise& promise : op->promises) {
    if (!MergeCopies(*op, promise.current, &current)) ++stats_.undecodable_values;
  }
  for (std::size_t i = 0; i < op->keys.size(); ++i) {
    replica_.DropFlushed(&current[i]);
    replica_.ObserveRead(op->keys[i], current[i]);
  }
  // Did a round (ours, or one that completed ours) already apply an earlier attempt? This
  // node's writes of the keys wait for this command (key locks above), so each key's history
  // holds this node's dots up to the attempt that took effect; a group is committed whole, so
  // one key of it tells.
  for (std::size_t i = op->attempt_dots.size(); i-- > 0;) {
    const auto [index, dot] = op->attempt_dots[i];
    if (dot != 0 && dot <= current[index].Context().Get(self_.id)) {
      Finish(op, CasResult{true, {}, i});
      return;
    }
  }
  const std::size_t attempt = op->attempt_dots.size();
  std::optional<std::vector<KeyedSet>> next = op->compute(current, attempt);
  if (next && next->empty()) next.reset();
  paxos::Proposal proposal;
  proposal.ballot = op->ballot;
  std::pair<std::size_t, std::uint64_t> attempt_dot{0, 0};
  if (next) {
    std::vector<paxos::KeyCopy> copies;
    for (KeyedSet& write : *next) {
      const std::size_t index = static_cast<std::size_t>(
          std::find(op->keys.begin(), op->keys.end(), write.key) - op->keys.begin());
      if (index == op->keys.size()) {  // the layer above broke the contract: apply nothing
        Finish(op, CasResult{false, "ERR SERIAL command wrote a key it did not read", 0});
        return;
      }
      const std::uint64_t seen = current[index].Context().Get(self_.id);
      for (const Version& version : write.set.versions()) {
        if (version.origin_node == self_.id && version.dot > seen &&
            version.dot > attempt_dot.second) {
          attempt_dot = {index, version.dot};
        }
      }
      copies.push_back(paxos::KeyCopy{write.key, write.set.Encode()});
    }
    if (op->group) {
      proposal.group = true;
      proposal.encoded_set = paxos::EncodeGroup(copies);
    } else {
      proposal.encoded_set = std::move(copies[0].encoded);
    }
    op->value_proposed = true;
  } else {
    proposal.noop = true;  // seals the read: older proposals can no longer complete after it
  }
  op->attempt_dots.push_back(attempt_dot);
  if (!proposal.noop && failpoint_ == PaxosFailpoint::kStopAfterSelfAccept) {
    // Drill: only this node accepts the proposal, then the coordinator "dies".
    service_.Serve(bus::FrameType::kPaxosPropose, paxos::EncodeProposal(op->instance, proposal));
    return;
  }
  Propose(op, proposal, [this, op, proposal, attempt] {
    if (proposal.noop) {
      // Nothing to wait for: the commit only clears the acceptors' state.
      Commit(op, proposal, false, [] {});
      Finish(op, CasResult{true, {}, attempt});
      return;
    }
    if (failpoint_ == PaxosFailpoint::kStopAfterAccept) return;  // drill: "dies" here
    if (failpoint_ == PaxosFailpoint::kStopAfterSelfCommit) {
      // Drill: the commit reaches this node only, then the coordinator "dies".
      service_.Serve(bus::FrameType::kPaxosCommit, paxos::EncodeProposal(op->instance, proposal));
      return;
    }
    Commit(op, proposal, false, [this, op, attempt] { Finish(op, CasResult{true, {}, attempt}); });
  });
}

bool PaxosProposer::MergeCopies(const Op& op, const std::string& encoded,
                                std::vector<SiblingSet>* current) {
  if (!op.group) {
    if (encoded.empty()) return true;
    SiblingSet copy;
    if (!SiblingSet::Decode(encoded, &copy)) return false;
    (*current)[0].Merge(copy);
    return true;
  }
  std::vector<paxos::KeyCopy> copies;
  if (!paxos::DecodeGroup(encoded, &copies) || copies.size() != op.keys.size()) return false;
  bool ok = true;
  for (std::size_t i = 0; i < copies.size(); ++i) {
    SiblingSet copy;
    if (copies[i].key != op.keys[i] ||
        (!copies[i].encoded.empty() && !SiblingSet::Decode(copies[i].encoded, &copy))) {
      ok = false;
      continue;
    }
    (*current)[i].Merge(copy);
  }
  return ok;
}

void PaxosProposer::Propose(const OpPtr& op, paxos::Proposal proposal,
                            std::function<void()> accepted) {
  auto tally = std::make_shared<Tally>();
  tally->round = op->round;
  tally->waiting = op->participants.size();
  Broadcast(op, bus::FrameType::kPaxosPropose, paxos::EncodeProposal(op->instance, proposal), false,
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

void PaxosProposer::Commit(const OpPtr& op, paxos::Proposal proposal, bool need_majority,
                           std::function<void()> committed) {
  auto tally = std::make_shared<Tally>();
  tally->round = op->round;
  tally->waiting = op->participants.size();
  // Every replica's acknowledgement of this op's own proposal counts for WAIT, after the reply
  // too (its own callback: the tally's stops once the commit is decided). A re-sent commit
  // (need_majority) is an earlier round's value, not this op's write.
  std::function<void(const PeerClient::Response&)> counted;
  if (op->progress && !need_majority) {
    counted = [progress = op->progress](const PeerClient::Response& response) {
      if (!response.ok) return;
      ++progress->acked;
      if (progress->on_ack) progress->on_ack();
    };
  }
  Broadcast(op, bus::FrameType::kPaxosCommit, paxos::EncodeProposal(op->instance, proposal), true,
            [this, op, tally, need_majority, committed = std::move(committed)](
                const std::string& node, PeerClient::Response response) {
              if (op->finished || tally->round != op->round || tally->decided) return;
              --tally->waiting;
              if (response.ok) {
                ++tally->oks;
              } else if (tally->failure.empty()) {
                tally->failure = node + ": " + response.error;
              }
              // A majority accepted the proposal, so it is chosen whatever the commit's fate:
              // any later round completes it where the commit did not arrive. The reply still
              // waits for the commit (or its failure), so that a majority usually holds it. A
              // re-sent commit (need_majority) must reach a majority before the round goes on.
              if (tally->oks >= op->majority) {
                tally->decided = true;
                committed();
              } else if (tally->waiting == 0) {
                tally->decided = true;
                if (!need_majority) {
                  committed();
                } else {
                  Retry(op, false,
                        "not enough replicas took the " + op->level + " commit (needed " +
                            std::to_string(op->majority) + ", got " + std::to_string(tally->oks) +
                            "; " + tally->failure + ")");
                }
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
