// Size-tiered compaction: merges a contiguous run of segments into one, keeping only the newest
// version of each key. Runs on a background thread and touches nothing but its inputs (shared,
// immutable readers) and its output file; the engine installs the result on its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "segment_reader.h"
#include "storage/status.h"

namespace dynakv::storage {

struct CompactionJob {
  std::vector<std::shared_ptr<SegmentReader>> inputs;  // contiguous in age order, oldest first
  // The run starts at the oldest segment: nothing older can be shadowed, so tombstones and
  // expired values can go entirely. Otherwise expired values become tombstones.
  bool includes_oldest = false;
  std::int64_t now_ms = 0;
  std::string output_path;
  std::uint64_t output_seq = 0;
  // The namespaces some database maps to (sorted). Records of any other are garbage of a FLUSHDB
  // (engine.h: a namespace, once unmapped, is never looked up again) and are dropped. Empty:
  // every namespace is kept.
  std::vector<std::uint32_t> live_namespaces;
};

struct CompactionResult {
  Status status;
  std::shared_ptr<SegmentReader> output;  // null when every record was dropped
  // Keys whose newest version in the run was an expired value that this compaction removed;
  // the engine decides whether they were still counted as live.
  std::vector<std::string> expired_keys;
  std::vector<std::uint32_t> expired_namespaces;  // the namespace of each of expired_keys
};

// Picks the run to compact: the oldest contiguous run of at least `trigger` segments whose sizes
// are within 4x of each other. Returns false when there is none.
bool PickCompactionRun(const std::vector<std::uint64_t>& sizes, int trigger, std::size_t* begin,
                       std::size_t* end);

// Runs the merge. Returns early with a non-ok status when `cancel` becomes true.
CompactionResult RunCompaction(const CompactionJob& job, const std::atomic<bool>& cancel);

}  // namespace dynakv::storage
