#include "checkpoint.h"

#include <algorithm>

#include "file_util.h"
#include "segment_writer.h"
#include "storage/object.h"
#include "value_codec.h"

namespace dynakv::storage {

void CheckpointJob::Serialize(std::size_t i) {
  FrozenObject& o = objects[i];
  int expected = FrozenObject::kPending;
  if (o.state.compare_exchange_strong(expected, FrozenObject::kClaimed,
                                      std::memory_order_acq_rel)) {
    if (o.snapshot) {
      o.snapshot->Serialize(&o.bytes);
    } else {
      o.object->Serialize(&o.bytes);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      o.state.store(FrozenObject::kDone, std::memory_order_release);
    }
    serialized_.notify_all();
    return;
  }
  if (expected == FrozenObject::kDone) return;
  std::unique_lock<std::mutex> lock(mu_);
  serialized_.wait(lock,
                   [&o] { return o.state.load(std::memory_order_acquire) == FrozenObject::kDone; });
}

CheckpointResult RunCheckpoint(CheckpointJob* job) {
  CheckpointResult result;
  if (job->sync_dir_first) {
    result.status = SyncDir(job->dir);
    if (!result.status.ok()) return result;
  }
  if (job->records.empty()) return result;
  for (std::size_t i = 0; i < job->objects.size(); ++i) {
    job->Serialize(i);
    const FrozenObject& o = job->objects[i];
    SegmentRecord& rec = job->records[o.record];
    rec.stored = o.bytes;
    rec.raw_len = static_cast<std::uint32_t>(o.bytes.size());
  }
  // Typed values arrive serialized but raw, and so do strings that patches keep raw in memory
  // (engine_patch.cc): LZ4 costs the background thread, not the loop. (A string that was raw
  // because LZ4 could not shrink it is mostly refused by the compressor's sampling, cheaply.)
  if (job->object_compression_threshold != SIZE_MAX) {
    // One compressor per kind: a run of strings LZ4 cannot shrink then makes it try only some
    // of them (ValueCompressor::kRefusedRun), while the collections between them still compress.
    ValueCompressor strings;
    ValueCompressor objects;
    for (SegmentRecord& rec : job->records) {
      if (rec.tombstone() || rec.compressed()) continue;
      ValueCompressor& compressor = rec.object() ? objects : strings;
      std::string_view packed;
      if (!compressor.Compress(rec.stored, job->object_compression_threshold, &packed)) continue;
      job->object_bytes.emplace_back(packed);
      rec.stored = job->object_bytes.back();
      rec.flags |= SegmentRecord::kCompressed;
    }
  }
  // The segment's order, sorted as (hash, position) pairs rather than moving the records
  // themselves (64 bytes each): the hash decides all but a collision's order, which the full
  // comparison settles. Sorting the records was 8% of a bulk load's instructions.
  struct Slot {
    std::uint64_t hash;
    std::size_t at;
  };
  const std::vector<SegmentRecord>& records = job->records;
  const std::size_t count = records.size();
  std::vector<Slot> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = Slot{records[i].hash, i};
  std::sort(order.begin(), order.end(), [&records](const Slot& a, const Slot& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return RecordLess(records[a.at], records[b.at]);
  });
  std::unique_ptr<SegmentWriter> writer;
  result.status = SegmentWriter::Create(job->output_path, &writer);
  // In hash order the records' bytes are scattered over the memtable: each copy into the block
  // would wait for memory, so the entries a few records ahead are fetched meanwhile (and the
  // records a few further ahead, now that they are visited out of order too).
  constexpr std::size_t kPrefetchAhead = 8;
  for (std::size_t i = 0; result.status.ok() && i < count; ++i) {
    if (i + 2 * kPrefetchAhead < count)
      __builtin_prefetch(&records[order[i + 2 * kPrefetchAhead].at]);
    if (i + kPrefetchAhead < count) {
      const SegmentRecord& ahead = records[order[i + kPrefetchAhead].at];
      __builtin_prefetch(ahead.key.data());
      __builtin_prefetch(ahead.stored.data());
    }
    result.status = writer->Add(records[order[i].at]);
  }
  if (result.status.ok()) result.status = writer->Finish();
  // The MANIFEST that will name the file must not outlive the file's name.
  if (result.status.ok()) result.status = SyncDir(job->dir);
  writer.reset();  // removes the file unless finished
  if (result.status.ok()) {
    result.status = SegmentReader::Open(job->output_path, job->output_seq, &result.output);
  }
  if (!result.status.ok()) RemoveFile(job->output_path);
  // The serialized and compressed forms (a large collection's are tens of MB) are freed here, off
  // the loop, rather than with the job at the install. The loop may still ask for an object's
  // serialization (CheckpointJob::Serialize), which finds it done and reads nothing else.
  for (FrozenObject& o : job->objects) std::string().swap(o.bytes);
  job->object_bytes.clear();
  std::vector<SegmentRecord>().swap(job->records);
  return result;
}

}  // namespace dynakv::storage
