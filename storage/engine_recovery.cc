// Opening a data directory: locking it, loading segments and replaying the commit log.
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_set>

#include "engine_impl.h"
#include "lfu.h"
#include "file_names.h"
#include "log_check.h"
#include "log_reader.h"
#include "log_repair.h"
#include "manifest.h"
#include "merging_iterator.h"

namespace dynakv::storage {

Status EngineImpl::Open() {
  opened_at_ms_ = Now();
  memtable_.SetAccessClock(AccessClockNow());
  memtable_.SetLfuClock(lfu::Minutes(Now()));
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
  // The databases as of the floor log's start; the replay below redoes their changes.
  databases_ = std::max<std::uint32_t>(options_.databases, 1);
  SetMapping(manifest.dbs);
  CoverDatabase(databases_ - 1);
  floor_map_ = map_;
  const std::unordered_set<std::uint64_t> listed(manifest.segments.begin(),
                                                 manifest.segments.end());

  std::vector<std::string> names;
  s = ListDir(options_.dir, &names);
  if (!s.ok()) return s;
  std::vector<std::uint64_t> logs;
  std::vector<std::string> leftovers;
  for (const std::string& name : names) {
    std::uint64_t seq = 0;
    const FileKind kind = ParseFileName(name, &seq);
    if (kind != FileKind::kOther) next_seq_ = std::max(next_seq_, seq + 1);
    // Unlisted segments come from a checkpoint or compaction that crashed before its MANIFEST:
    // their data is still in the logs or in the listed inputs. Logs below the floor were
    // checkpointed already. They go only once the logs proved readable: an open that refuses
    // changes nothing.
    if ((kind == FileKind::kSegment && listed.count(seq) == 0) ||
        (kind == FileKind::kLog && seq < log_floor_) ||
        name == std::string(kManifestName) + ".tmp") {
      leftovers.push_back(options_.dir + "/" + name);
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
  recovering_ = true;
  s = ReplayLogs(logs);
  recovering_ = false;
  if (!s.ok()) return s;
  s = CheckDatabases();
  if (!s.ok()) return s;
  for (const std::string& path : leftovers) {
    s = RemoveFile(path);
    if (!s.ok()) return s;
  }

  if (log_ == nullptr) s = CreateLog();  // a reload (ReplayLogs) made it already
  if (!s.ok()) return s;
  // Fold the replayed logs into a segment so the next open does not replay them again. If that
  // fails (say the disk is full) the logs stay authoritative and the engine still works; a
  // reloaded bulk load is then unsaved still (bulk_load_saved) and is retried.
  if (!old_logs_.empty() || bulk_save_ == BulkSave::kUnsaved) Checkpoint();
  EnforceMemoryLimit(nullptr);
  return Status::Ok();
}

Status EngineImpl::ReplayLogs(const std::vector<std::uint64_t>& logs) {
  class Recorder : public LogReader::Reporter {
   public:
    void Damaged(const std::string&, const LogDamage& damage) override { damage_ = damage; }
    std::optional<LogDamage> damage_;
  };
  std::vector<LogCheck> checks;
  // A MANIFEST whose floor passed that log was committed by a checkpoint frozen after the load
  // ended, which holds the load (and maybe later writes, which a reload would undo).
  bool reloaded = !options_.reload || log_floor_ > options_.reload_before_log;
  for (std::size_t i = 0; i <= logs.size(); ++i) {
    if (!reloaded && (i == logs.size() || logs[i] >= options_.reload_before_log)) {
      reloaded = true;
      Status s = Reload();
      if (!s.ok()) return s;
    }
    if (i == logs.size()) break;
    const std::uint64_t seq = logs[i];
    LogCheck check;
    check.path = options_.dir + "/" + LogFileName(seq);
    Recorder recorder;
    std::unique_ptr<LogReader> reader;
    Status s = LogReader::Open(check.path, &reader, &recorder);
    if (!s.ok()) return s;
    LogRecord rec;
    while (reader->Next(&rec)) {
      ApplyRecord(rec);
      ++stats_.recovered_records;
    }
    if (!reader->status().ok()) return reader->status();
    // A record that verified but cannot be applied: not a torn tail, and never dropped silently.
    if (!replay_error_.ok()) {
      return Status::Corruption("commit log " + check.path + ": " + replay_error_.ToString());
    }
    check.file_size = reader->file_size();
    check.records = reader->records();
    check.damage = recorder.damage_;
    checks.push_back(std::move(check));
  }
  ClassifyLogDamage(&checks);

  if (options_.log_corruption_policy == LogCorruptionPolicy::kRefuse) {
    std::string problems;
    for (const LogCheck& check : checks) {
      if (!check.corrupt) continue;
      if (!problems.empty()) problems += "; ";
      problems += DescribeLogDamage(check);
    }
    if (!problems.empty()) {
      return Status::Corruption(
          problems +
          ". Refusing to start so that the records after the damage are not dropped "
          "silently; no file was changed. To cut the log at the bad record (losing what follows "
          "it), run: dynakv-check-log --fix " +
          options_.dir);
    }
  }
  // Everything before each bad record was applied above, and the later logs too. The records
  // after a corrupt stretch in its own file are not kept even under drop-and-repair: they were
  // found by scanning for bytes that look like records, which a stored value can imitate
  // (log_reader.h), while a later log's records are framed from its magic on. So only bytes
  // whose framing is certain are ever applied. A cut makes sure nothing is appended after
  // garbage.
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const LogCheck& check = checks[i];
    if (check.damage && !check.corrupt) {
      stats_.truncated_log_bytes += check.damage->bytes_from_offset();
      Status s = CutLog(check.path, check.damage->offset);
      if (!s.ok()) return s;
    } else if (check.corrupt) {
      LogRepair repair;
      repair.path = check.path;
      repair.problem = DescribeLogDamage(check);
      repair.offset = check.damage->offset;
      repair.dropped_bytes = check.damage->bytes_from_offset();
      repair.dropped_records = check.damage->records_after;
      Status s = PreserveAndCutLog(check.path, repair.offset, &repair.kept_as);
      if (!s.ok()) return s;
      ++stats_.corrupt_logs_repaired;
      stats_.corrupt_log_bytes_dropped += repair.dropped_bytes;
      stats_.corrupt_log_records_dropped += repair.dropped_records;
      log_repairs_.push_back(std::move(repair));
    }
    old_logs_.push_back(logs[i]);
  }
  return Status::Ok();
}

Status EngineImpl::CreateLog() {
  return CommitLog::Create(options_.dir, next_seq_++, options_.fsync, &log_,
                           options_.log_fault_hook);
}

Status EngineImpl::Reload() {
  // The reload's writes go through the ordinary calls, which need a log (a bulk load logs none
  // of its puts): the one Recover would create next, so every file listed so far is older.
  Status s = CreateLog();
  if (!s.ok()) return s;
  BeginBulkLoad(/*source_kept=*/true);
  s = options_.reload(*facade_);
  bulk_load_ = false;
  bulk_source_kept_ = false;
  if (!s.ok()) return s;
  bulk_save_ = BulkSave::kUnsaved;  // Recover's checkpoint saves it
  return Status::Ok();
}

Status EngineImpl::CountSegmentKeys() {
  MergingIterator it(segments_);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    const SegmentRecord& rec = it.record();
    if (rec.tombstone()) continue;
    CoverNamespace(rec.ns);
    if (!LiveNamespace(rec.ns)) continue;  // a FLUSHDB's garbage
    DbCounts& counts = CountsOf(rec.ns);
    ++live_keys_;
    ++counts.keys;
    if (rec.expire_at_ms != 0) {
      ++keys_with_expiry_;
      ++counts.expiring;
    }
  }
  return it.status();
}

}  // namespace dynakv::storage
