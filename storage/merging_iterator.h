// Merges several segments' records into one (hash, key)-ordered stream in which each key appears
// once, with the version from the newest segment. Used by compaction, by the key count at open
// and by active expiry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "segment_reader.h"

namespace dynakv::storage {

class MergingIterator {
 public:
  // `segments` oldest first: on equal keys the later one wins.
  explicit MergingIterator(const std::vector<std::shared_ptr<SegmentReader>>& segments);

  void SeekToFirst();
  void Seek(std::uint64_t hash);  // first record with hash >= `hash`
  bool Valid() const { return current_ >= 0; }
  void Next();
  const SegmentRecord& record() const { return sources_[current_].record(); }
  // Index (in the constructor's vector) of the segment the current record comes from.
  std::size_t source() const { return static_cast<std::size_t>(current_); }
  // The first error of any source; iteration stops at it.
  const Status& status() const { return status_; }
  // When status() is not ok: the index of the source that failed.
  std::size_t failed_source() const { return failed_source_; }

 private:
  void FindCurrent();

  std::vector<SegmentIterator> sources_;
  int current_ = -1;
  Status status_;
  std::size_t failed_source_ = 0;
};

}  // namespace dynakv::storage
