// The SERIAL workload: on every node, lock clients that take and release locks with
// SET lock:<k> <token> NX PX <ms> at SERIAL (release: a SERIAL GET that sees the own token, then a
// DEL, only while at most half the lease has passed), and register clients that run SERIAL GET,
// SET and INCR on a few registers; every operation is logged for CheckLocks and the
// linearizability check.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "serial_log.h"

namespace dynakv::faults {

struct SerialWorkloadOptions {
  std::vector<std::string> nodes;  // host:port of node 1, 2, ...
  int lock_clients_per_node = 2;
  int register_clients_per_node = 1;
  int locks = 2;
  int registers = 2;
  int px_ms = 1000;                 // the lease
  int register_ops_per_second = 8;  // per client: keeps each register's history searchable
  double seconds = 60;
  std::uint64_t seed = 1;
  int timeout_ms = 2000;
  // The connections' CONSISTENCY. QUORUM is the control that shows the checkers bite: a lock race
  // at QUORUM gives two holders, and its registers are not linearizable.
  std::string level = "SERIAL";
};

// Runs until `seconds` have passed; every operation sent, in no particular order.
std::vector<SerialOp> RunSerialWorkload(const SerialWorkloadOptions& options);

}  // namespace dynakv::faults
