// The full sync of a replica (replica_link.h): the RDB its master sends after +FULLRESYNC, read
// as it arrives (SyncPayload, rdb::RdbReader) and written into the node's databases through the
// ordinary write path, each piece's keys as one atomic group of the commit log, as IMPORT-RDB
// writes a file (rdb_import.h). Keys already expired are not written (the master's DEL for them
// follows in the stream, or already came); stream and module keys are skipped and counted.
//
// Cluster mode: each key goes to its replicas through the coordinator at the configured write
// level, many in flight at once, as IMPORT-RDB in cluster mode writes them (rdb_cluster_writer.h).
// The caller stops feeding while Full() and waits for Idle() once the payload is done; a key
// whose write failed its level is counted in failed_keys(), which fails the sync.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "rdb/file_reader.h"
#include "sync_payload.h"

namespace dynakv::server {

class RdbClusterWriter;
class Server;

class ReplicaLoad {
 public:
  // `progress` (cluster mode) runs on the loop, never inside Feed, after writes completed.
  explicit ReplicaLoad(Server& server, std::function<void()> progress = {});
  ~ReplicaLoad();
  ReplicaLoad(const ReplicaLoad&) = delete;
  ReplicaLoad& operator=(const ReplicaLoad&) = delete;

  // Feeds the bytes read after +FULLRESYNC; see SyncPayload::Status.
  SyncPayload::Status Feed(std::string_view bytes);
  bool started() const { return payload_.started(); }
  const std::string& error() const;
  std::string TakeRest() { return payload_.TakeRest(); }
  long long total_bytes() const { return payload_.total_bytes(); }
  std::uint64_t received_bytes() const { return payload_.received_bytes(); }
  // Written (cluster mode: met the write level).
  std::uint64_t keys() const;
  std::uint64_t expired_keys() const { return expired_keys_; }
  std::uint64_t skipped_keys() const { return skipped_keys_; }

  // Cluster mode (all false / 0 / "" on a single node): the writes in flight are at their bound;
  // nothing is in flight; keys whose write failed its level and the first such error.
  bool Full() const;
  bool Idle() const;
  std::uint64_t keys_in_flight() const;
  std::uint64_t failed_keys() const;
  std::string first_error() const;

 private:
  class Sink;
  Server& server_;
  std::unique_ptr<RdbClusterWriter> cluster_;
  std::unique_ptr<Sink> sink_;
  rdb::RdbReader reader_;
  SyncPayload payload_;
  std::uint64_t keys_ = 0;
  std::uint64_t expired_keys_ = 0;
  std::uint64_t skipped_keys_ = 0;
  std::string error_;
};

}  // namespace dynakv::server
