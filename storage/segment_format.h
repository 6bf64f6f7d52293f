// On-disk layout of an immutable segment file (seg-<seq>.sst). Records are sorted by
// (hash, key) and grouped into ~4 KB blocks:
//   data:   block* where block = record* checksum(block)
//   record: hash fixed64 | flags byte | expire_at_ms varint | key len varint |
//           stored len varint | raw len varint | key | stored value
//           (flags: tombstone 1, LZ4-compressed 2, object 4: a typed value's serialized form,
//           namespaced 8: the key is in namespace ns > 0, a varint right after the flags byte)
//   index:  (first hash fixed64 | offset fixed64 | size fixed32)* checksum(index)
//   bloom:  bloom filter over the record hashes, checksum(bloom)
//   footer: index offset | index size | bloom offset | bloom size | record count |
//           expiring count | earliest expiry (fixed64 each) | magic fixed64 |
//           checksum(footer so far)
// Checksums are crc.h's Checksum32, fixed32 each. Sizes in the index and footer exclude the
// trailing checksum. The expiring count is the number of values (not tombstones) with a TTL and
// the earliest expiry the smallest of their expiry times (0 when there are none): they let active
// expiry skip segments with nothing due, without reading them.
//
// Namespaces (numbered databases, engine.h) order after hash and key: (hash, key, ns). Records of
// namespace 0 have no ns field, so a segment written before namespaces reads as namespace 0 and
// one with only namespace 0 is what that code wrote (the magic stays SEG3; that code refuses a
// namespaced record as malformed, never misreads it). The hash of a key in namespace n is
// HashKey(key, n) (engine.h).
//
// Format history (the magic tells them apart): SEG1 and SEG2 used zlib CRC-32 checksums (SEG1
// had no TTL fields in the footer). They are recognised and refused with a clear error, never
// read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::storage {

inline constexpr std::size_t kSegmentBlockSize = 4096;
inline constexpr std::size_t kSegmentIndexEntrySize = 20;
inline constexpr std::size_t kSegmentFooterSize = 8 * 8 + 4;
inline constexpr std::uint64_t kSegmentMagic = 0x33474553564b4464ull;  // "dDKVSEG3"
// Earlier formats, only to name them in the error.
inline constexpr std::uint64_t kSegmentMagicV1 = 0x31474553564b4464ull;  // "dDKVSEG1"
inline constexpr std::uint64_t kSegmentMagicV2 = 0x32474553564b4464ull;  // "dDKVSEG2"

struct SegmentRecord {
  // kObject: the stored bytes are a ValueObject's serialized form (storage/object.h), not a
  // string.
  enum Flag : std::uint8_t { kTombstone = 1, kCompressed = 2, kObject = 4, kNamespaced = 8 };

  std::uint64_t hash = 0;
  std::uint8_t flags = 0;
  std::int64_t expire_at_ms = 0;
  std::string_view key;
  std::string_view stored;
  std::uint32_t raw_len = 0;
  std::uint32_t ns = 0;  // the key's namespace; AppendSegmentRecord sets kNamespaced from it

  bool tombstone() const { return (flags & kTombstone) != 0; }
  bool compressed() const { return (flags & kCompressed) != 0; }
  bool object() const { return (flags & kObject) != 0; }
};

void AppendSegmentRecord(std::string* dst, const SegmentRecord& rec);
// Parses one record from the front of *in. False when the bytes are malformed.
bool DecodeSegmentRecord(std::string_view* in, SegmentRecord* rec);

// Orders records the way segments store them.
inline bool RecordLess(std::uint64_t ha, std::string_view ka, std::uint32_t na, std::uint64_t hb,
                       std::string_view kb, std::uint32_t nb) {
  if (ha != hb) return ha < hb;
  if (ka != kb) return ka < kb;
  return na < nb;
}
// Namespace 0 only (tools and tests that know of no other).
inline bool RecordLess(std::uint64_t ha, std::string_view ka, std::uint64_t hb,
                       std::string_view kb) {
  return RecordLess(ha, ka, 0, hb, kb, 0);
}
inline bool RecordLess(const SegmentRecord& a, const SegmentRecord& b) {
  return RecordLess(a.hash, a.key, a.ns, b.hash, b.key, b.ns);
}
// The same key in the same namespace: versions of one another.
inline bool SameKey(const SegmentRecord& a, const SegmentRecord& b) {
  return a.hash == b.hash && a.ns == b.ns && a.key == b.key;
}

}  // namespace dynakv::storage
