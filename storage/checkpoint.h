// A checkpoint's disk work: the frozen memtable entries become one segment file. It runs on a
// background thread (or inline for a forced checkpoint) and touches nothing but its records,
// which point into frozen memtable entries the engine keeps alive and unchanged, and its own
// files; the engine freezes the entries and installs the result on its own thread
// (engine_checkpoint.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "segment_format.h"
#include "segment_reader.h"
#include "storage/status.h"

namespace dynakv::storage {

struct CheckpointJob {
  std::vector<SegmentRecord> records;  // in no particular order; each key once
  // The serialized forms of frozen objects, which records point into (a deque: growing it moves
  // no string). They are compressed here, off the owner's thread, when at least this long.
  std::deque<std::string> object_bytes;
  std::size_t object_compression_threshold = SIZE_MAX;  // SIZE_MAX: never
  std::string dir;
  std::string output_path;  // unused when there are no records
  std::uint64_t output_seq = 0;
  // The log rotation left the new log's name for the job to make durable (syncing the
  // directory) before anything else.
  bool sync_dir_first = false;
};

struct CheckpointResult {
  Status status;
  std::shared_ptr<SegmentReader> output;  // null when there were no records
};

// Sorts the records and writes, fsyncs and opens the segment.
CheckpointResult RunCheckpoint(CheckpointJob* job);

}  // namespace dynakv::storage
