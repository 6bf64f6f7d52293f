// Helpers of the REPLICAOF tests (test_replicaof.cc against redis-server, and
// test_replicaof_protocol.cc against a master played by the test): INFO replication's fields and
// the waits on them.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "client.h"
#include "harness.h"
#include "rdb_util.h"  // Ok
#include "server_process.h"

namespace dynakv::itest {

inline std::string Repl(Client& client, const std::string& field) {
  return ReadInfoField(client, "replication", field);
}

inline void WaitLinkUp(Client& ours, ServerProcess& node) {
  REQUIRE_MESSAGE(
      WaitFor([&] { return Repl(ours, "master_link_status") == "up"; }, std::chrono::seconds(60)),
      node.LogTail());
}

// Until the replica applied everything the master has written.
inline void WaitOffsetsMatch(Client& redis, Client& ours, ServerProcess& node) {
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        const std::string master = Repl(redis, "master_repl_offset");
                        return !master.empty() && Repl(ours, "slave_repl_offset") == master;
                      },
                      std::chrono::seconds(30)),
                  "master " << Repl(redis, "master_repl_offset") << " replica "
                            << Repl(ours, "slave_repl_offset") << "\n"
                            << node.LogTail());
}

}  // namespace dynakv::itest
