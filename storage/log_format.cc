#include "log_format.h"

#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

void AppendLogRecord(std::string* dst, const LogRecord& rec) {
  const std::size_t start = dst->size();
  dst->append(8, '\0');  // crc and length, filled in below
  dst->push_back(static_cast<char>(rec.type));
  switch (rec.type) {
    case LogRecordType::kPut:
      PutLengthPrefixed(dst, rec.key);
      dst->push_back(rec.compressed ? 1 : 0);
      PutVarint64(dst, rec.raw_len);
      PutVarint64(dst, static_cast<std::uint64_t>(rec.expire_at_ms));
      PutLengthPrefixed(dst, rec.stored);
      break;
    case LogRecordType::kDelete:
      PutLengthPrefixed(dst, rec.key);
      break;
    case LogRecordType::kExpire:
      PutLengthPrefixed(dst, rec.key);
      PutVarint64(dst, static_cast<std::uint64_t>(rec.expire_at_ms));
      break;
    case LogRecordType::kClear:
      break;
  }
  const std::size_t payload_len = dst->size() - start - kLogHeaderSize;
  char* header = dst->data() + start;
  EncodeFixed32(header + 4, static_cast<std::uint32_t>(payload_len));
  EncodeFixed32(header, Checksum32(header + 8, payload_len + 1));
}

bool DecodeLogPayload(LogRecordType type, std::string_view payload, LogRecord* rec) {
  *rec = LogRecord{};
  rec->type = type;
  std::uint64_t v;
  switch (type) {
    case LogRecordType::kPut: {
      if (!GetLengthPrefixed(&payload, &rec->key) || payload.empty()) return false;
      const auto flags = static_cast<unsigned char>(payload.front());
      payload.remove_prefix(1);
      if (flags > 1) return false;
      rec->compressed = flags == 1;
      if (!GetVarint32(&payload, &rec->raw_len)) return false;
      if (!GetVarint64(&payload, &v)) return false;
      rec->expire_at_ms = static_cast<std::int64_t>(v);
      if (!GetLengthPrefixed(&payload, &rec->stored)) return false;
      if (!rec->compressed && rec->stored.size() != rec->raw_len) return false;
      break;
    }
    case LogRecordType::kDelete:
      if (!GetLengthPrefixed(&payload, &rec->key)) return false;
      break;
    case LogRecordType::kExpire:
      if (!GetLengthPrefixed(&payload, &rec->key)) return false;
      if (!GetVarint64(&payload, &v)) return false;
      rec->expire_at_ms = static_cast<std::int64_t>(v);
      break;
    case LogRecordType::kClear:
      break;
    default:
      return false;
  }
  return payload.empty();
}

}  // namespace dynakv::storage
