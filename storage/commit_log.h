// The write-ahead commit log. Records are appended to an in-memory buffer; Flush() hands the
// whole buffer to the kernel in one write() (the server calls it once per event-loop iteration:
// group commit) and, under FsyncPolicy::kAlways, fdatasyncs before returning. Under kEverySec a
// background thread owned by the log fdatasyncs once a second when something was written.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "file_util.h"
#include "log_format.h"
#include "storage/options.h"
#include "storage/status.h"

namespace dynakv::storage {

class CommitLog {
  // Makes the constructor callable by make_unique in Create() only.
  class PrivateTag {
   public:
    explicit PrivateTag() = default;
  };

 public:
  // Creates (truncating) <dir>/log-<seq>.log and writes its magic.
  static Status Create(const std::string& dir, std::uint64_t seq, FsyncPolicy policy,
                       std::unique_ptr<CommitLog>* out);
  ~CommitLog();  // writes what is buffered, fsyncs, stops the sync thread
  CommitLog(PrivateTag, std::string dir, FsyncPolicy policy);  // use Create()
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Buffers `rec`. A burst (many pipelined large values in one loop iteration) goes to the
  // kernel in pieces of kWriteOutBytes rather than growing the buffer to its full size: a fresh
  // multi-megabyte buffer every iteration costs a page fault per 4 KB and a copy per doubling,
  // which profiled as half the loop's time for 16 KB SETs. Nothing is acknowledged before
  // Flush, so writing early changes no guarantee.
  void Add(const LogRecord& rec) {
    AppendLogRecord(&pending_, rec);
    if (pending_.size() >= kWriteOutBytes) WriteBuffered();
  }
  Status Flush();
  Status Sync();  // Flush() and fdatasync whatever the policy
  // Flushes the current file and continues in a new log-<seq>.log. The old file is neither
  // synced nor removed: that is the caller's business. Without `sync_dir` the new file's name is
  // not made durable either, and the caller must sync the directory soon.
  Status Rotate(std::uint64_t seq, bool sync_dir = true);
  void SetPolicy(FsyncPolicy policy);
  // Under everysec: while any hold is on, the sync thread leaves the current file alone. A
  // background checkpoint holds it from the rotation until the MANIFEST covering the old log is
  // durable, so a power loss never keeps newer records while losing the old log's unsynced tail:
  // what survives is always a prefix of the writes. Thread-safe.
  void HoldSync();
  void ReleaseSync();

  std::uint64_t seq() const { return seq_; }
  // Record bytes written and buffered (the file's magic not counted).
  std::uint64_t bytes() const { return file_bytes_ + pending_.size(); }
  // The error of the last Flush(), cleared by a successful one.
  const Status& last_error() const { return last_error_; }

 private:
  struct File {
    FileDescriptor fd;
    std::string path;
  };

  static constexpr std::size_t kWriteOutBytes = 1u << 20;
  // A buffer that grew past this (one record larger than kWriteOutBytes) is not kept.
  static constexpr std::size_t kKeptBufferBytes = 4u << 20;

  // write()s the buffer; after a failure exactly the unwritten tail stays buffered and
  // last_error_ says why.
  bool WriteBuffered();
  static Status OpenFile(const std::string& dir, std::uint64_t seq, bool sync_dir,
                         std::shared_ptr<File>* out);
  void SyncLoop();

  const std::string dir_;
  std::shared_ptr<File> file_;  // replaced under mu_; the sync thread keeps its own reference
  std::uint64_t seq_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::string pending_;
  bool written_since_flush_ = false;  // Add wrote part of a burst; Flush still owes its sync
  Status last_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;         // guarded by mu_
  bool unsynced_ = false;     // guarded by mu_: written but not yet fdatasynced
  FsyncPolicy policy_;        // guarded by mu_
  int sync_holds_ = 0;        // guarded by mu_
  int background_errno_ = 0;  // guarded by mu_: a failed background fdatasync, reported by Flush
  std::thread syncer_;
};

}  // namespace dynakv::storage
