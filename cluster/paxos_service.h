// Answers the PAXOS_* requests of coordinators (this node's own included, which call it without
// the bus): decodes, applies the acceptor's rules (paxos_acceptor.h) and, for a commit, merges
// the proposal's set into this node's replica as an ordinary replica write before recording the
// commit's ballot.
#pragma once

#include <string_view>

#include "bus_server.h"
#include "cluster/bus_protocol.h"
#include "paxos_acceptor.h"
#include "replica_service.h"

namespace dynakv::cluster {

class PaxosService {
 public:
  // Every reference must outlive the service; `acceptor` may be null (none opened: every
  // request is refused).
  PaxosService(PaxosAcceptor* acceptor, ReplicaService& replica, ClusterStats& stats)
      : acceptor_(acceptor), replica_(replica), stats_(stats) {}

  void set_acceptor(PaxosAcceptor* acceptor) { acceptor_ = acceptor; }
  // A PAXOS_PREPARE, PAXOS_PROPOSE or PAXOS_COMMIT payload. A commit's reply needs the
  // replica's log flushed before it goes out (needs_durable_log); the acceptor's state is
  // already durable when this returns.
  BusServer::ServiceReply Serve(bus::FrameType type, std::string_view payload);

 private:
  PaxosAcceptor* acceptor_;
  ReplicaService& replica_;
  ClusterStats& stats_;
};

}  // namespace dynakv::cluster
