// Merges several segments' records into one (hash, key)-ordered stream in which each key appears
// once, with the version from the newest segment. Used by compaction and by the key count at
// open.
#pragma once

#include <memory>
#include <vector>

#include "segment_reader.h"

namespace dynakv::storage {

class MergingIterator {
 public:
  // `segments` oldest first: on equal keys the later one wins.
  explicit MergingIterator(const std::vector<std::shared_ptr<SegmentReader>>& segments);

  void SeekToFirst();
  bool Valid() const { return current_ >= 0; }
  void Next();
  const SegmentRecord& record() const { return sources_[current_].record(); }
  // The first error of any source; iteration stops at it.
  const Status& status() const { return status_; }

 private:
  void FindCurrent();

  std::vector<SegmentIterator> sources_;
  int current_ = -1;
  Status status_;
};

}  // namespace dynakv::storage
