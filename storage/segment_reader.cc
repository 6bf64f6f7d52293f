#include "segment_reader.h"

#include <fcntl.h>

#include <algorithm>

#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

SegmentReader::SegmentReader(FileDescriptor fd, std::string path, std::uint64_t seq)
    : fd_(std::move(fd)), path_(std::move(path)), seq_(seq) {}

Status SegmentReader::Open(const std::string& path, std::uint64_t seq,
                           std::shared_ptr<SegmentReader>* out) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_RDONLY, &fd);
  if (!s.ok()) return s;
  auto reader = std::make_shared<SegmentReader>(std::move(fd), path, seq);
  s = reader->Load();
  if (s.ok()) *out = std::move(reader);
  return s;
}

namespace {

// Reads [offset, offset+size) plus the checksum that follows it and verifies it.
Status ReadChecked(int fd, const std::string& path, std::uint64_t offset, std::uint64_t size,
                   std::uint64_t file_size, const char* what, std::string* out) {
  if (offset > file_size || size + 4 > file_size - offset) {
    return Status::Corruption(std::string(what) + " out of bounds in " + path);
  }
  out->resize(size + 4);
  Status s = ReadAt(fd, offset, size + 4, out->data(), path);
  if (!s.ok()) return s;
  if (Checksum32(out->data(), size) != DecodeFixed32(out->data() + size)) {
    return Status::Corruption(std::string(what) + " checksum mismatch in " + path);
  }
  out->resize(size);
  return Status::Ok();
}

}  // namespace

Status SegmentReader::Load() {
  Status s = FileSize(fd_.get(), path_, &file_size_);
  if (!s.ok()) return s;
  if (file_size_ < kSegmentFooterSize) return Status::Corruption("segment too short: " + path_);
  // The magic, right before the footer's checksum, tells the format.
  char magic[8];
  s = ReadAt(fd_.get(), file_size_ - 12, sizeof(magic), magic, path_);
  if (!s.ok()) return s;
  const std::uint64_t m = DecodeFixed64(magic);
  if (m == kSegmentMagicV1 || m == kSegmentMagicV2) {
    return Status::Corruption("segment " + path_ +
                              " has an older on-disk format (CRC-32 checksums) that this version "
                              "does not read");
  }
  if (m != kSegmentMagic) return Status::Corruption("bad magic: " + path_);
  std::string footer;
  s = ReadChecked(fd_.get(), path_, file_size_ - kSegmentFooterSize, kSegmentFooterSize - 4,
                  file_size_, "footer", &footer);
  if (!s.ok()) return s;
  const char* p = footer.data();
  const std::uint64_t index_offset = DecodeFixed64(p);
  const std::uint64_t index_size = DecodeFixed64(p + 8);
  const std::uint64_t bloom_offset = DecodeFixed64(p + 16);
  const std::uint64_t bloom_size = DecodeFixed64(p + 24);
  record_count_ = DecodeFixed64(p + 32);
  expiring_records_ = DecodeFixed64(p + 40);
  earliest_expiry_ms_ = static_cast<std::int64_t>(DecodeFixed64(p + 48));
  if (index_size % kSegmentIndexEntrySize != 0) return Status::Corruption("bad index: " + path_);

  std::string index;
  s = ReadChecked(fd_.get(), path_, index_offset, index_size, file_size_, "index", &index);
  if (!s.ok()) return s;
  for (std::size_t off = 0; off < index.size(); off += kSegmentIndexEntrySize) {
    BlockHandle h{DecodeFixed64(&index[off]), DecodeFixed64(&index[off + 8]),
                  DecodeFixed32(&index[off + 16])};
    if (h.offset > index_offset || h.size + 4 > index_offset - h.offset) {
      return Status::Corruption("block out of bounds in " + path_);
    }
    index_.push_back(h);
  }
  std::string bloom;
  s = ReadChecked(fd_.get(), path_, bloom_offset, bloom_size, file_size_, "bloom filter", &bloom);
  if (!s.ok()) return s;
  bloom_ = BloomFilter(std::move(bloom));
  return Status::Ok();
}

Status SegmentReader::ReadBlock(std::size_t i, std::string* out) const {
  return ReadChecked(fd_.get(), path_, index_[i].offset, index_[i].size, file_size_, "block", out);
}

std::size_t SegmentReader::FirstBlockFor(std::uint64_t hash) const {
  auto it =
      std::lower_bound(index_.begin(), index_.end(), hash,
                       [](const BlockHandle& b, std::uint64_t h) { return b.first_hash < h; });
  return it == index_.begin() ? 0 : static_cast<std::size_t>(it - index_.begin()) - 1;
}

Status SegmentReader::Get(std::uint64_t hash, std::string_view key, std::uint32_t ns,
                          SegmentRecord* rec, std::string* buf, bool* found) const {
  *found = false;
  for (std::size_t b = FirstBlockFor(hash); b < index_.size() && index_[b].first_hash <= hash;
       ++b) {
    Status s = ReadBlock(b, buf);
    if (!s.ok()) return s;
    std::string_view in(*buf);
    while (!in.empty()) {
      if (!DecodeSegmentRecord(&in, rec)) return Status::Corruption("bad record in " + path_);
      if (rec->hash > hash) return Status::Ok();
      if (rec->hash == hash && rec->key == key && rec->ns == ns) {
        *found = true;
        return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

SegmentIterator::SegmentIterator(std::shared_ptr<const SegmentReader> segment)
    : segment_(std::move(segment)) {}

bool SegmentIterator::LoadBlock(std::size_t i) {
  block_ = i;
  if (i >= segment_->block_count()) {
    rest_ = {};
    return false;
  }
  status_ = segment_->ReadBlock(i, &data_);
  rest_ = status_.ok() ? std::string_view(data_) : std::string_view();
  return status_.ok();
}

void SegmentIterator::ParseNext() {
  while (rest_.empty()) {
    if (!status_.ok() || !LoadBlock(block_ + 1)) {
      valid_ = false;
      return;
    }
  }
  valid_ = DecodeSegmentRecord(&rest_, &rec_);
  if (!valid_) status_ = Status::Corruption("bad record in " + segment_->path());
}

void SegmentIterator::SeekToFirst() {
  status_ = Status::Ok();
  valid_ = false;
  if (!LoadBlock(0)) return;
  ParseNext();
}

void SegmentIterator::Seek(std::uint64_t hash) {
  status_ = Status::Ok();
  valid_ = false;
  if (!LoadBlock(segment_->FirstBlockFor(hash))) return;
  ParseNext();
  while (valid_ && rec_.hash < hash) ParseNext();
}

void SegmentIterator::Next() {
  if (valid_) ParseNext();
}

}  // namespace dynakv::storage
