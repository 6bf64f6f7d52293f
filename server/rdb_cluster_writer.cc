#include "rdb_cluster_writer.h"

#include <utility>

#include "cluster_executor.h"

namespace dynakv::server {

namespace {

// The batch a key joins: keys with the same replicas, in placement order.
std::string ReplicaGroup(const std::vector<std::string>& ids) {
  std::string group;
  for (const std::string& id : ids) {
    group += id;
    group += '\n';
  }
  return group;
}

}  // namespace

RdbClusterWriter::RdbClusterWriter(ClusterExecutor& executor, cluster::ConsistencyLevel read,
                                   cluster::ConsistencyLevel write, std::function<void()> progress)
    : executor_(executor),
      node_(executor.node()),
      read_(std::move(read)),
      write_(std::move(write)),
      progress_(std::move(progress)),
      self_(std::make_shared<RdbClusterWriter*>(this)) {}

RdbClusterWriter::~RdbClusterWriter() = default;

void RdbClusterWriter::Add(std::string key, bool typed, std::string value,
                           std::int64_t expire_at_ms) {
  ++in_flight_keys_;
  in_flight_bytes_ += key.size() + value.size();
  if (node_.IsReplicaOf(key)) {
    cluster::SiblingSet set = node_.LocalSiblings(key);
    Queue(std::move(key), std::move(set), typed, std::move(value), expire_at_ms);
    return;
  }
  // Not a replica here: the key's current versions come from its replicas, so the import's
  // version replaces them instead of standing beside them as a sibling.
  ++pending_reads_;
  std::weak_ptr<RdbClusterWriter*> weak = self_;
  const std::string name = key;
  node_.Read(name, read_,
             [weak, key = std::move(key), typed, value = std::move(value),
              expire_at_ms](cluster::ReadResult result) mutable {
               const auto self = weak.lock();
               if (!self) return;
               RdbClusterWriter& writer = **self;
               // A failed read (a replica down: reads take no stand-ins) costs only the
               // tidiness: the version is written over nothing and, newer than what it misses,
               // wins every read by last-write-wins until a later write folds the two.
               if (!result.ok) result.siblings = cluster::SiblingSet();
               writer.Queue(std::move(key), std::move(result.siblings), typed, std::move(value),
                            expire_at_ms);
               // The last read out sends what the reads queued: the reader may be paused at
               // the in-flight bound, and nothing else would.
               if (--writer.pending_reads_ == 0) writer.Flush();
               writer.progress_();
             });
}

void RdbClusterWriter::Queue(std::string key, cluster::SiblingSet set, bool typed,
                             std::string value, std::int64_t expire_at_ms) {
  const cluster::VectorClock context = set.Context();
  cluster::Version version = executor_.NewVersion(&set, context);
  version.typed = typed;
  version.value = std::move(value);
  version.expire_at_ms = expire_at_ms;
  const std::size_t bytes = key.size() + version.value.size();
  set.Add(std::move(version));
  Batch& batch = open_[ReplicaGroup(node_.ReplicaIds(key))];
  batch.writes.push_back(cluster::KeyedSet{std::move(key), std::move(set)});
  batch.bytes += bytes;
  if (batch.writes.size() >= kBatchKeys || batch.bytes >= kBatchBytes) {
    Batch full = std::move(batch);
    batch = Batch{};
    Send(std::move(full));
  }
}

void RdbClusterWriter::Flush() {
  for (auto& [group, batch] : open_) {
    if (!batch.writes.empty()) Send(std::move(batch));
  }
  open_.clear();
}

void RdbClusterWriter::Send(Batch batch) {
  const std::size_t keys = batch.writes.size();
  const std::size_t bytes = batch.bytes;
  std::weak_ptr<RdbClusterWriter*> weak = self_;
  node_.WriteBatch(std::move(batch.writes), write_,
                   [weak, keys, bytes](cluster::WriteResult result) {
                     const auto self = weak.lock();
                     if (!self) return;
                     RdbClusterWriter& writer = **self;
                     writer.in_flight_bytes_ -= bytes;
                     if (result.ok) {
                       writer.in_flight_keys_ -= keys;
                       writer.written_ += keys;
                     } else {
                       writer.Failed(keys, std::move(result.error));
                     }
                     writer.progress_();
                   });
}

void RdbClusterWriter::Failed(std::size_t keys, std::string error) {
  in_flight_keys_ -= keys;
  failed_ += keys;
  if (first_error_.empty()) first_error_ = std::move(error);
}

}  // namespace dynakv::server
