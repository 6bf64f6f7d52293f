#include "compaction.h"

#include <algorithm>

#include "merging_iterator.h"
#include "segment_writer.h"

namespace dynakv::storage {

bool PickCompactionRun(const std::vector<std::uint64_t>& sizes, int trigger, std::size_t* begin,
                       std::size_t* end) {
  // Bounds the work (and the open inputs) of one merge.
  constexpr std::size_t kMaxRun = 32;
  constexpr std::uint64_t kSimilar = 4;
  const std::size_t need = static_cast<std::size_t>(std::max(trigger, 2));
  for (std::size_t i = 0; i + need <= sizes.size(); ++i) {
    std::uint64_t lo = std::max<std::uint64_t>(sizes[i], 1);
    std::uint64_t hi = lo;
    std::size_t j = i + 1;
    for (; j < sizes.size() && j - i < kMaxRun; ++j) {
      const std::uint64_t s = std::max<std::uint64_t>(sizes[j], 1);
      if (std::max(hi, s) > kSimilar * std::min(lo, s)) break;
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    if (j - i >= need) {
      *begin = i;
      *end = j;
      return true;
    }
  }
  return false;
}

CompactionResult RunCompaction(const CompactionJob& job, const std::atomic<bool>& cancel) {
  CompactionResult result;
  std::unique_ptr<SegmentWriter> writer;
  result.status = SegmentWriter::Create(job.output_path, &writer);
  if (!result.status.ok()) return result;

  MergingIterator it(job.inputs);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    if (cancel.load(std::memory_order_relaxed)) {
      result.status = Status::IoError("compaction cancelled");
      return result;
    }
    SegmentRecord rec = it.record();
    if (!job.live_namespaces.empty() &&
        !std::binary_search(job.live_namespaces.begin(), job.live_namespaces.end(), rec.ns)) {
      continue;
    }
    if (rec.tombstone()) {
      if (job.includes_oldest) continue;
    } else if (rec.expire_at_ms != 0 && rec.expire_at_ms <= job.now_ms) {
      result.expired_keys.emplace_back(rec.key);
      result.expired_namespaces.push_back(rec.ns);
      if (job.includes_oldest) continue;
      rec.flags = SegmentRecord::kTombstone;
      rec.expire_at_ms = 0;
      rec.stored = {};
      rec.raw_len = 0;
    }
    result.status = writer->Add(rec);
    if (!result.status.ok()) return result;
  }
  result.status = it.status();
  if (!result.status.ok()) return result;

  if (writer->records() == 0) {
    writer.reset();  // removes the empty file
    return result;
  }
  result.status = writer->Finish();
  if (!result.status.ok()) return result;
  writer.reset();
  result.status = SegmentReader::Open(job.output_path, job.output_seq, &result.output);
  return result;
}

}  // namespace dynakv::storage
