// Loading a Redis RDB file into this node (issue 17): at start (--import-rdb) or at run time
// (IMPORT-RDB). The file is read in pieces of kChunkBytes and fed to rdb::RdbReader; each key it
// yields is written through the node's ordinary write path (the database's Keyspace: commit log,
// memtable, the key-modified signal), each piece's keys as one atomic group of the engine.
//
// What a failed import leaves: the keys read before the failing item stay imported (each is
// whole and durable as any write); the failure's byte offset, reason and the count of keys
// imported before it are logged and shown in INFO persistence (rdb_import_*), so nothing is
// half-imported without a report. Keys already expired in the file are not written (as Redis
// skips them on load), keys of an existing name are replaced, stream and module keys are skipped
// and counted, FUNCTION2 libraries are counted as skipped.
//
// Cluster mode: each key goes to its replicas through the coordinator's write path at the
// configured write level, many keys in flight at once (rdb_cluster_writer.h); the import reads
// no further while the writes in flight are at their bound. A key whose write fails its level
// is counted (rdb_import_failed_keys) and the import goes on; it then ends as failed, with the
// count and the first error. At start (--import-rdb) the import runs in the background once the
// node serves, after waiting (up to kClusterWaitMs) for every member to be reachable.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "net/uv_handle.h"

namespace dynakv::server {

class RdbClusterWriter;
class Server;

struct RdbImportProgress {
  bool running = false;
  bool finished = false;  // ran to the end, successfully or not
  bool ok = false;        // finished without an error
  std::string path;
  std::uint64_t total_bytes = 0;
  std::uint64_t bytes = 0;           // read and parsed
  std::uint64_t keys = 0;            // written (cluster mode: met the write level)
  std::uint64_t failed_keys = 0;     // cluster mode: writes that failed their level
  std::uint64_t keys_in_flight = 0;  // cluster mode: read from the file, not yet written
  std::uint64_t expired_keys = 0;
  std::uint64_t skipped_keys = 0;  // streams, module values
  std::uint64_t skipped_functions = 0;
  std::uint64_t error_offset = 0;
  std::string error;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
};

class RdbImport {
 public:
  static constexpr std::size_t kChunkBytes = 256 * 1024;
  static constexpr std::uint64_t kClusterWaitMs = 30000;

  explicit RdbImport(Server& server);
  ~RdbImport();
  RdbImport(const RdbImport&) = delete;
  RdbImport& operator=(const RdbImport&) = delete;

  // Opens `path` and imports it piece by piece, one piece per loop iteration. False (with
  // *error, Redis-style "ERR ...") when one is running already or the file cannot be opened.
  bool StartInBackground(const std::string& path, std::string* error);
  // Imports the whole file now (at start, before clients are served). False with *error when
  // it failed; progress() has the counts either way. It is an engine bulk load (storage/engine.h:
  // the keys are not logged one by one), guarded by a marker in the data directory
  // (rdb_import_marker.h). A completed import is done without waiting for a checkpoint: the
  // file, kept in the data directory, is its durable copy until the engine's first checkpoint
  // saves it (a crash meanwhile reloads it at the next start). Where the file cannot be kept,
  // and for a failed import, a checkpoint makes the keys durable before it ends.
  bool RunToEnd(const std::string& path, std::string* error);
  // Cluster mode at start: StartInBackground once every member is reachable, or kClusterWaitMs
  // passed (the writes then meet their level or are counted as failed). False as
  // StartInBackground's when the file cannot be opened.
  bool StartWhenClusterReady(const std::string& path, std::string* error);

  const RdbImportProgress& progress() const { return progress_; }
  // Shutdown: a running import ends here (reported as interrupted) and its handle closes.
  void Stop();

 private:
  class Sink;
  bool Open(const std::string& path, std::string* error);
  // Reads and feeds one piece; false once the import is over.
  bool Step();
  // The reader is done or failed: once every write in flight has completed, End.
  void EndWhenWritten(bool ok, std::uint64_t offset, const std::string& reason);
  void End(bool ok, std::uint64_t offset, const std::string& reason);
  // Cluster mode: a write completed; feeds the reader again, or ends the import.
  void WriteProgress();
  // An import that ended unsaved (rdb_import_marker.h): polls the engine until its checkpoint
  // is durable, then removes the marker and the kept file.
  void WatchSaved();
  void CheckSaved();
  static void OnSavedTimer(uv_timer_t* timer);
  static void OnIdle(uv_idle_t* idle);
  static void OnWaitTimer(uv_timer_t* timer);

  Server& server_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  net::UvHandle<uv_idle_t> idle_;
  net::UvHandle<uv_timer_t> wait_timer_;  // StartWhenClusterReady's polls
  std::uint64_t wait_deadline_ = 0;
  std::string waiting_path_;
  std::unique_ptr<RdbClusterWriter> cluster_writer_;
  bool paused_ = false;       // cluster mode: the idle stopped while the writes in flight are full
  bool bulk_ = false;         // RunToEnd: an engine bulk load, its marker written
  bool source_kept_ = false;  // RunToEnd: the file is linked into the data directory
  std::uint64_t reload_before_log_ = 0;
  static constexpr std::uint64_t kSavedPollMs = 100;
  net::UvHandle<uv_timer_t> saved_timer_;
  bool unsaved_done_ = true;  // no unsaved import waits for its checkpoint
  struct PendingEnd {
    bool set = false;
    bool ok = false;
    std::uint64_t offset = 0;
    std::string reason;
  } pending_end_;
  RdbImportProgress progress_;
};

// INFO persistence's rdb_import_* fields.
void AppendRdbImportInfo(const RdbImportProgress& progress, std::string* out);

}  // namespace dynakv::server
