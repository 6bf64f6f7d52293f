// The engine's on-disk side: segment lookups, checkpoints, the MANIFEST and compaction.
#include <algorithm>

#include "engine_impl.h"
#include "file_names.h"
#include "manifest.h"
#include "segment_writer.h"

namespace dynakv::storage {

bool EngineImpl::LookupSegments(std::uint64_t hash, std::string_view key, SegmentRecord* rec) {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!(*it)->MayContain(hash)) {
      ++stats_.bloom_skips;
      continue;
    }
    ++stats_.segment_reads;
    bool found = false;
    // An unreadable block is counted and treated as not holding the key: the lookup carries on
    // with older segments rather than failing the whole read.
    if (!(*it)->Get(hash, key, rec, &lookup_buf_, &found).ok()) {
      ++stats_.io_errors;
      continue;
    }
    if (found) return true;
  }
  return false;
}

Status EngineImpl::CommitManifest(std::uint64_t log_floor) {
  Manifest m;
  m.next_seq = next_seq_;
  m.log_seq = log_floor;
  for (const auto& seg : segments_) m.segments.push_back(seg->seq());
  Status s = WriteManifest(options_.dir, m);
  if (!s.ok()) return s;
  // Failing to delete leaves garbage that the next open removes, nothing worse.
  for (const std::string& path : obsolete_files_) RemoveFile(path);
  obsolete_files_.clear();
  log_floor_ = log_floor;
  std::erase_if(old_logs_, [&](std::uint64_t seq) {
    if (seq >= log_floor) return false;
    RemoveFile(options_.dir + "/" + LogFileName(seq));
    return true;
  });
  return Status::Ok();
}

Status EngineImpl::Checkpoint() {
  std::vector<Memtable::Entry*> dirty = memtable_.DirtyEntries();
  std::sort(dirty.begin(), dirty.end(), [](const Memtable::Entry* a, const Memtable::Entry* b) {
    return RecordLess(a->hash, a->key(), b->hash, b->key());
  });
  std::shared_ptr<SegmentReader> segment;
  Status s;
  if (!dirty.empty()) {
    const std::uint64_t seq = next_seq_++;
    const std::string path = options_.dir + "/" + SegmentFileName(seq);
    std::unique_ptr<SegmentWriter> writer;
    s = SegmentWriter::Create(path, &writer);
    for (std::size_t i = 0; s.ok() && i < dirty.size(); ++i) {
      const Memtable::Entry* e = dirty[i];
      SegmentRecord rec;
      rec.hash = e->hash;
      if (e->has(Memtable::kTombstone)) rec.flags |= SegmentRecord::kTombstone;
      if (e->has(Memtable::kCompressed)) rec.flags |= SegmentRecord::kCompressed;
      rec.expire_at_ms = e->expire_at_ms;
      rec.key = e->key();
      rec.stored = e->stored();
      rec.raw_len = e->raw_len;
      s = writer->Add(rec);
    }
    if (s.ok()) s = writer->Finish();
    if (s.ok()) s = SyncDir(options_.dir);
    if (s.ok()) s = SegmentReader::Open(path, seq, &segment);
    if (!s.ok()) {
      ++stats_.io_errors;
      writer.reset();
      RemoveFile(path);
      return s;
    }
  }
  // An empty current log holds nothing the new segment must cover, so it can stay.
  if (log_->bytes() > 0) {
    const std::uint64_t old_log = log_->seq();
    s = log_->Rotate(next_seq_++);
    if (!s.ok()) {
      ++stats_.io_errors;
      if (segment) RemoveFile(segment->path());
      return s;
    }
    old_logs_.push_back(old_log);
  }
  if (segment) segments_.push_back(segment);
  // Every record of the logs before the current one is now in a segment.
  s = CommitManifest(log_->seq());
  if (!s.ok()) {
    // The old MANIFEST still rules: the logs it names hold everything, the new segment is not
    // part of the state. Memtable entries stay dirty.
    ++stats_.io_errors;
    if (segment) {
      segments_.pop_back();
      obsolete_files_.push_back(segment->path());
    }
    return s;
  }
  for (Memtable::Entry* e : dirty) {
    if (e->has(Memtable::kTombstone)) {
      memtable_.Erase(e);  // the segment's tombstone now hides older versions
    } else {
      memtable_.SetFlag(e, Memtable::kDirty, false);
      memtable_.SetFlag(e, Memtable::kOnDisk, true);
    }
  }
  ++stats_.checkpoints;
  return Status::Ok();
}

void EngineImpl::MaybeStartCompaction() {
  if (compaction_running_ || segments_.size() < 2) return;
  // Runs may not cross a segment a previous compaction could not read.
  std::size_t begin = 0, end = 0;
  bool found = false;
  for (std::size_t lo = 0; lo < segments_.size() && !found;) {
    std::size_t hi = lo;
    while (hi < segments_.size() && uncompactable_.count(segments_[hi]->seq()) == 0) ++hi;
    std::vector<std::uint64_t> sizes;
    for (std::size_t i = lo; i < hi; ++i) sizes.push_back(segments_[i]->file_size());
    if (PickCompactionRun(sizes, options_.compaction_trigger, &begin, &end)) {
      begin += lo;
      end += lo;
      found = true;
    }
    lo = hi + 1;
  }
  if (!found) return;

  compaction_job_ = CompactionJob{};
  compaction_job_.inputs.assign(segments_.begin() + static_cast<std::ptrdiff_t>(begin),
                                segments_.begin() + static_cast<std::ptrdiff_t>(end));
  compaction_job_.includes_oldest = begin == 0;
  compaction_job_.now_ms = Now();
  compaction_job_.output_seq = next_seq_++;
  compaction_job_.output_path = options_.dir + "/" + SegmentFileName(compaction_job_.output_seq);
  compaction_done_.store(false);
  compaction_cancel_.store(false);
  compaction_running_ = true;
  compaction_thread_ = std::thread([this] {
    compaction_result_ = RunCompaction(compaction_job_, compaction_cancel_);
    compaction_done_.store(true, std::memory_order_release);
  });
}

void EngineImpl::CancelCompaction() {
  if (!compaction_running_) return;
  compaction_cancel_.store(true);
  compaction_thread_.join();
  compaction_running_ = false;
  if (compaction_result_.output) RemoveFile(compaction_result_.output->path());
  compaction_result_ = CompactionResult{};
  compaction_job_ = CompactionJob{};
}

void EngineImpl::FinishCompaction() {
  if (!compaction_running_ || !compaction_done_.load(std::memory_order_acquire)) return;
  compaction_thread_.join();
  compaction_running_ = false;
  CompactionJob job = std::move(compaction_job_);
  CompactionResult result = std::move(compaction_result_);
  compaction_job_ = CompactionJob{};
  compaction_result_ = CompactionResult{};
  if (!result.status.ok()) {
    ++stats_.io_errors;
    if (result.status.code() == Status::Code::kCorruption) {
      for (const auto& seg : job.inputs) uncompactable_.insert(seg->seq());
    }
    return;
  }
  // Only checkpoints ran meanwhile and they append, so the run is still in place; anything
  // else would be a bug, and installing then would lose data.
  auto first = std::find(segments_.begin(), segments_.end(), job.inputs.front());
  const auto begin = static_cast<std::size_t>(first - segments_.begin());
  const bool in_place = begin + job.inputs.size() <= segments_.size() &&
                        std::equal(job.inputs.begin(), job.inputs.end(), first);
  if (!in_place) {
    if (result.output) RemoveFile(result.output->path());
    ++stats_.io_errors;
    return;
  }
  const std::vector<std::shared_ptr<SegmentReader>> before = segments_;
  const std::size_t obsolete_before = obsolete_files_.size();
  segments_.erase(first, first + static_cast<std::ptrdiff_t>(job.inputs.size()));
  if (result.output)
    segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(begin), result.output);
  for (const auto& seg : job.inputs) obsolete_files_.push_back(seg->path());
  if (!CommitManifest(log_floor_).ok()) {
    ++stats_.io_errors;
    segments_ = before;
    obsolete_files_.resize(obsolete_before);
    if (result.output) obsolete_files_.push_back(result.output->path());
    return;
  }
  ++stats_.compactions;
  AccountCompactedExpiries(result.expired_keys, result.output ? begin + 1 : begin);
}

void EngineImpl::AccountCompactedExpiries(const std::vector<std::string>& keys, std::size_t newer) {
  SegmentRecord rec;
  for (const std::string& key : keys) {
    const std::uint64_t hash = HashKey(key);
    Memtable::Entry* e = memtable_.Find(hash, key);
    if (e != nullptr && e->has(Memtable::kDirty)) continue;  // a newer write decides
    bool shadowed = false;
    for (std::size_t i = newer; i < segments_.size() && !shadowed; ++i) {
      bool found = false;
      shadowed = segments_[i]->MayContain(hash) &&
                 segments_[i]->Get(hash, key, &rec, &lookup_buf_, &found).ok() && found;
    }
    if (shadowed) continue;
    // The removed version was the key's newest: it was still counted, now it is gone.
    if (e != nullptr) memtable_.Erase(e);  // a cached copy of the expired value
    --live_keys_;
    --keys_with_expiry_;
    ++stats_.expired_keys;
  }
}

}  // namespace dynakv::storage
