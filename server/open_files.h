// Fitting maxclients to the process's open-file limit, as Redis's adjustOpenFilesLimit does.
#pragma once

#include <cstdint>

#include "log.h"

namespace dynakv::server {

// Descriptors kept for the node itself beside its clients (Redis's CONFIG_MIN_RESERVED_FDS).
// A standalone node holds about 15: stdio, the data dir's LOCK, the commit log, one per disk
// segment, the event loop's epoll, signal pipes and eventfd, the listener and its spare
// descriptor (listener.h); a checkpoint or compaction briefly opens a few files more. A cluster
// node adds about 5 (its hint store's LOCK and log, the bus listener), plus two connections per
// peer, which count against maxclients instead, as in Redis (Server::Accept).
constexpr int kReservedFds = 32;
// In cluster mode the bus also holds connections still in their handshake, not yet known to be
// from members: up to cluster/bus_server.h's kMaxHandshaking of them.
constexpr int kClusterHandshakeFds = 128;

inline int ReservedFds(bool cluster_enabled) {
  return kReservedFds + (cluster_enabled ? kClusterHandshakeFds : 0);
}

struct OpenFilesFit {
  int maxclients = 0;       // what fits: the asked number, or fewer; <= 0 when not even the reserve
  std::uint64_t limit = 0;  // RLIMIT_NOFILE's soft limit now in force
};

// Raises RLIMIT_NOFILE to maxclients + `reserved` (ReservedFds) when it is lower: the soft limit
// up to the hard one, or both when the process may raise the hard limit too. When that is not
// possible, returns the maxclients that fits the limit it has and logs Redis's warnings about it.
OpenFilesFit AdjustOpenFilesLimit(int maxclients, int reserved, LogLevel level);

}  // namespace dynakv::server
