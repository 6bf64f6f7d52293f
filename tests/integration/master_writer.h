// The writer of the REPLICAOF tests (test_replicaof.cc, test_replicaof_cluster.cc): keeps writing
// on a redis-server master until stopped, one seeded command (or a short batch) at a time, of
// every type and of the kinds Redis propagates rewritten (INCRBYFLOAT, SPOP, GETEX, LMOVE...),
// with transactions and scripts, so that the replica's command stream carries all of them.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace dynakv::itest {

struct MasterWriterOptions {
  unsigned seed = 17;
  // Also writes in databases 3 and 15 (SELECT, MOVE, COPY ... DB): for a single node, which
  // keeps Redis's databases; a cluster has database 0 only.
  bool several_databases = false;
  // Also keys that expire within 150 ms, while the two sides are written (else no expiry is
  // shorter than minutes, so both sides read the same keys whenever they are compared).
  bool short_expiries = false;
  // Only commands that leave the same data when run twice (README: a command in flight when a
  // following node is killed may have reached the replicas and runs again).
  bool idempotent = false;
};

class MasterWriter {
 public:
  MasterWriter(int port, MasterWriterOptions options);
  ~MasterWriter() { Stop(); }
  MasterWriter(const MasterWriter&) = delete;
  MasterWriter& operator=(const MasterWriter&) = delete;

  void Stop();
  long long commands() const { return commands_; }
  // The first error reply any command got ("" if none); read after Stop.
  const std::string& error() const { return error_; }

 private:
  void Run();

  const int port_;
  const MasterWriterOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<long long> commands_{0};
  std::string error_;
  std::thread thread_;
};

}  // namespace dynakv::itest
