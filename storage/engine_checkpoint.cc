// Checkpoints: the dirty memtable entries go to a new segment and the commit log restarts, which
// bounds recovery time and log size.
//
// The event loop never does the disk work of a checkpoint it did not ask to wait for:
//  1. Freeze (owner thread, O(dirty entries)): the log rotates, so the new log holds every write
//     from now on, and the dirty entries become frozen.
//  2. A background thread serializes the frozen typed values (storage/object.h), sorts the frozen
//     entries and writes and fsyncs the segment. It reads only their key and value bytes, which
//     the memtable keeps in place (memtable.h), and the frozen objects, which the owner thread
//     only reads until they are serialized: a write to one first has it serialized (by the
//     loop, when the background thread has not begun it yet; else the loop waits for it), so
//     a write to that collection waits for its serialization, never the others' (checkpoint.h).
//     A 1,000,000-member hash stalled the loop for hundreds of ms when it was serialized here.
//  3. Install (owner thread): the segment joins the list, a MANIFEST naming it with the new log
//     as the floor is committed (written in the background, which then deletes the old log:
//     manifest_writer.h), and frozen entries become clean.
// Meanwhile reads and writes carry on against the memtable, where a frozen entry stays the key's
// newest version until a write replaces it; the memory limit never drops one. So no lookup has to
// consult the snapshot. Since the segment will hold the frozen version, a frozen entry counts as
// on disk: deleting its key leaves a tombstone.
//
// Crash safety is the synchronous checkpoint's: until the MANIFEST names the segment, the old
// MANIFEST's floor keeps the old log authoritative. A crash leaves an unlisted segment (removed at
// open) and both logs, which recovery replays.
#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>

#include "engine_impl.h"
#include "file_names.h"

namespace dynakv::storage {

namespace {

// Collections this large (in memory, all the frozen ones together) make a checkpoint run at the
// loop's priority (StartCheckpoint).
constexpr std::size_t kNormalPriorityObjectMemory = 4u << 20;

std::uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
}

}  // namespace

Status EngineImpl::FreezeMemtable(CheckpointJob* job, bool background, bool* any,
                                  std::size_t piece_bytes) {
  *any = false;
  // Moving on from a sync-failed log drops its unwritten tail, which only a checkpoint that is
  // waited for may do (Checkpoint() acknowledges what it covered).
  if (background && log_->sync_failed()) return log_->last_error();
  if (memtable_.dirty_count() == 0 && log_->bytes() == 0) {
    // Nothing left to write: an unsaved bulk load is in the MANIFESTs committed so far.
    if (bulk_save_ == BulkSave::kUnsaved) {
      bulk_save_ = BulkSave::kInstalled;
      bulk_save_commit_ = manifest_writer_.committed();
    }
    return Status::Ok();
  }
  // An empty current log holds nothing the new segment must cover, so it can stay. Rotating
  // first means a failure leaves everything as it was. A piece of an unsaved bulk load's save
  // covers only some entries: the logs stay authoritative (the floor stays), and what they
  // replay over its segment at a recovery is followed by the reload (Options::reload) and the
  // logs after the load, so its entries end as they are now. Pieces keep that save's memory
  // (records, serialized objects) at a checkpoint's usual size.
  const bool piece = piece_bytes != 0;
  if (piece) {
    checkpoint_log_floor_ = log_floor_;
    checkpoint_map_ = floor_map_;
    frozen_ = memtable_.FreezeDirty(piece_bytes);
  } else if (log_->bytes() > 0) {
    const std::uint64_t old_log = log_->seq();
    // Under always the next acknowledged write may land in the new log at once, so its name must
    // be durable first. Otherwise the background job syncs the directory before anything else.
    const bool sync_dir = !background || options_.fsync == FsyncPolicy::kAlways;
    Status s = log_->Rotate(next_seq_++, sync_dir);
    if (!s.ok()) {
      ++stats_.io_errors;
      return s;
    }
    old_logs_.push_back(old_log);
    job->sync_dir_first = !sync_dir;
    if (background && options_.fsync == FsyncPolicy::kEverySec) {
      // The old log's last second may not be synced (and need not be: the segment will hold
      // it). Until the segment is part of the durable state, the new log must not be synced
      // either, or a power loss could keep newer writes and lose older ones.
      log_->HoldSync();
      sync_held_ = true;
    }
  }
  if (!piece) {
    checkpoint_log_floor_ = log_->seq();
    checkpoint_map_ = map_;  // the mapping at the start of that log (every change is logged)
    frozen_ = memtable_.FreezeDirty();
    unlogged_bytes_ = 0;  // in the segment now, as the rotated log's records are
  }
  job->dir = options_.dir;
  job->object_compression_threshold = options_.compression_threshold;
  if (!frozen_.empty()) {
    job->output_seq = next_seq_++;
    job->output_path = options_.dir + "/" + SegmentFileName(job->output_seq);
    job->records.reserve(frozen_.size());
    for (const Memtable::Entry* e : frozen_) {
      SegmentRecord rec;
      rec.hash = e->hash;
      rec.ns = e->ns();
      if (e->has(Memtable::kTombstone)) rec.flags |= SegmentRecord::kTombstone;
      if (e->has(Memtable::kCompressed)) rec.flags |= SegmentRecord::kCompressed;
      rec.expire_at_ms = e->expire_at_ms;
      rec.key = e->key();
      if (e->has(Memtable::kObject) && bulk_load_ && background) {
        // A bulk load writes whole values only: nothing changes a frozen object in place unless
        // a caller breaks that contract, which SettleFrozenObject then makes wait for the whole
        // job. So no snapshot, no lookup entry, no memory walk per object (a 10 M key import
        // freezes millions of small collections).
        rec.flags |= SegmentRecord::kObject;
        job->objects.emplace_back(e->object(), job->records.size());
        job->unregistered_objects = true;
      } else if (e->has(Memtable::kObject)) {
        // Serialized by the job (RunCheckpoint), off the loop.
        rec.flags |= SegmentRecord::kObject;
        job->objects.emplace_back(e->object(), job->records.size());
        job->object_memory += e->object()->MemoryUsage();
        // A snapshot lets writes go on while the job serializes the object (object.h); without
        // one, a write first has the whole object serialized (SettleFrozenObject).
        if (background) job->objects.back().snapshot = e->object()->StartSnapshot();
        if (background && !job->objects.back().snapshot) {
          frozen_objects_.emplace(e, job->objects.size() - 1);
        }
        if (job->objects.back().snapshot) snapshotted_.push_back(e->object());
      } else {
        rec.stored = e->stored();
        rec.raw_len = e->raw_len();
      }
      job->records.push_back(rec);
    }
  }
  if (bulk_save_ == BulkSave::kUnsaved && !piece) bulk_save_ = BulkSave::kFrozen;
  *any = true;
  return Status::Ok();
}

void EngineImpl::Thaw(const std::vector<Memtable::Entry*>& frozen, bool written) {
  for (Memtable::Entry* e : frozen) {
    if (e->has(Memtable::kRetired)) continue;  // replaced or deleted meanwhile
    if (!written) {
      memtable_.SetFlags(e, Memtable::kDirty, Memtable::kFrozen);
    } else if (e->has(Memtable::kTombstone)) {
      memtable_.SetFlag(e, Memtable::kFrozen, false);
      memtable_.Erase(e);  // the segment's tombstone now hides older versions
    } else {
      // Still dirty when an EXPIRE changed it in place after the freeze.
      memtable_.SetFlags(e, Memtable::kOnDisk, Memtable::kFrozen);
    }
  }
  memtable_.ReleaseRetired();
}

Status EngineImpl::InstallCheckpoint(CheckpointResult result) {
  const auto started = std::chrono::steady_clock::now();
  const bool background = running_job_ != nullptr;
  struct LoopTime {  // counts this install's time too, whichever way it returns
    EngineImpl* engine;
    bool background;
    std::chrono::steady_clock::time_point started;
    ~LoopTime() {
      if (!background) return;
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(
              engine->checkpoint_loop_time_ + std::chrono::steady_clock::now() - started)
              .count();
      engine->stats_.checkpoint_loop_last_us = static_cast<std::uint64_t>(us);
      engine->stats_.checkpoint_loop_max_us =
          std::max(engine->stats_.checkpoint_loop_max_us, engine->stats_.checkpoint_loop_last_us);
    }
  } loop_time{this, background, started};
  stats_.checkpoint_last_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 started - checkpoint_started_)
                                 .count();
  stats_.checkpoint_last_failed = !result.status.ok();
  stats_.checkpoint_failures_in_a_row =
      result.status.ok() ? 0 : stats_.checkpoint_failures_in_a_row + 1;
  const std::vector<Memtable::Entry*> frozen = std::move(frozen_);
  frozen_.clear();
  frozen_objects_.clear();  // the job is over: every object was serialized
  // Their entries are alive until Thaw (a replaced or deleted frozen entry is only retired).
  for (ValueObject* object : snapshotted_) object->EndSnapshot();
  snapshotted_.clear();
  running_job_.reset();
  const bool held = std::exchange(sync_held_, false);
  if (!result.status.ok()) {
    // Nothing changed on disk: the old log still holds what the frozen entries hold.
    ++stats_.io_errors;
    if (held) log_->ReleaseSync();
    Thaw(frozen, /*written=*/false);
    if (bulk_save_ == BulkSave::kFrozen) bulk_save_ = BulkSave::kUnsaved;
    return result.status;
  }
  if (result.output) segments_.push_back(result.output);
  // Every record of the logs before the floor is now in a segment. Until the MANIFEST saying so
  // is durable, the old one keeps those logs authoritative (manifest_writer.h); then the new log
  // may be synced again.
  std::function<void()> release;
  if (held) release = [log = log_.get()] { log->ReleaseSync(); };
  CommitManifest(checkpoint_log_floor_, checkpoint_map_, std::move(release));
  if (bulk_save_ == BulkSave::kFrozen) {
    bulk_save_ = BulkSave::kInstalled;
    bulk_save_commit_ = manifest_writer_.committed();
  }
  Thaw(frozen, /*written=*/true);
  ++stats_.checkpoints;
  return Status::Ok();
}

Status EngineImpl::FinishCheckpoint(bool wait) {
  if (!checkpoint_task_.running()) return Status::Ok();
  if (!wait && !checkpoint_task_.done()) return Status::Ok();
  return InstallCheckpoint(checkpoint_task_.Wait());
}

void EngineImpl::StartCheckpoint() {
  // BeginAtomic: the segment would hold part of the open group. The commit runs MaybeCheckpoint
  // and the memory limit, which start it again if it is still due.
  if (atomic_depth_ > 0) return;
  const auto started = std::chrono::steady_clock::now();
  checkpoint_started_ = started;
  auto job = std::make_shared<CheckpointJob>();
  bool any = false;
  // An unsaved bulk load is saved a piece at a time, then by an ordinary checkpoint of the rest.
  const std::size_t piece =
      bulk_save_ == BulkSave::kUnsaved && options_.log_checkpoint_bytes != 0 &&
              memtable_.dirty_bytes() > 2 * options_.log_checkpoint_bytes
          ? static_cast<std::size_t>(options_.log_checkpoint_bytes)
          : 0;
  if (!FreezeMemtable(job.get(), /*background=*/true, &any, piece).ok() || !any) return;
  if (job->records.empty() && !job->sync_dir_first) {
    InstallCheckpoint(CheckpointResult{});  // no disk work but the MANIFEST
    return;
  }
  running_job_ = job;
  checkpoint_loop_time_ = std::chrono::steady_clock::now() - started;
  // A job that serializes large collections runs at the loop's priority. At SCHED_IDLE, on a
  // busy machine, a client of a 2-core machine at load 12 saw 0.3-1.1 s pings while it ran (no
  // engine call on the loop over 20 ms), against 20-60 ms at normal priority (bench/RESULTS.md):
  // most likely the starved thread is preempted in the middle of the page faults and allocations
  // of the serialized forms, holding the memory-map lock the loop's allocations need.
  // A bulk load's job (unregistered objects) is what the load will wait for next: it serves no
  // client to yield to.
  const BackgroundPriority priority =
      job->object_memory >= kNormalPriorityObjectMemory || job->unregistered_objects
          ? BackgroundPriority::kNormal
          : options_.background_priority;
  checkpoint_task_.Start(
      [job, hook = options_.background_checkpoint_hook] {
        CheckpointResult result = RunCheckpoint(job.get());
        if (hook) hook();
        return result;
      },
      priority);
}

Status EngineImpl::Checkpoint() {
  if (atomic_depth_ > 0) return Status::Ok();  // BeginAtomic: see StartCheckpoint
  FinishCheckpoint(/*wait=*/true);  // its entries, if it failed, are dirty again and go now
  // Every record added so far has been applied to the memtable, so once the segment and MANIFEST
  // are durable they are too, whatever became of the log file (a failed fdatasync).
  const std::uint64_t covered = log_->appended();
  checkpoint_started_ = std::chrono::steady_clock::now();
  CheckpointJob job;
  bool any = false;
  Status s = FreezeMemtable(&job, /*background=*/false, &any);
  if (!s.ok()) return s;
  if (any) {
    s = InstallCheckpoint(RunCheckpoint(&job));
  } else if (log_floor_ < log_->seq()) {
    // An earlier try rotated away from a failed log but could not install. Nothing is dirty, so
    // the segments hold everything; the floor must still pass that log, which may hold only part
    // of what it was given.
    CommitManifest(log_->seq(), map_);  // nothing logged since that log began
  }
  if (!s.ok()) return s;
  s = manifest_writer_.Wait();  // durable, as a forced checkpoint promises
  if (s.ok()) log_->Acknowledge(covered);
  return s;
}

Status EngineImpl::RequestedCheckpoint() {
  if (atomic_depth_ > 0) {  // it runs at the commit
    checkpoint_deferred_ = true;
    return Status::Ok();
  }
  return Checkpoint();
}

void EngineImpl::MaybeCheckpoint() {
  // The replay must end before a MANIFEST may move the floor past logs not replayed yet.
  if (recovering_) return;
  if (checkpoint_task_.running() && checkpoint_task_.done()) FinishCheckpoint(/*wait=*/false);
  // An unsaved bulk load whose checkpoint failed tries again (a disk that was full).
  if (bulk_save_ == BulkSave::kUnsaved && !checkpoint_task_.running() && atomic_depth_ == 0) {
    StartCheckpoint();
    return;
  }
  // A bulk load's puts count as the log bytes they would have taken: its checkpoints stay the
  // size of ordinary ones (a single one at EndBulkLoad would hold every key in its job at once).
  // One whose source is kept takes none (without a memory limit to make room under): the
  // source is what a crash reloads, and its checkpoint comes at the end (EndBulkLoadUnsaved).
  const bool count_unlogged = !(bulk_load_ && bulk_source_kept_ && options_.max_memory == 0);
  const std::uint64_t log_load = log_->bytes() + (count_unlogged ? unlogged_bytes_ : 0);
  const bool log_full =
      options_.log_checkpoint_bytes != 0 && log_load >= options_.log_checkpoint_bytes;
  // Offload: putting dirty data on disk before the memory limit needs it lets the limit drop
  // clean entries instead of waiting for a checkpoint.
  const bool dirty_full = options_.max_memory != 0 &&
                          options_.eviction == EvictionPolicy::kOffload &&
                          memtable_.dirty_bytes() >= options_.max_memory / 2;
  if (!log_full && !dirty_full) {
    StopPacing();
    return;
  }
  if (checkpoint_task_.running()) {
    // A second checkpoint is due while the first still runs: writes outpace the disk. The next
    // one starts when this one is installed; until the log reaches its stall size (options.h)
    // writers are only slowed, then they wait for it. Dirty data alone is the memory limit's
    // business, which waits when it must.
    const std::uint64_t stall_bytes =
        options_.log_checkpoint_bytes *
        static_cast<std::uint64_t>(std::max(options_.log_stall_factor, 1));
    if (!log_full) return;
    const std::uint64_t log_bytes = log_load;
    if (log_bytes < stall_bytes) {
      PaceWrites(log_bytes, stall_bytes);
      return;
    }
    ++stats_.write_stalls;
    const auto started = std::chrono::steady_clock::now();
    FinishCheckpoint(/*wait=*/true);
    stats_.write_stall_us += MicrosSince(started);
  }
  StopPacing();
  StartCheckpoint();
}

void EngineImpl::PaceWrites(std::uint64_t log_bytes, std::uint64_t stall_bytes) {
  // The checkpoint is what the writers will wait for: it must not be starved (at idle priority
  // on a busy core it hardly runs, and the sleeps below would go to other processes).
  const std::uint64_t appended = log_->appended();
  if (!pacing_) {
    pacing_ = true;
    checkpoint_task_.Hasten();
    paced_log_end_ = appended;
  }
  const std::uint64_t bytes = appended - std::min(paced_log_end_, appended);
  paced_log_end_ = appended;
  const std::uint64_t start = options_.log_checkpoint_bytes;
  const double fraction = stall_bytes > start ? static_cast<double>(log_bytes - start) /
                                                    static_cast<double>(stall_bytes - start)
                                              : 1.0;
  const std::chrono::microseconds sleep =
      pacer_.Owe(bytes, fraction, std::chrono::steady_clock::now());
  if (sleep.count() == 0) return;
  ++stats_.write_delays;
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(sleep);
  stats_.write_delay_us += MicrosSince(started);
}

}  // namespace dynakv::storage

namespace dynakv::storage {

std::uint64_t EngineImpl::BeginBulkLoad(bool source_kept) {
  if (source_kept && log_->bytes() > 0) {
    // The records so far stay in a log of their own, replayed before a reload (Options::reload).
    // The floor does not move: that log stays authoritative until a checkpoint covers it.
    const std::uint64_t old_log = log_->seq();
    if (log_->Rotate(next_seq_++, /*sync_dir=*/true).ok()) {
      old_logs_.push_back(old_log);
    } else {
      ++stats_.io_errors;
    }
  }
  bulk_load_ = true;
  bulk_source_kept_ = source_kept;
  bulk_first_segment_ = segments_.size();
  bulk_removals_ = memtable_.removals();
  bulk_compactions_ = stats_.compactions;
  return log_->seq();
}

void EngineImpl::EndBulkLoadUnsaved() {
  // A checkpoint the load started (under max_memory) froze only part of it: it ends first, so
  // that the one started here is the first to freeze after the load.
  FinishCheckpoint(/*wait=*/true);
  bulk_load_ = false;
  bulk_source_kept_ = false;
  bulk_save_ = BulkSave::kUnsaved;
  // Its save is paced by bulk_save_ (MaybeCheckpoint), not by the log: counted as log bytes,
  // the load would make the writes after it wait for the save's pieces as for a full log.
  unlogged_bytes_ = 0;
  StartCheckpoint();
}

bool EngineImpl::bulk_load_saved() const {
  return bulk_save_ == BulkSave::kSaved ||
         (bulk_save_ == BulkSave::kInstalled && manifest_writer_.durable() >= bulk_save_commit_);
}

}  // namespace dynakv::storage
