// Read access to one segment file. The index and bloom filter live in memory; data blocks are
// read with pread, so one reader can serve the event loop and the compaction thread at once.
// Readers are shared_ptr-owned: a compaction that replaces a segment unlinks its file, while
// lookups and iterators still holding the reader keep reading the open descriptor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bloom.h"
#include "file_util.h"
#include "segment_format.h"
#include "storage/status.h"

namespace dynakv::storage {

class SegmentReader {
 public:
  struct BlockHandle {
    std::uint64_t first_hash;
    std::uint64_t offset;
    std::uint32_t size;
  };

  // Verifies footer, index and bloom filter; a damaged file is Corruption.
  static Status Open(const std::string& path, std::uint64_t seq,
                     std::shared_ptr<SegmentReader>* out);

  bool MayContain(std::uint64_t hash) const { return bloom_.MayContain(hash); }
  // Finds `key` of namespace `ns` (hash: HashKey(key, ns)). On success *found tells whether it is
  // there; *rec then points into *buf.
  Status Get(std::uint64_t hash, std::string_view key, std::uint32_t ns, SegmentRecord* rec,
             std::string* buf, bool* found) const;
  Status Get(std::uint64_t hash, std::string_view key, SegmentRecord* rec, std::string* buf,
             bool* found) const {
    return Get(hash, key, 0, rec, buf, found);
  }
  // Reads block i into *out and checks its CRC.
  Status ReadBlock(std::size_t i, std::string* out) const;
  // The block where records with hash >= `hash` may start: the last block whose first hash is
  // below it (an equal first hash may continue a run of equal hashes from the block before).
  std::size_t FirstBlockFor(std::uint64_t hash) const;

  std::size_t block_count() const { return index_.size(); }
  std::uint64_t seq() const { return seq_; }
  std::uint64_t file_size() const { return file_size_; }
  std::uint64_t record_count() const { return record_count_; }
  // Values with a TTL, and the earliest of their expiry times (meaningful when there are any).
  std::uint64_t expiring_records() const { return expiring_records_; }
  std::int64_t earliest_expiry_ms() const { return earliest_expiry_ms_; }
  const std::string& path() const { return path_; }

  SegmentReader(FileDescriptor fd, std::string path, std::uint64_t seq);

 private:
  Status Load();

  FileDescriptor fd_;
  std::string path_;
  std::uint64_t seq_;
  std::uint64_t file_size_ = 0;
  std::uint64_t record_count_ = 0;
  std::uint64_t expiring_records_ = 0;
  std::int64_t earliest_expiry_ms_ = 0;
  std::vector<BlockHandle> index_;
  BloomFilter bloom_;
};

// Walks a segment's records in (hash, key) order. Record views stay valid until Next/Seek.
class SegmentIterator {
 public:
  explicit SegmentIterator(std::shared_ptr<const SegmentReader> segment);

  void SeekToFirst();
  void Seek(std::uint64_t hash);  // first record with hash >= `hash`
  void Next();
  bool Valid() const { return valid_; }
  const SegmentRecord& record() const { return rec_; }
  // Not ok when a block could not be read or parsed; the iterator is then invalid.
  const Status& status() const { return status_; }

 private:
  bool LoadBlock(std::size_t i);
  // Parses the next record, loading following blocks as needed.
  void ParseNext();

  std::shared_ptr<const SegmentReader> segment_;
  std::size_t block_ = 0;
  std::string data_;
  std::string_view rest_;
  SegmentRecord rec_;
  bool valid_ = false;
  Status status_;
};

}  // namespace dynakv::storage
