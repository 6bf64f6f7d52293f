#include "segment_writer.h"

#include <fcntl.h>

#include "bloom.h"
#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

Status SegmentWriter::Create(const std::string& path, std::unique_ptr<SegmentWriter>* out) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, &fd);
  if (!s.ok()) return s;
  *out = std::make_unique<SegmentWriter>(std::move(fd), path);
  return Status::Ok();
}

SegmentWriter::SegmentWriter(FileDescriptor fd, std::string path)
    : fd_(std::move(fd)), path_(std::move(path)) {}

SegmentWriter::~SegmentWriter() {
  if (!finished_) {
    fd_ = FileDescriptor();
    RemoveFile(path_);
  }
}

Status SegmentWriter::Write(std::string_view data) {
  Status s = WriteAll(fd_.get(), data, path_);
  if (s.ok()) offset_ += data.size();
  return s;
}

Status SegmentWriter::FlushBlock() {
  if (block_.empty()) return Status::Ok();
  PutFixed64(&index_, block_first_hash_);
  PutFixed64(&index_, offset_);
  PutFixed32(&index_, static_cast<std::uint32_t>(block_.size()));
  PutFixed32(&block_, Checksum32(block_));
  Status s = Write(block_);
  block_.clear();
  return s;
}

Status SegmentWriter::Add(const SegmentRecord& rec) {
  // A record never spans blocks; one bigger than a block simply gets a block of its own.
  const std::size_t approx = 64 + rec.key.size() + rec.stored.size();
  if (!block_.empty() && block_.size() + approx > kSegmentBlockSize) {
    Status s = FlushBlock();
    if (!s.ok()) return s;
  }
  if (block_.empty()) block_first_hash_ = rec.hash;
  AppendSegmentRecord(&block_, rec);
  hashes_.push_back(rec.hash);
  if (!rec.tombstone() && rec.expire_at_ms != 0) {
    if (expiring_ == 0 || rec.expire_at_ms < earliest_expiry_ms_) {
      earliest_expiry_ms_ = rec.expire_at_ms;
    }
    ++expiring_;
  }
  if (block_.size() >= kSegmentBlockSize) return FlushBlock();
  return Status::Ok();
}

Status SegmentWriter::Finish() {
  Status s = FlushBlock();
  if (!s.ok()) return s;
  const std::uint64_t index_offset = offset_;
  const std::uint64_t index_size = index_.size();
  PutFixed32(&index_, Checksum32(index_));
  s = Write(index_);
  if (!s.ok()) return s;

  std::string bloom = BuildBloomFilter(hashes_);
  const std::uint64_t bloom_offset = offset_;
  const std::uint64_t bloom_size = bloom.size();
  PutFixed32(&bloom, Checksum32(bloom));
  s = Write(bloom);
  if (!s.ok()) return s;

  std::string footer;
  PutFixed64(&footer, index_offset);
  PutFixed64(&footer, index_size);
  PutFixed64(&footer, bloom_offset);
  PutFixed64(&footer, bloom_size);
  PutFixed64(&footer, hashes_.size());
  PutFixed64(&footer, expiring_);
  PutFixed64(&footer, static_cast<std::uint64_t>(earliest_expiry_ms_));
  PutFixed64(&footer, kSegmentMagic);
  PutFixed32(&footer, Checksum32(footer));
  s = Write(footer);
  if (s.ok()) s = SyncFd(fd_.get(), path_);
  if (s.ok()) finished_ = true;
  return s;
}

}  // namespace dynakv::storage
