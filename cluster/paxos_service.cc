#include "paxos_service.h"

#include <string>
#include <utility>
#include <vector>

#include "cluster/paxos.h"
#include "cluster/versioned_value.h"

namespace dynakv::cluster {

namespace {

BusServer::ServiceReply Refuse(std::string message) {
  return BusServer::ServiceReply{false, std::move(message), false};
}

// A proposal's sets: one (the instance is the key) or a group's. False when any does not decode.
bool DecodeSets(std::string_view instance, const paxos::Proposal& proposal,
                std::vector<std::pair<std::string, SiblingSet>>* sets) {
  if (proposal.noop) return true;
  if (!proposal.group) {
    // One key's set: the instance is that key (a tagged key's rounds are its tag's).
    if (paxos::InstanceOf(instance) != instance) return false;
    SiblingSet set;
    if (!SiblingSet::Decode(proposal.encoded_set, &set)) return false;
    sets->emplace_back(std::string(instance), std::move(set));
    return true;
  }
  std::vector<paxos::KeyCopy> copies;
  if (!paxos::DecodeGroup(proposal.encoded_set, &copies) || copies.empty()) return false;
  for (paxos::KeyCopy& copy : copies) {
    SiblingSet set;
    // Every key of a group belongs to the instance's tag: a peer cannot reach other keys.
    if (paxos::InstanceOf(copy.key) != instance || !SiblingSet::Decode(copy.encoded, &set)) {
      return false;
    }
    sets->emplace_back(std::move(copy.key), std::move(set));
  }
  return true;
}

}  // namespace

BusServer::ServiceReply PaxosService::Serve(bus::FrameType type, std::string_view payload) {
  if (acceptor_ == nullptr) return Refuse("this node keeps no paxos state");
  std::string_view key;
  switch (type) {
    case bus::FrameType::kPaxosPrepare: {
      paxos::Ballot ballot;
      if (!paxos::DecodePrepare(payload, &key, &ballot)) break;
      ++stats_.replica_requests_served;
      paxos::Promise promise;
      if (storage::Status status = acceptor_->Prepare(key, ballot, &promise); !status.ok()) {
        return Refuse("paxos state write failed: " + status.ToString());
      }
      // The read rides on the promise: the copy as it is once the promise is durable.
      promise.current = replica_.GetEncoded(key);
      return BusServer::ServiceReply{true, paxos::EncodePromise(promise), false};
    }
    case bus::FrameType::kPaxosPrepareGroup: {
      paxos::Ballot ballot;
      std::vector<std::string_view> keys;
      if (!paxos::DecodePrepareGroup(payload, &key, &ballot, &keys)) break;
      bool own = true;
      for (std::string_view one : keys) own = own && paxos::InstanceOf(one) == key;
      if (!own) break;
      ++stats_.replica_requests_served;
      paxos::Promise promise;
      if (storage::Status status = acceptor_->Prepare(key, ballot, &promise); !status.ok()) {
        return Refuse("paxos state write failed: " + status.ToString());
      }
      // Every key's copy as it is once the promise is durable: one snapshot (the loop runs
      // nothing else in between).
      std::vector<paxos::KeyCopy> copies;
      for (std::string_view one : keys) {
        copies.push_back(paxos::KeyCopy{std::string(one), replica_.GetEncoded(one)});
      }
      promise.current = paxos::EncodeGroup(copies);
      return BusServer::ServiceReply{true, paxos::EncodePromise(promise), false};
    }
    case bus::FrameType::kPaxosPropose: {
      paxos::Proposal proposal;
      std::vector<std::pair<std::string, SiblingSet>> sets;
      if (!paxos::DecodeProposal(payload, &key, &proposal) || !DecodeSets(key, proposal, &sets)) {
        break;
      }
      ++stats_.replica_requests_served;
      paxos::AcceptReply reply;
      if (storage::Status status = acceptor_->Propose(key, proposal, &reply); !status.ok()) {
        return Refuse("paxos state write failed: " + status.ToString());
      }
      return BusServer::ServiceReply{true, paxos::EncodeAcceptReply(reply), false};
    }
    case bus::FrameType::kPaxosCommit: {
      paxos::Proposal proposal;
      std::vector<std::pair<std::string, SiblingSet>> sets;
      if (!paxos::DecodeProposal(payload, &key, &proposal) || !DecodeSets(key, proposal, &sets)) {
        break;
      }
      ++stats_.replica_requests_served;
      if (!proposal.noop) {
        // A group's keys are stored as ONE atomic group of the engine: a crash leaves all of
        // them or none (then the proposal is still accepted here, and the next round completes it).
        std::vector<std::pair<std::string_view, SiblingSet>> writes;
        for (auto& [one, set] : sets) writes.emplace_back(one, std::move(set));
        storage::Status status = writes.size() == 1
                                     ? replica_.Put(writes[0].first, writes[0].second)
                                     : replica_.PutBatch(writes);
        // The value is durable before the ballot that says it is there.
        if (status.ok()) status = replica_.FlushLog();
        if (!status.ok()) return Refuse("replica write failed: " + status.ToString());
      }
      if (storage::Status status = acceptor_->Commit(key, proposal); !status.ok()) {
        return Refuse("paxos state write failed: " + status.ToString());
      }
      return BusServer::ServiceReply{true, bus::EncodeReply(), !proposal.noop};
    }
    default:
      break;
  }
  ++stats_.bus_protocol_errors;
  return Refuse(std::string("malformed ") + bus::FrameTypeName(type));
}

}  // namespace dynakv::cluster
