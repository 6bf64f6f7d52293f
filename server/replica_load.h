// The full sync of a replica (replica_link.h): the RDB its master sends after +FULLRESYNC, read
// as it arrives (SyncPayload, rdb::RdbReader) and written into the node's databases through the
// ordinary write path, each piece's keys as one atomic group of the commit log, as IMPORT-RDB
// writes a file (rdb_import.h). Keys already expired are not written (the master's DEL for them
// follows in the stream, or already came); stream and module keys are skipped and counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rdb/file_reader.h"
#include "sync_payload.h"

namespace dynakv::server {

class Server;

class ReplicaLoad {
 public:
  explicit ReplicaLoad(Server& server);
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
  std::uint64_t keys() const { return keys_; }
  std::uint64_t expired_keys() const { return expired_keys_; }
  std::uint64_t skipped_keys() const { return skipped_keys_; }

 private:
  class Sink;
  Server& server_;
  std::unique_ptr<Sink> sink_;
  rdb::RdbReader reader_;
  SyncPayload payload_;
  std::uint64_t keys_ = 0;
  std::uint64_t expired_keys_ = 0;
  std::uint64_t skipped_keys_ = 0;
  std::string error_;
};

}  // namespace dynakv::server
