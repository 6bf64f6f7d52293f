// Opening a data directory: locking it, loading segments and replaying the commit log.
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "engine_impl.h"
#include "file_names.h"
#include "log_reader.h"
#include "manifest.h"
#include "merging_iterator.h"

namespace dynakv::storage {

Status EngineImpl::Open() {
  Status s = CreateDirIfMissing(options_.dir);
  if (!s.ok()) return s;
  // Two engines on one directory would corrupt each other's files.
  s = OpenFile(options_.dir + "/" + kLockName, O_RDWR | O_CREAT, &lock_fd_);
  if (!s.ok()) return s;
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return errno == EWOULDBLOCK
               ? Status::IoError("data directory " + options_.dir + " is in use by another engine")
               : ErrnoStatus("lock " + options_.dir, errno);
  }
  return Recover();
}

Status EngineImpl::Recover() {
  Manifest manifest;
  bool have_manifest = false;
  Status s = ReadManifest(options_.dir, &manifest, &have_manifest);
  if (!s.ok()) return s;
  if (have_manifest) {
    next_seq_ = manifest.next_seq;
    log_floor_ = manifest.log_seq;
  }
  const std::unordered_set<std::uint64_t> listed(manifest.segments.begin(),
                                                 manifest.segments.end());

  std::vector<std::string> names;
  s = ListDir(options_.dir, &names);
  if (!s.ok()) return s;
  std::vector<std::uint64_t> logs;
  for (const std::string& name : names) {
    std::uint64_t seq = 0;
    const FileKind kind = ParseFileName(name, &seq);
    if (kind != FileKind::kOther) next_seq_ = std::max(next_seq_, seq + 1);
    const std::string path = options_.dir + "/" + name;
    // Unlisted segments come from a checkpoint or compaction that crashed before its MANIFEST:
    // their data is still in the logs or in the listed inputs. Logs below the floor were
    // checkpointed already.
    if ((kind == FileKind::kSegment && listed.count(seq) == 0) ||
        (kind == FileKind::kLog && seq < log_floor_) ||
        name == std::string(kManifestName) + ".tmp") {
      s = RemoveFile(path);
      if (!s.ok()) return s;
    } else if (kind == FileKind::kLog) {
      logs.push_back(seq);
    }
  }
  std::sort(logs.begin(), logs.end());

  for (std::uint64_t seq : manifest.segments) {
    std::shared_ptr<SegmentReader> segment;
    s = SegmentReader::Open(options_.dir + "/" + SegmentFileName(seq), seq, &segment);
    if (!s.ok()) return s;
    segments_.push_back(std::move(segment));
  }
  s = CountSegmentKeys();
  if (!s.ok()) return s;

  for (std::uint64_t seq : logs) {
    const std::string path = options_.dir + "/" + LogFileName(seq);
    std::unique_ptr<LogReader> reader;
    s = LogReader::Open(path, &reader);
    if (!s.ok()) return s;
    LogRecord rec;
    while (reader->Next(&rec)) {
      ApplyRecord(rec);
      ++stats_.recovered_records;
    }
    if (reader->valid_bytes() < reader->file_size()) {
      // A torn or corrupt tail: everything before it is intact, everything from it on is
      // unusable. Cut it off so that nothing is ever appended after garbage. Later logs are
      // still replayed: their records are independent writes that happened afterwards.
      const std::uint64_t valid = reader->valid_bytes();
      stats_.truncated_log_bytes += reader->file_size() - valid;
      reader.reset();
      s = TruncateFile(path, valid);
      if (!s.ok()) return s;
    }
    old_logs_.push_back(seq);
  }

  s = CommitLog::Create(options_.dir, next_seq_++, options_.fsync, &log_, options_.log_fault_hook);
  if (!s.ok()) return s;
  // Fold the replayed logs into a segment so the next open does not replay them again. If that
  // fails (say the disk is full) the logs stay authoritative and the engine still works.
  if (!old_logs_.empty()) Checkpoint();
  EnforceMemoryLimit(nullptr);
  return Status::Ok();
}

Status EngineImpl::CountSegmentKeys() {
  MergingIterator it(segments_);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    const SegmentRecord& rec = it.record();
    if (rec.tombstone()) continue;
    ++live_keys_;
    if (rec.expire_at_ms != 0) ++keys_with_expiry_;
  }
  return it.status();
}

}  // namespace dynakv::storage
