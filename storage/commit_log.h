// The write-ahead commit log. Records are appended to an in-memory buffer; Flush() hands the
// whole buffer to the kernel in one write() (the server calls it once per event-loop iteration:
// group commit) and, under FsyncPolicy::kAlways, fdatasyncs before returning. Under kEverySec a
// background thread owned by the log fdatasyncs once a second when something was written.
//
// Failures. A failed write() leaves exactly the unwritten tail buffered: the next Flush retries it
// (ENOSPC clears when space frees). A failed fdatasync is different: the kernel may have dropped
// the dirty pages and marked them clean, so a later fdatasync that succeeds proves nothing about
// them (PostgreSQL's lesson). The file is then "sync-failed" for good: Flush keeps failing until
// the owner moves to a new file with Rotate and makes the old file's records durable elsewhere
// (the engine checkpoints the memtable, which holds all of them).
//
// Positions. Every byte ever added counts toward appended(); acknowledged() is the prefix that may
// be acknowledged to clients: written to the kernel (and, under kAlways, fdatasynced). The server
// holds back a reply until acknowledged() passes the position of the writes it answers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
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
  // Tests only: runs before each write() and fdatasync() of a log file with "write" or "sync";
  // a non-zero result fails that call with this errno without making it.
  using FaultHook = std::function<int(std::string_view call)>;

  // Creates (truncating) <dir>/log-<seq>.log and writes its magic.
  static Status Create(const std::string& dir, std::uint64_t seq, FsyncPolicy policy,
                       std::unique_ptr<CommitLog>* out, FaultHook fault_hook = nullptr);
  ~CommitLog();  // writes what is buffered, fsyncs, stops the sync thread
  CommitLog(PrivateTag, std::string dir, FsyncPolicy policy, FaultHook fault_hook);  // Create()
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Buffers `rec`. A burst (many pipelined large values in one loop iteration) goes to the
  // kernel in pieces of kWriteOutBytes rather than growing the buffer to its full size: a fresh
  // multi-megabyte buffer every iteration costs a page fault per 4 KB and a copy per doubling,
  // which profiled as half the loop's time for 16 KB SETs. Nothing is acknowledged before
  // Flush, so writing early changes no guarantee.
  void Add(const LogRecord& rec) {
    const std::size_t before = pending_.size();
    AppendLogRecord(&pending_, rec);
    if (group_open_) {  // held back (never written) until EndGroup
      ++group_count_;
      return;
    }
    appended_ += pending_.size() - before;
    if (pending_.size() >= kWriteOutBytes && !sync_failed_) WriteBuffered();
  }
  // An atomic group: the records Added between BeginGroup and EndGroup stay in the buffer, never
  // written out (a Flush meanwhile writes only what came before), and EndGroup turns them into
  // one GROUP record (log_format.h), one checksum over all of them, so a crash keeps all or none.
  // A group of one record stays that record, at no cost: so every write command can run in a
  // group. appended() grows only at EndGroup. Groups do not nest (the engine counts depth).
  void BeginGroup() {
    group_open_ = true;
    group_start_ = pending_.size();
    group_count_ = 0;
  }
  void EndGroup();
  bool group_open() const { return group_open_; }

  // Writes the buffer (and fdatasyncs under kAlways). Fails while the file is sync-failed.
  Status Flush();
  Status Sync();  // Flush() and fdatasync whatever the policy
  // Flushes the current file and continues in a new log-<seq>.log. The old file is neither
  // synced nor removed: that is the caller's business. Without `sync_dir` the new file's name is
  // not made durable either, and the caller must sync the directory soon.
  // From a sync-failed file it moves on without writing the buffered tail there: the caller must
  // hold every record of that file and of the buffer elsewhere (see the class comment).
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
  // Of those, the ones still in the buffer (not yet written to the file).
  std::uint64_t buffered_bytes() const { return pending_.size(); }
  // The error of the last Flush(), cleared by a successful one.
  const Status& last_error() const { return last_error_; }
  // An fdatasync of the current file failed (Flush or the everysec thread): see the class comment.
  bool sync_failed() const { return sync_failed_; }
  std::uint64_t appended() const { return appended_; }
  std::uint64_t acknowledged() const { return acknowledged_; }
  // A Rotate away from a sync-failed file left records that only the owner can make durable;
  // until it says so with Acknowledge, acknowledged() stops short of them and of all later ones.
  bool awaiting_cover() const { return cover_end_ > acknowledged_; }
  // The owner made the records up to `position` durable by other means (a checkpoint).
  void Acknowledge(std::uint64_t position) {
    if (position > acknowledged_) acknowledged_ = position;
  }

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
  // fdatasync of the current file; a failure makes it sync-failed.
  Status SyncFile();
  // Polls the everysec thread for a failed background fdatasync.
  void CollectBackgroundError();
  static Status OpenFile(const std::string& dir, std::uint64_t seq, bool sync_dir,
                         std::shared_ptr<File>* out);
  void SyncLoop();

  const std::string dir_;
  const FaultHook fault_hook_;
  std::shared_ptr<File> file_;  // replaced under mu_; the sync thread keeps its own reference
  std::uint64_t seq_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::string pending_;
  bool group_open_ = false;
  std::size_t group_start_ = 0;  // where the open group's records start in pending_
  std::uint64_t group_count_ = 0;
  std::string group_;                 // EndGroup's scratch buffer
  bool written_since_flush_ = false;  // Add wrote part of a burst; Flush still owes its sync
  Status last_error_;
  bool sync_failed_ = false;
  std::uint64_t appended_ = 0;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t cover_end_ = 0;  // appended() when a Rotate left a sync-failed file

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
