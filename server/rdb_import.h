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
// Single-node mode only for now: cluster mode refuses it (README).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "net/uv_handle.h"

namespace dynakv::server {

class Server;

struct RdbImportProgress {
  bool running = false;
  bool finished = false;  // ran to the end, successfully or not
  bool ok = false;        // finished without an error
  std::string path;
  std::uint64_t total_bytes = 0;
  std::uint64_t bytes = 0;  // read and parsed
  std::uint64_t keys = 0;   // written
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

  explicit RdbImport(Server& server);
  ~RdbImport();
  RdbImport(const RdbImport&) = delete;
  RdbImport& operator=(const RdbImport&) = delete;

  // Opens `path` and imports it piece by piece, one piece per loop iteration. False (with
  // *error, Redis-style "ERR ...") when one is running already or the file cannot be opened.
  bool StartInBackground(const std::string& path, std::string* error);
  // Imports the whole file now (at start, before clients are served). False with *error when
  // it failed; progress() has the counts either way.
  bool RunToEnd(const std::string& path, std::string* error);

  const RdbImportProgress& progress() const { return progress_; }
  // Shutdown: a running import ends here (reported as interrupted) and its handle closes.
  void Stop();

 private:
  class Sink;
  bool Open(const std::string& path, std::string* error);
  // Reads and feeds one piece; false once the import is over.
  bool Step();
  void End(bool ok, std::uint64_t offset, const std::string& reason);
  static void OnIdle(uv_idle_t* idle);

  Server& server_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  net::UvHandle<uv_idle_t> idle_;
  RdbImportProgress progress_;
};

// INFO persistence's rdb_import_* fields.
void AppendRdbImportInfo(const RdbImportProgress& progress, std::string* out);

}  // namespace dynakv::server
