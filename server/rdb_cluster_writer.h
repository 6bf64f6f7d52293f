// The cluster-mode half of an RDB import (rdb_import.h): each key the file yields becomes a new
// version written to the key's replicas through the coordinator's write path, at the
// configured write level (cluster-write-consistency), as a SET or RESTORE through this node
// would be.
//
// Keys are written many at a time: keys with the same replicas are gathered into batches
// (ClusterNode::WriteBatch: one request per replica, stored there as one atomic group) and
// several batches are in flight at once. Where this node holds a replica of the key, its own
// copy is the new version's context (a blind write, as SET's); elsewhere the key is first read
// at the read level, so an existing key is replaced rather than joined by a sibling (when that
// read fails, e.g. a replica is down, the version is written without it: newer than what it
// missed, it wins reads by last-write-wins). What is in
// flight is bounded (keys and bytes, Full()): the reader is fed no more until writes complete.
//
// A batch that fails its write level counts every key in it as failed (some replicas may still
// hold them, as after any failed write in Dynamo): nothing is dropped without being counted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"

namespace dynakv::server {

class ClusterExecutor;

class RdbClusterWriter {
 public:
  static constexpr std::size_t kBatchKeys = 256;
  static constexpr std::size_t kBatchBytes = 1 << 20;
  static constexpr std::size_t kMaxInFlightKeys = 32 * 1024;
  static constexpr std::size_t kMaxInFlightBytes = 64 << 20;

  // `executor` must outlive the writer. `progress` runs (on the loop, never inside Add or
  // Flush) after each batch or read completes. Writes still in flight when the writer is
  // destroyed complete into nothing.
  RdbClusterWriter(ClusterExecutor& executor, cluster::ConsistencyLevel read,
                   cluster::ConsistencyLevel write, std::function<void()> progress);
  ~RdbClusterWriter();
  RdbClusterWriter(const RdbClusterWriter&) = delete;
  RdbClusterWriter& operator=(const RdbClusterWriter&) = delete;

  // Queues `key` with `value` (a typed value's serialized form when `typed`, else string
  // bytes); a full batch is sent at once.
  void Add(std::string key, bool typed, std::string value, std::int64_t expire_at_ms);
  // Sends every batch not yet full (the end of the file, or of a piece).
  void Flush();

  // At the in-flight bounds: feed no more keys until `progress` says writes completed.
  bool Full() const {
    return in_flight_keys_ >= kMaxInFlightKeys || in_flight_bytes_ >= kMaxInFlightBytes;
  }
  // Nothing queued, being read or being written.
  bool Idle() const { return in_flight_keys_ == 0; }

  std::uint64_t written() const { return written_; }  // met the write level
  std::uint64_t failed() const { return failed_; }    // did not (or their read failed)
  std::uint64_t in_flight() const { return in_flight_keys_; }
  const std::string& first_error() const { return first_error_; }
  const cluster::ConsistencyLevel& write_level() const { return write_; }

 private:
  struct Batch {
    std::vector<cluster::KeyedSet> writes;
    std::size_t bytes = 0;
  };
  // Adds the key's new version over `set` to its replicas' open batch.
  void Queue(std::string key, cluster::SiblingSet set, bool typed, std::string value,
             std::int64_t expire_at_ms);
  void Send(Batch batch);
  void Failed(std::size_t keys, std::string error);

  ClusterExecutor& executor_;
  cluster::ClusterNode& node_;
  const cluster::ConsistencyLevel read_;
  const cluster::ConsistencyLevel write_;
  std::function<void()> progress_;
  std::map<std::string, Batch> open_;  // by the key's replica ids, in placement order
  std::size_t pending_reads_ = 0;
  std::size_t in_flight_keys_ = 0;  // added and not yet written or failed
  std::size_t in_flight_bytes_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t failed_ = 0;
  std::string first_error_;
  std::shared_ptr<RdbClusterWriter*> self_;  // callbacks hold weak references
};

}  // namespace dynakv::server
