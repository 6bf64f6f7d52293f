// The engine's on-disk side: segment lookups, the MANIFEST and compaction.
#include <algorithm>

#include "engine_impl.h"
#include "file_names.h"
#include "manifest.h"

namespace dynakv::storage {

bool EngineImpl::LookupSegments(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                                SegmentRecord* rec) {
  auto newest = segments_.rbegin();
  // A bulk load's own checkpoints wrote memtable entries, which stay in the table as clean
  // copies (a replaced one leaves its key there): while nothing was removed from the table and
  // no compaction merged segments, a key the table lacks is in none of them, and the lookup of
  // each new key skips their bloom filters (a cache miss or two each; a 10 M key import writes
  // a checkpoint per 64 MB of puts, so most keys would pass a dozen filters or more).
  if (bulk_load_ && memtable_.removals() == bulk_removals_ &&
      stats_.compactions == bulk_compactions_ && bulk_first_segment_ <= segments_.size()) {
    newest += static_cast<std::ptrdiff_t>(segments_.size() - bulk_first_segment_);
  }
  for (auto it = newest; it != segments_.rend(); ++it) {
    if (!(*it)->MayContain(hash)) {
      ++stats_.bloom_skips;
      continue;
    }
    ++stats_.segment_reads;
    bool found = false;
    // An unreadable block may hold the key's newest version: an older segment's copy would be
    // stale data, "missing" a lie. The lookup stops, and the failure is reported to the caller
    // (TakeReadError) and in EngineStats (INFO persistence).
    if (Status s = (*it)->Get(hash, key, ns, rec, &lookup_buf_, &found); !s.ok()) {
      ++stats_.io_errors;
      ++stats_.segment_read_errors;
      segment_read_error_ = s;
      read_error_ = std::move(s);
      read_error_key_.assign(key);
      return false;
    }
    if (found) return true;
  }
  return false;
}

void EngineImpl::CommitManifest(std::uint64_t log_floor, const DbMapping& map,
                                std::function<void()> done) {
  Manifest m;
  m.next_seq = next_seq_;
  m.log_seq = log_floor;
  floor_map_ = map;
  if (!map.identity()) m.dbs = map;
  for (const auto& seg : segments_) m.segments.push_back(seg->seq());
  std::vector<std::string> obsolete = std::move(obsolete_files_);
  obsolete_files_.clear();
  log_floor_ = log_floor;
  std::erase_if(old_logs_, [&](std::uint64_t seq) {
    if (seq >= log_floor) return false;
    obsolete.push_back(options_.dir + "/" + LogFileName(seq));
    return true;
  });
  manifest_writer_.Commit(std::move(m), std::move(obsolete), std::move(done));
}

void EngineImpl::MaybeStartCompaction() {
  if (compaction_task_.running() || segments_.size() < 2) return;
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
  // A namespace unmapped now stays so (FLUSHDB never reuses one; FLUSHALL cancels compactions).
  compaction_job_.live_namespaces = LiveNamespaces();
  compaction_cancel_.store(false);
  compaction_task_.Start([this] { return RunCompaction(compaction_job_, compaction_cancel_); },
                         options_.background_priority);
}

void EngineImpl::CancelCompaction() {
  if (!compaction_task_.running()) return;
  compaction_cancel_.store(true);
  const CompactionResult result = compaction_task_.Wait();
  if (result.output) RemoveFile(result.output->path());
  compaction_job_ = CompactionJob{};
}

void EngineImpl::FinishCompaction() {
  if (!compaction_task_.running() || !compaction_task_.done()) return;
  CompactionResult result = compaction_task_.Wait();
  CompactionJob job = std::move(compaction_job_);
  compaction_job_ = CompactionJob{};
  if (!result.status.ok()) {
    ++stats_.io_errors;
    if (result.status.code() == Status::Code::kCorruption) {
      for (const auto& seg : job.inputs) uncompactable_.insert(seg->seq());
    }
    return;
  }
  // Only checkpoints were installed meanwhile and they append, so the run is still in place;
  // anything else would be a bug, and installing then would lose data.
  auto first = std::find(segments_.begin(), segments_.end(), job.inputs.front());
  const auto begin = static_cast<std::size_t>(first - segments_.begin());
  const bool in_place = begin + job.inputs.size() <= segments_.size() &&
                        std::equal(job.inputs.begin(), job.inputs.end(), first);
  if (!in_place) {
    if (result.output) RemoveFile(result.output->path());
    ++stats_.io_errors;
    return;
  }
  segments_.erase(first, first + static_cast<std::ptrdiff_t>(job.inputs.size()));
  if (result.output)
    segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(begin), result.output);
  for (const auto& seg : job.inputs) obsolete_files_.push_back(seg->path());
  CommitManifest(log_floor_, floor_map_);
  ++stats_.compactions;
  AccountCompactedExpiries(result.expired_keys, result.expired_namespaces,
                           result.output ? begin + 1 : begin);
}

void EngineImpl::AccountCompactedExpiries(const std::vector<std::string>& keys,
                                          const std::vector<std::uint32_t>& namespaces,
                                          std::size_t newer) {
  SegmentRecord rec;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::string& key = keys[k];
    const std::uint32_t ns = namespaces[k];
    if (!LiveNamespace(ns)) continue;  // flushed meanwhile: counted out by the FLUSHDB
    const std::uint64_t hash = HashKey(key, ns);
    Memtable::Entry* e = memtable_.Find(hash, key, ns);
    if (e != nullptr && !Clean(*e)) continue;  // a newer write decides
    bool shadowed = false;
    for (std::size_t i = newer; i < segments_.size() && !shadowed; ++i) {
      bool found = false;
      shadowed = segments_[i]->MayContain(hash) &&
                 segments_[i]->Get(hash, key, ns, &rec, &lookup_buf_, &found).ok() && found;
    }
    if (shadowed) continue;
    // The removed version was the key's newest: it was still counted, now it is gone.
    if (e != nullptr) memtable_.Erase(e);  // a cached copy of the expired value
    DbCounts& counts = CountsOf(ns);
    --live_keys_;
    --keys_with_expiry_;
    --counts.keys;
    --counts.expiring;
    ++stats_.expired_keys;
  }
}

}  // namespace dynakv::storage
