// The workload: client threads that write (SET, DEL) and read (GET) a shared key space,
// increment a few counters (INCR, INCRBY, DECR, DECRBY) and add elements to and remove them from a
// few collections (SADD/SREM, HSET/HDEL, ZADD/ZREM/ZINCRBY: collections.h), through every node of
// the cluster while run.sh injects faults, and log every operation they send.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "op_log.h"

namespace dynakv::faults {

struct WorkloadOptions {
  std::vector<std::string> nodes;  // host:port of node 1, 2, ...
  int clients_per_node = 2;
  int keys = 200;
  int counters = 8;  // counter keys; 0: no increments
  int collections = 6;  // convergent collections (collections.h: sets, hashes, zsets); 0: none
  double seconds = 60;
  std::uint64_t seed = 1;
  int timeout_ms = 2000;     // per command: past it the outcome is unknown
  int ops_per_second = 200;  // per client, so the run stays light on a small machine
};

// Runs the clients until `seconds` have passed and returns every operation sent (a connection
// attempt that failed sent nothing and is not an operation), in no particular order.
std::vector<Op> RunWorkload(const WorkloadOptions& options);

}  // namespace dynakv::faults
