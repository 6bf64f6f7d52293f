#include "segment_format.h"

#include "coding.h"

namespace dynakv::storage {

void AppendSegmentRecord(std::string* dst, const SegmentRecord& rec) {
  PutFixed64(dst, rec.hash);
  const auto flags = static_cast<std::uint8_t>((rec.flags & ~SegmentRecord::kNamespaced) |
                                               (rec.ns != 0 ? SegmentRecord::kNamespaced : 0));
  dst->push_back(static_cast<char>(flags));
  if (rec.ns != 0) PutVarint64(dst, rec.ns);
  PutVarint64(dst, static_cast<std::uint64_t>(rec.expire_at_ms));
  PutVarint64(dst, rec.key.size());
  PutVarint64(dst, rec.stored.size());
  PutVarint64(dst, rec.raw_len);
  dst->append(rec.key);
  dst->append(rec.stored);
}

bool DecodeSegmentRecord(std::string_view* in, SegmentRecord* rec) {
  std::uint64_t expire;
  std::uint32_t key_len, stored_len;
  if (!GetFixed64(in, &rec->hash) || in->empty()) return false;
  rec->flags = static_cast<std::uint8_t>(in->front());
  in->remove_prefix(1);
  if ((rec->flags & ~(SegmentRecord::kTombstone | SegmentRecord::kCompressed |
                      SegmentRecord::kObject | SegmentRecord::kNamespaced)) != 0)
    return false;
  rec->ns = 0;
  if ((rec->flags & SegmentRecord::kNamespaced) != 0) {
    if (!GetVarint32(in, &rec->ns) || rec->ns == 0) return false;
    rec->flags = static_cast<std::uint8_t>(rec->flags & ~SegmentRecord::kNamespaced);
  }
  if (!GetVarint64(in, &expire) || !GetVarint32(in, &key_len) || !GetVarint32(in, &stored_len) ||
      !GetVarint32(in, &rec->raw_len)) {
    return false;
  }
  if (static_cast<std::uint64_t>(key_len) + stored_len > in->size()) return false;
  rec->expire_at_ms = static_cast<std::int64_t>(expire);
  rec->key = in->substr(0, key_len);
  rec->stored = in->substr(key_len, stored_len);
  in->remove_prefix(static_cast<std::size_t>(key_len) + stored_len);
  if (!rec->compressed() && rec->stored.size() != rec->raw_len) return false;
  return true;
}

}  // namespace dynakv::storage
