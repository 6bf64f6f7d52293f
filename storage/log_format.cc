#include "log_format.h"

#include <algorithm>

#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

namespace {

// A keyed record in a namespace other than 0 carries kLogNamespaced in its type byte.
bool Namespaced(const LogRecord& rec) {
  const bool keyed = rec.type != LogRecordType::kClear && rec.type != LogRecordType::kFlushDb &&
                     rec.type != LogRecordType::kSwapDb && rec.type != LogRecordType::kMove &&
                     rec.type != LogRecordType::kGroup;
  return keyed && rec.ns != 0;
}

std::uint8_t TypeByte(const LogRecord& rec) {
  return static_cast<std::uint8_t>(rec.type) | (Namespaced(rec) ? kLogNamespaced : 0);
}

void AppendPayload(std::string* dst, const LogRecord& rec) {
  if (Namespaced(rec)) PutVarint64(dst, rec.ns);
  auto put_body = [&] {
    PutLengthPrefixed(dst, rec.key);
    dst->push_back(static_cast<char>((rec.compressed ? 1 : 0) | (rec.object ? 2 : 0)));
    PutVarint64(dst, rec.raw_len);
    PutVarint64(dst, static_cast<std::uint64_t>(rec.expire_at_ms));
    PutLengthPrefixed(dst, rec.stored);
  };
  switch (rec.type) {
    case LogRecordType::kPut:
      put_body();
      break;
    case LogRecordType::kMove:
      PutVarint64(dst, rec.from_ns);
      PutVarint64(dst, rec.ns);
      put_body();
      break;
    case LogRecordType::kFlushDb:
      PutVarint64(dst, rec.db);
      PutVarint64(dst, rec.ns);
      break;
    case LogRecordType::kSwapDb:
      PutVarint64(dst, rec.db);
      PutVarint64(dst, rec.db2);
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
    case LogRecordType::kMutate:
      PutLengthPrefixed(dst, rec.key);
      PutLengthPrefixed(dst, rec.op);
      break;
    case LogRecordType::kPatch:
      PutLengthPrefixed(dst, rec.key);
      PutLengthPrefixed(dst, rec.patch);
      break;
    case LogRecordType::kGroup:
      dst->append(rec.group);
      break;
  }
}

// Fills in the header of the record that starts at `start` of *dst.
void SealRecord(std::string* dst, std::size_t start) {
  const std::size_t payload_len = dst->size() - start - kLogHeaderSize;
  char* header = dst->data() + start;
  EncodeFixed32(header + 4, static_cast<std::uint32_t>(payload_len));
  EncodeFixed32(header, Checksum32(header + 8, payload_len + 1));
}

}  // namespace

void AppendLogRecord(std::string* dst, const LogRecord& rec) {
  const std::size_t start = dst->size();
  dst->append(8, '\0');  // crc and length, filled in by SealRecord
  dst->push_back(static_cast<char>(TypeByte(rec)));
  AppendPayload(dst, rec);
  SealRecord(dst, start);
}

void AppendGroupMember(std::string* dst, const LogRecord& rec) {
  // The payload is written first and its length inserted before it: payloads are small except
  // a PUT's value, whose length is known up front.
  dst->push_back(static_cast<char>(TypeByte(rec)));
  std::string payload;
  AppendPayload(&payload, rec);
  PutVarint64(dst, payload.size());
  dst->append(payload);
}

void AppendLogGroup(std::string* dst, std::uint64_t count, std::string_view members) {
  const std::size_t start = dst->size();
  dst->append(8, '\0');
  dst->push_back(static_cast<char>(LogRecordType::kGroup));
  PutVarint64(dst, count);
  dst->append(members);
  SealRecord(dst, start);
}

void AppendPatchPiece(std::string* dst, std::uint64_t offset, std::string_view bytes) {
  PutVarint64(dst, offset);
  PutLengthPrefixed(dst, bytes);
}

bool NextPatchPiece(std::string_view* in, std::uint64_t* offset, std::string_view* bytes) {
  return GetVarint64(in, offset) && GetLengthPrefixed(in, bytes) && *offset <= UINT32_MAX;
}

std::uint64_t PatchExtent(std::string_view patch) {
  std::uint64_t end = 0;
  ForEachPatchPiece(patch, [&end](std::uint64_t offset, std::string_view bytes) {
    end = std::max<std::uint64_t>(end, offset + bytes.size());
  });
  return end;
}

bool GetGroupCount(std::string_view* in, std::uint64_t* count) {
  return GetVarint64(in, count) && *count >= 2;
}

bool NextGroupRecord(std::string_view* in, LogRecord* rec) {
  if (in->empty()) return false;
  const auto type = static_cast<std::uint8_t>(in->front());
  in->remove_prefix(1);
  std::uint64_t len = 0;
  if (!IsLogRecordType(type) || type == static_cast<std::uint8_t>(LogRecordType::kGroup) ||
      !GetVarint64(in, &len) || len > in->size()) {
    return false;
  }
  const std::string_view payload = in->substr(0, len);
  in->remove_prefix(len);
  return DecodeLogPayload(static_cast<LogRecordType>(type), payload, rec);
}

namespace {

bool DecodePutBody(std::string_view* payload, LogRecord* rec) {
  std::uint64_t v;
  if (!GetLengthPrefixed(payload, &rec->key) || payload->empty()) return false;
  const auto flags = static_cast<unsigned char>(payload->front());
  payload->remove_prefix(1);
  if (flags > 3) return false;
  rec->compressed = (flags & 1) != 0;
  rec->object = (flags & 2) != 0;
  if (!GetVarint32(payload, &rec->raw_len)) return false;
  if (!GetVarint64(payload, &v)) return false;
  rec->expire_at_ms = static_cast<std::int64_t>(v);
  if (!GetLengthPrefixed(payload, &rec->stored)) return false;
  return rec->compressed || rec->stored.size() == rec->raw_len;
}

}  // namespace

bool DecodeLogPayload(LogRecordType type, std::string_view payload, LogRecord* rec) {
  *rec = LogRecord{};
  const auto type_byte = static_cast<std::uint8_t>(type);
  if (!IsLogRecordType(type_byte)) return false;
  if ((type_byte & kLogNamespaced) != 0) {
    type = static_cast<LogRecordType>(type_byte & static_cast<std::uint8_t>(~kLogNamespaced));
    // A namespaced record names a namespace other than 0 (0 has the plain form).
    if (!GetVarint32(&payload, &rec->ns) || rec->ns == 0) return false;
  }
  rec->type = type;
  std::uint64_t v;
  switch (type) {
    case LogRecordType::kPut:
      if (!DecodePutBody(&payload, rec)) return false;
      break;
    case LogRecordType::kMove:
      if (!GetVarint32(&payload, &rec->from_ns) || !GetVarint32(&payload, &rec->ns)) return false;
      if (rec->from_ns == rec->ns || !DecodePutBody(&payload, rec)) return false;
      break;
    case LogRecordType::kFlushDb:
      if (!GetVarint32(&payload, &rec->db) || !GetVarint32(&payload, &rec->ns)) return false;
      break;
    case LogRecordType::kSwapDb:
      if (!GetVarint32(&payload, &rec->db) || !GetVarint32(&payload, &rec->db2)) return false;
      break;
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
    case LogRecordType::kMutate:
      if (!GetLengthPrefixed(&payload, &rec->key)) return false;
      if (!GetLengthPrefixed(&payload, &rec->op)) return false;
      break;
    case LogRecordType::kPatch:
      if (!GetLengthPrefixed(&payload, &rec->key)) return false;
      if (!GetLengthPrefixed(&payload, &rec->patch)) return false;
      if (!ForEachPatchPiece(rec->patch, [](std::uint64_t, std::string_view) {})) return false;
      // A value is at most 4 GB (UINT32_MAX bytes): a larger extent can only be corruption.
      if (PatchExtent(rec->patch) > UINT32_MAX) return false;
      break;
    case LogRecordType::kGroup:
      // Every inner record is checked here, so a group is applied whole or reported as bad.
      rec->group = payload;
      return ForEachGroupRecord(payload, [](const LogRecord&) {});
    default:
      return false;
  }
  return payload.empty();
}

namespace {

// Walks a payload prefix; a field that runs past the prefix of a partial payload is "unknown"
// rather than wrong.
class ShapeCursor {
 public:
  ShapeCursor(std::string_view prefix, std::uint32_t len)
      : in_(prefix), complete_(prefix.size() >= len) {}
  bool complete() const { return complete_; }
  std::size_t used(std::string_view start) const { return start.size() - in_.size(); }
  // 1: read, 0: runs past a partial prefix, -1: malformed.
  int Varint(std::uint64_t* v) {
    std::string_view copy = in_;
    if (GetVarint64(&copy, v)) {
      in_ = copy;
      return 1;
    }
    return !complete_ && in_.size() < 10 ? 0 : -1;
  }
  int Skip(std::uint64_t n) {
    if (in_.size() >= n) {
      in_.remove_prefix(n);
      return 1;
    }
    return complete_ ? -1 : 0;
  }
  int Byte(unsigned char* b) {
    if (in_.empty()) return complete_ ? -1 : 0;
    *b = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    return 1;
  }

 private:
  std::string_view in_;
  bool complete_;
};

}  // namespace

bool LogPayloadShapeFits(LogRecordType type, std::uint32_t len, std::string_view prefix) {
  if (prefix.size() > len) prefix = prefix.substr(0, len);
  const std::string_view start = prefix;
  ShapeCursor c(prefix, len);
  std::uint64_t key_len = 0, v = 0;
  int r;
  const auto type_byte = static_cast<std::uint8_t>(type);
  if (!IsLogRecordType(type_byte)) return false;
  if ((type_byte & kLogNamespaced) != 0) {
    type = static_cast<LogRecordType>(type_byte & static_cast<std::uint8_t>(~kLogNamespaced));
    if ((r = c.Varint(&v)) <= 0) return r == 0;
  }
  if (type == LogRecordType::kClear) return len == 0;
  if (type == LogRecordType::kGroup) {
    // The count, then each inner record's type and length, which must add up to `len`.
    std::uint64_t count = 0, inner_len = 0;
    if ((r = c.Varint(&count)) <= 0) return r == 0;
    if (count < 2 || count > len) return false;
    for (std::uint64_t i = 0; i < count; ++i) {
      unsigned char inner;
      if ((r = c.Byte(&inner)) <= 0) return r == 0;
      if (!IsLogRecordType(inner) || inner == static_cast<unsigned char>(LogRecordType::kGroup)) {
        return false;
      }
      if ((r = c.Varint(&inner_len)) <= 0) return r == 0;
      if (inner_len > len) return false;
      if ((r = c.Skip(inner_len)) <= 0) return r == 0;
    }
    return c.used(start) == len;
  }
  if (type == LogRecordType::kFlushDb || type == LogRecordType::kSwapDb) {
    if ((r = c.Varint(&v)) <= 0) return r == 0;
    if ((r = c.Varint(&v)) <= 0) return r == 0;
    return c.used(start) == len;
  }
  if (type == LogRecordType::kMove) {
    if ((r = c.Varint(&v)) <= 0) return r == 0;
    if ((r = c.Varint(&v)) <= 0) return r == 0;
    type = LogRecordType::kPut;  // the rest is a PUT payload
  }
  if ((r = c.Varint(&key_len)) <= 0) return r == 0;
  if (key_len > len) return false;
  if ((r = c.Skip(key_len)) <= 0) return r == 0;
  switch (type) {
    case LogRecordType::kDelete:
      return c.used(start) == len;
    case LogRecordType::kExpire:
      if ((r = c.Varint(&v)) <= 0) return r == 0;
      return c.used(start) == len;
    case LogRecordType::kPut: {
      unsigned char flags;
      std::uint64_t raw_len, stored_len;
      if ((r = c.Byte(&flags)) <= 0) return r == 0;
      if (flags > 3) return false;
      if ((r = c.Varint(&raw_len)) <= 0) return r == 0;
      if ((r = c.Varint(&v)) <= 0) return r == 0;
      if ((r = c.Varint(&stored_len)) <= 0) return r == 0;
      if ((flags & 1) == 0 && stored_len != raw_len) return false;
      return c.used(start) + stored_len == len;
    }
    case LogRecordType::kMutate:
    case LogRecordType::kPatch: {
      std::uint64_t op_len;
      if ((r = c.Varint(&op_len)) <= 0) return r == 0;
      return c.used(start) + op_len == len;
    }
    default:
      return false;
  }
}

}  // namespace dynakv::storage
