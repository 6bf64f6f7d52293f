// What a replica keeps of its link across a restart (issue 17): the master's replication id and
// the offset its data reflects, as Redis 7 keeps them in its RDB's repl-id / repl-offset aux
// fields, so that a node restarted with `replicaof` asks PSYNC <replid> <offset+1> and the
// master continues (+CONTINUE) when its backlog still holds what followed.
//
// One fixed-size record (<dir>/replication.state) rewritten in place with a checksum, after the
// data it describes is written: on a single node after the commit log took the stream's writes,
// in cluster mode after each command met its write level. A kill -9 between the two re-applies
// at most what ran in that moment; a record that does not check is taken as none (full sync).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace dynakv::server {

class ReplicaState {
 public:
  struct Saved {
    std::string replid;
    long long offset = 0;
    // Cluster mode: the commands of the unit after `offset` (a MULTI's) already applied.
    std::size_t done = 0;
    // The database the stream had selected (Redis's repl-stream-db aux field): after +CONTINUE
    // the master does not send SELECT again.
    std::uint32_t db = 0;
  };

  explicit ReplicaState(std::string dir);
  ~ReplicaState();
  ReplicaState(const ReplicaState&) = delete;
  ReplicaState& operator=(const ReplicaState&) = delete;

  // The saved record; nullopt when there is none or it does not check (*problem says why then).
  std::optional<Saved> Load(std::string* problem) const;
  // Rewrites the record (nothing when it already says this). False with *error on an I/O error.
  bool Save(const Saved& state, std::string* error);
  // No record: the data is no longer the master's (REPLICAOF NO ONE, a full sync started, a node
  // started as a master).
  void Clear();

 private:
  std::string path_;
  int fd_ = -1;
  std::optional<Saved> last_;  // what the record says
};

}  // namespace dynakv::server
