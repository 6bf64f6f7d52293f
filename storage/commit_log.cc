#include "commit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "coding.h"
#include "file_names.h"

namespace dynakv::storage {

CommitLog::CommitLog(PrivateTag, std::string dir, FsyncPolicy policy, FaultHook fault_hook)
    : dir_(std::move(dir)), fault_hook_(std::move(fault_hook)), policy_(policy) {}

Status CommitLog::OpenFile(const std::string& dir, std::uint64_t seq, bool sync_dir,
                           std::shared_ptr<File>* out) {
  auto file = std::make_shared<File>();
  file->path = dir + "/" + LogFileName(seq);
  Status s = storage::OpenFile(file->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, &file->fd);
  if (s.ok()) {
    char magic[kLogFileMagicSize];
    EncodeFixed64(magic, kLogFileMagic);
    s = WriteAll(file->fd.get(), std::string_view(magic, sizeof(magic)), file->path);
  }
  // The new name must survive a crash, or recovery would not know the file existed.
  if (s.ok() && sync_dir) s = SyncDir(dir);
  if (s.ok()) *out = std::move(file);
  return s;
}

Status CommitLog::Create(const std::string& dir, std::uint64_t seq, FsyncPolicy policy,
                         std::unique_ptr<CommitLog>* out, FaultHook fault_hook) {
  auto log = std::make_unique<CommitLog>(PrivateTag{}, dir, policy, std::move(fault_hook));
  Status s = OpenFile(dir, seq, /*sync_dir=*/true, &log->file_);
  if (!s.ok()) return s;
  log->seq_ = seq;
  log->syncer_ = std::thread([raw = log.get()] { raw->SyncLoop(); });
  *out = std::move(log);
  return Status::Ok();
}

CommitLog::~CommitLog() {
  // Create() may fail before there is a file (a full disk at start) or a sync thread.
  if (file_ == nullptr) return;
  Sync();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  syncer_.join();
}

void CommitLog::CollectBackgroundError() {
  std::lock_guard<std::mutex> lock(mu_);
  if (background_errno_ == 0) return;
  last_error_ = ErrnoStatus("fdatasync " + file_->path, background_errno_);
  background_errno_ = 0;
  sync_failed_ = true;
}

void CommitLog::EndGroup() {
  group_open_ = false;
  if (group_count_ >= 2) {
    // The group's complete records become the members of one GROUP record.
    group_.clear();
    std::string_view in = std::string_view(pending_).substr(group_start_);
    while (!in.empty()) {
      const std::uint32_t len = DecodeFixed32(in.data() + 4);
      group_.push_back(in[8]);  // the type
      PutVarint64(&group_, len);
      group_.append(in.substr(kLogHeaderSize, len));
      in.remove_prefix(kLogHeaderSize + len);
    }
    pending_.resize(group_start_);
    AppendLogGroup(&pending_, group_count_, group_);
    if (group_.capacity() > kKeptBufferBytes) std::string().swap(group_);
  }
  group_count_ = 0;
  appended_ += pending_.size() - group_start_;
  if (pending_.size() >= kWriteOutBytes && !sync_failed_) WriteBuffered();
}

Status CommitLog::Flush() {
  CollectBackgroundError();
  if (sync_failed_) return last_error_;
  FsyncPolicy policy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    policy = policy_;
  }
  if (pending_.empty() && !written_since_flush_) {
    if (!awaiting_cover()) acknowledged_ = appended_;
    last_error_ = Status::Ok();
    return last_error_;
  }
  if (!WriteBuffered()) return last_error_;
  written_since_flush_ = false;

  if (policy == FsyncPolicy::kAlways) {
    last_error_ = SyncFile();
    if (!last_error_.ok()) return last_error_;
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    unsynced_ = true;
  }
  if (!awaiting_cover()) acknowledged_ = appended_;
  last_error_ = Status::Ok();
  return last_error_;
}

Status CommitLog::SyncFile() {
  const int injected = fault_hook_ ? fault_hook_("sync") : 0;
  Status s = injected != 0 ? ErrnoStatus("fdatasync " + file_->path, injected)
                           : SyncFd(file_->fd.get(), file_->path);
  if (!s.ok()) {
    sync_failed_ = true;
    last_error_ = s;
  }
  return s;
}

bool CommitLog::WriteBuffered() {
  // Written by hand rather than with WriteAll so that after a failure exactly the unwritten tail
  // stays buffered for the next attempt.
  // An open group's records are not written before its EndGroup.
  const std::size_t end = group_open_ ? group_start_ : pending_.size();
  std::size_t written = 0;
  while (written < end) {
    const int injected = fault_hook_ ? fault_hook_("write") : 0;
    ssize_t n =
        injected != 0 ? -1 : ::write(file_->fd.get(), pending_.data() + written, end - written);
    if (n < 0) {
      const int err = injected != 0 ? injected : errno;
      if (err == EINTR) continue;
      last_error_ = ErrnoStatus("write " + file_->path, err);
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  file_bytes_ += written;
  written_since_flush_ |= written > 0;
  pending_.erase(0, written);
  if (group_open_) {
    group_start_ -= written;
    return written == end;
  }
  if (!pending_.empty()) return false;
  if (pending_.capacity() > kKeptBufferBytes) std::string().swap(pending_);
  return true;
}

Status CommitLog::Sync() {
  Status s = Flush();
  if (!s.ok()) return s;
  s = SyncFile();
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    unsynced_ = false;
  }
  return s;
}

Status CommitLog::Rotate(std::uint64_t seq, bool sync_dir) {
  CollectBackgroundError();
  Status s = sync_failed_ ? Status::Ok() : Flush();
  if (!s.ok()) return s;
  std::shared_ptr<File> fresh;
  s = OpenFile(dir_, seq, sync_dir, &fresh);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    file_ = std::move(fresh);
    unsynced_ = false;
  }
  if (sync_failed_) {
    // What the failed file and the buffer held is the caller's to make durable (Rotate's
    // contract); nothing of it may follow in the new file, which starts clean.
    pending_.clear();
    written_since_flush_ = false;
    sync_failed_ = false;
    cover_end_ = appended_;
    last_error_ = Status::Ok();
  }
  seq_ = seq;
  file_bytes_ = 0;
  return Status::Ok();
}

void CommitLog::SetPolicy(FsyncPolicy policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = policy;
}

void CommitLog::HoldSync() {
  std::lock_guard<std::mutex> lock(mu_);
  ++sync_holds_;
}

void CommitLog::ReleaseSync() {
  std::lock_guard<std::mutex> lock(mu_);
  --sync_holds_;
}

void CommitLog::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
    if (stop_ || !unsynced_ || policy_ != FsyncPolicy::kEverySec || sync_holds_ > 0) continue;
    unsynced_ = false;
    // Sync outside the lock so the event loop's write() never waits for the disk; holding a
    // reference keeps the descriptor open even if the log rotates meanwhile.
    std::shared_ptr<File> file = file_;
    lock.unlock();
    const int injected = fault_hook_ ? fault_hook_("sync") : 0;
    const int rc = injected != 0 ? -1 : ::fdatasync(file->fd.get());
    const int err = injected != 0 ? injected : errno;
    lock.lock();
    if (rc != 0) background_errno_ = err;
  }
}

}  // namespace dynakv::storage
