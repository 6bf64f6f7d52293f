// Writing this node's data as a Redis RDB file (issue 17): SAVE, BGSAVE, the full-resync payload
// that `redis-cli --rdb` asks for (SYNC / PSYNC), and dynakv-export-rdb offline.
//
// The file is built on the loop thread, from every database's keys (storage::Engine::Scan and
// Get) while no command runs: that is the consistent view, as Redis's fork gives BGSAVE. BGSAVE
// then writes and fsyncs the built bytes on a background thread, so the loop pays for encoding
// only, not for the disk; the file replaces dir/dbfilename by rename once complete. The bytes
// are held in memory until written (about the RDB's size). In cluster mode the node's own
// replica is saved (database 0 only).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>

namespace dynakv::storage {
class Engine;
}

namespace dynakv::server {

class Keyspace;
class Server;

// The RDB of the databases `dbs` (index = database number; in cluster mode the node's replica,
// through its ReplicaKeyspace) of `engine` (list nodes split by `list_max_listpack_size`).
// False, with *error, when a read of the engine failed.
bool BuildRdb(std::span<Keyspace* const> dbs, storage::Engine& engine,
              long long list_max_listpack_size, std::string* out, std::string* error);
// Writes `bytes` to `path` through a temporary file in the same directory, fsync and rename.
bool WriteFileAtomically(const std::string& path, const std::string& bytes, std::string* error);

class RdbSaver {
 public:
  explicit RdbSaver(Server& server) : server_(server) {}
  ~RdbSaver();  // waits for a BGSAVE's write
  RdbSaver(const RdbSaver&) = delete;
  RdbSaver& operator=(const RdbSaver&) = delete;

  // SAVE: builds and writes dir/dbfilename now.
  bool Save(std::string* error);
  // BGSAVE: builds now, writes on a background thread. False when one is still writing.
  bool StartBgsave(std::string* error);
  // BGSAVE CLUSTER (cluster mode): the whole cluster's keys through this node
  // (rdb_cluster_export.h), gathered over the bus while the loop serves, then written as
  // BGSAVE writes. False when a save is in progress.
  bool StartClusterBgsave(std::string* error);
  // The RDB for a full resync (SYNC / PSYNC).
  bool Build(std::string* out, std::string* error);

  bool bgsave_in_progress() const { return in_progress_.load(); }
  bool last_ok() const { return last_ok_.load(); }
  std::int64_t last_save_unix() const { return last_save_unix_.load(); }
  std::uint64_t saves() const { return saves_.load(); }
  std::uint64_t last_bytes() const { return last_bytes_.load(); }
  std::int64_t last_bgsave_ms() const { return last_bgsave_ms_.load(); }
  // How long the running BGSAVE has taken so far; -1 when none runs.
  std::int64_t current_bgsave_ms() const;

 private:
  std::string Path() const;
  void Finished(bool ok, std::size_t bytes);
  // With in_progress_ set: writes `bytes` to Path() on the writer thread, which clears it.
  void WriteInBackground(std::shared_ptr<std::string> bytes, std::int64_t start);

  Server& server_;
  std::thread writer_;
  std::atomic<bool> in_progress_{false};
  std::atomic<bool> last_ok_{true};
  std::atomic<std::int64_t> last_save_unix_{0};
  std::atomic<std::uint64_t> saves_{0};
  std::atomic<std::uint64_t> last_bytes_{0};
  std::atomic<std::int64_t> last_bgsave_ms_{-1};
  std::atomic<std::int64_t> current_start_ms_{0};  // of the running BGSAVE
};

// INFO persistence's rdb_* fields that Redis does not have (info_persistence.cc shows Redis's).
void AppendRdbSaveInfo(const RdbSaver& saver, std::string* out);

}  // namespace dynakv::server
