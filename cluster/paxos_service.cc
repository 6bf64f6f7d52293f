#include "paxos_service.h"

#include <string>

#include "cluster/paxos.h"
#include "cluster/versioned_value.h"

namespace dynakv::cluster {

namespace {

BusServer::ServiceReply Refuse(std::string message) {
  return BusServer::ServiceReply{false, std::move(message), false};
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
    case bus::FrameType::kPaxosPropose: {
      paxos::Proposal proposal;
      SiblingSet set;
      if (!paxos::DecodeProposal(payload, &key, &proposal) ||
          (!proposal.noop && !SiblingSet::Decode(proposal.encoded_set, &set))) {
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
      SiblingSet set;
      if (!paxos::DecodeProposal(payload, &key, &proposal) ||
          (!proposal.noop && !SiblingSet::Decode(proposal.encoded_set, &set))) {
        break;
      }
      ++stats_.replica_requests_served;
      if (!proposal.noop) {
        storage::Status status = replica_.Put(key, set);
        // The value is durable before the ballot that says it is there.
        if (status.ok()) status = replica_.FlushLog();
        if (!status.ok()) return Refuse("replica write failed: " + status.ToString());
      }
      if (storage::Status status = acceptor_->Commit(key, proposal.ballot); !status.ok()) {
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
