// A checkpoint's disk work: the frozen memtable entries become one segment file. It runs on a
// background thread (or inline for a forced checkpoint) and touches nothing but its records,
// which point into frozen memtable entries the engine keeps alive and unchanged, and its own
// files; the engine freezes the entries and installs the result on its own thread
// (engine_checkpoint.cc).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "segment_format.h"
#include "segment_reader.h"
#include "storage/status.h"

namespace dynakv::storage {

class ObjectSnapshot;
class ValueObject;

// A frozen typed value whose serialized form the checkpoint needs. The background thread
// serializes it, so that the loop does not stop for a collection of a million members; the owner
// thread keeps reading the object meanwhile (reads change nothing) and, before it changes the
// object, has CheckpointJob::Serialize finish this one first.
//
// An object with snapshots (ValueObject::StartSnapshot) is serialized through its snapshot, by
// the background thread alone: the object itself settles the parts its writes touch.
struct FrozenObject {
  explicit FrozenObject(const ValueObject* o, std::size_t r) : object(o), record(r) {}
  const ValueObject* object;
  std::size_t record;  // its record in CheckpointJob::records
  // Set when the object has one; the engine ends it (ValueObject::EndSnapshot) at the install.
  std::unique_ptr<ObjectSnapshot> snapshot;
  enum State : int { kPending, kClaimed, kDone };
  std::atomic<int> state{kPending};
  std::string bytes;  // the serialized form, once kDone
};

struct CheckpointJob {
  std::vector<SegmentRecord> records;  // in no particular order; each key once
  // The serialized forms of frozen objects, which records point into (a deque: growing it moves
  // no string). They are compressed here, off the owner's thread, when at least this long.
  std::deque<std::string> object_bytes;
  // The frozen objects (a deque: its elements never move). Their records get their bytes once
  // every one is serialized, before the records are sorted.
  std::deque<FrozenObject> objects;
  std::size_t object_memory = 0;  // their MemoryUsage(), summed
  // A bulk load froze objects without snapshots or an entry in the engine's map of frozen
  // objects: one of them may change only after the whole job is installed.
  bool unregistered_objects = false;
  // Serializes objects[i] unless another thread did or does (then waits for it): whichever thread
  // gets there first does it, once. After it returns the object may change.
  void Serialize(std::size_t i);
  std::size_t object_compression_threshold = SIZE_MAX;  // SIZE_MAX: never
  std::string dir;
  std::string output_path;  // unused when there are no records
  std::uint64_t output_seq = 0;
  // The log rotation left the new log's name for the job to make durable (syncing the
  // directory) before anything else.
  bool sync_dir_first = false;

 private:
  std::mutex mu_;
  std::condition_variable serialized_;
};

struct CheckpointResult {
  Status status;
  std::shared_ptr<SegmentReader> output;  // null when there were no records
};

// Serializes the frozen objects, sorts the records and writes, fsyncs and opens the segment.
CheckpointResult RunCheckpoint(CheckpointJob* job);

}  // namespace dynakv::storage
