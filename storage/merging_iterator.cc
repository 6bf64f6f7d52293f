#include "merging_iterator.h"

namespace dynakv::storage {

MergingIterator::MergingIterator(const std::vector<std::shared_ptr<SegmentReader>>& segments) {
  sources_.reserve(segments.size());
  for (const auto& seg : segments) sources_.emplace_back(seg);
}

void MergingIterator::SeekToFirst() {
  status_ = Status::Ok();
  for (SegmentIterator& it : sources_) it.SeekToFirst();
  FindCurrent();
}

void MergingIterator::Seek(std::uint64_t hash) {
  status_ = Status::Ok();
  for (SegmentIterator& it : sources_) it.Seek(hash);
  FindCurrent();
}

void MergingIterator::FindCurrent() {
  // A linear pick is fine: merges involve a handful of segments.
  current_ = -1;
  for (int i = 0; i < static_cast<int>(sources_.size()); ++i) {
    const SegmentIterator& it = sources_[i];
    if (!it.status().ok()) {
      status_ = it.status();
      failed_source_ = static_cast<std::size_t>(i);
      current_ = -1;
      return;
    }
    if (!it.Valid()) continue;
    if (current_ < 0) {
      current_ = i;
      continue;
    }
    const SegmentRecord& a = it.record();
    const SegmentRecord& b = sources_[current_].record();
    // Ties go to the later (newer) source.
    if (!RecordLess(b, a)) current_ = i;
  }
}

void MergingIterator::Next() {
  if (current_ < 0) return;
  const SegmentRecord cur = sources_[current_].record();
  // Advance every source sitting on the same key (older versions), the winner last because
  // its views back `cur`.
  for (int i = 0; i < static_cast<int>(sources_.size()); ++i) {
    if (i == current_) continue;
    SegmentIterator& it = sources_[i];
    if (it.Valid() && SameKey(it.record(), cur)) it.Next();
  }
  sources_[current_].Next();
  FindCurrent();
}

}  // namespace dynakv::storage
