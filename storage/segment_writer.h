// Writes one segment file from records supplied in (hash, key) order. Used by checkpoints and
// compactions, on their background threads (and by a forced checkpoint on the caller's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "file_util.h"
#include "segment_format.h"
#include "storage/status.h"

namespace dynakv::storage {

class SegmentWriter {
 public:
  // Creates (truncating) the file.
  static Status Create(const std::string& path, std::unique_ptr<SegmentWriter>* out);
  SegmentWriter(FileDescriptor fd, std::string path);
  // An unfinished file is removed: it is garbage.
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  Status Add(const SegmentRecord& rec);
  // Writes index, bloom filter and footer and fsyncs the file (not its directory).
  Status Finish();

  std::uint64_t records() const { return hashes_.size(); }
  std::uint64_t file_size() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  Status FlushBlock();
  Status Write(std::string_view data);

  FileDescriptor fd_;
  std::string path_;
  std::string block_;
  std::uint64_t block_first_hash_ = 0;
  std::string index_;
  std::vector<std::uint64_t> hashes_;
  std::uint64_t expiring_ = 0;           // values with a TTL
  std::int64_t earliest_expiry_ms_ = 0;  // the earliest of their expiry times
  std::uint64_t offset_ = 0;
  bool finished_ = false;
};

}  // namespace dynakv::storage
