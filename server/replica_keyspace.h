// Cluster mode's node-local view: the keys this node's replica stores. In cluster mode the
// engine holds, per key, the encoded set of versions (cluster/versioned_value.h), deletes
// included as tombstones; this view shows what a Redis client expects: a key exists when its
// last-write-wins version is live.
//
// Only commands without key arguments run against it (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHALL);
// they see this replica only, not the whole cluster. Key reads are answered from the local copy;
// writes are refused: a key is written through the coordinator (cluster_executor.h) or not at all.
#pragma once

#include <memory>
#include <string>

#include "cluster/cluster_node.h"
#include "keyspace.h"
#include "storage/engine.h"

namespace dynakv::server {

class ReplicaKeyspace final : public Keyspace {
 public:
  // `codec` decodes typed versions (a hash's TYPE, SCAN ... TYPE); nullptr: they read as absent.
  // `node` may be null (the offline export reads a stopped node's data, rdb_export_tool.h).
  ReplicaKeyspace(storage::Engine& engine, cluster::ClusterNode* node,
                  const storage::ObjectCodec* codec = nullptr)
      : engine_(engine), node_(node), codec_(codec) {}

  std::optional<storage::ValueRef> Get(std::string_view key) override;
  bool Exists(std::string_view key) override;
  std::optional<std::int64_t> GetExpireAt(std::string_view key) override;
  storage::Status Put(std::string_view key, std::string_view value,
                      std::int64_t expire_at_ms) override;
  bool Delete(std::string_view key) override;
  bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) override;

  // Every stored key, tombstones included (DBSIZE stays O(1), as in Redis).
  std::uint64_t KeyCount() override { return engine_.KeyCount(); }
  // Only keys with a live version.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys) override;
  std::optional<std::string> RandomKey() override;
  // FLUSHALL: this replica only. Anti-entropy's hash trees are rebuilt so they describe the now
  // empty copy (and the other replicas then repair it).
  void Clear() override {
    engine_.Clear();
    if (node_ != nullptr) node_->RebuildAntiEntropyTrees();
  }

 private:
  // Loads the key's live value into value_/expire_at_ms_; false when it has none.
  bool LoadLive(std::string_view key);

  storage::Engine& engine_;
  cluster::ClusterNode* const node_;
  const storage::ObjectCodec* codec_;
  std::unique_ptr<storage::ValueObject> object_;  // the last loaded value, when typed
  std::string value_;                             // what the last Get returned refers to
  std::int64_t expire_at_ms_ = 0;
};

}  // namespace dynakv::server
