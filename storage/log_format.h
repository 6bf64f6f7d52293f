// Commit log format, shared by the writer and the reader. A log file is an 8-byte magic followed
// by records:
//   checksum(type..payload) : fixed32 | payload length : fixed32 | type : 1 byte | payload
// (checksum: crc.h's Checksum32). Logs of the first format had no magic and CRC-32 checksums;
// they are refused with a clear error rather than read as a corrupt tail.
// PUT payload:    key (length-prefixed), flags byte (bit 0: compressed, bit 1: object, the
//                 stored bytes being a typed value's serialized form), raw length (varint),
//                 expire_at_ms (varint), stored value (length-prefixed)
// DELETE payload: key
// EXPIRE payload: key, expire_at_ms (varint; 0 = persist)
// CLEAR payload:  empty
// MUTATE payload: key, operation (length-prefixed; opaque, for ObjectCodec::Apply: one element's
//                 change to a typed value, never the whole value)
// GROUP payload:  count (varint, >= 2), then `count` inner records, each
//                   type : 1 byte (PUT..MUTATE, never GROUP) | payload length : varint | payload
//                 with the payloads above. An atomic group (Engine::AtomicGroup: a transaction,
//                 a multi-key command such as LMOVE): one checksum covers all of it, so a crash
//                 keeps all of its writes or none (a group torn at the tail is cut as any torn
//                 record), and replay applies the inner records in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::storage {

enum class LogRecordType : std::uint8_t {
  kPut = 1,
  kDelete = 2,
  kExpire = 3,
  kClear = 4,
  kMutate = 5,
  kGroup = 6,
};

inline constexpr std::size_t kLogFileMagicSize = 8;
inline constexpr std::uint64_t kLogFileMagic = 0x32474f4c564b4464ull;  // "dDKVLOG2"
inline constexpr std::size_t kLogHeaderSize = 9;                       // of each record
// Larger lengths can only come from corruption (values are capped far below this).
inline constexpr std::uint32_t kMaxLogPayload = 1u << 31;

// A decoded record; views point into the reader's buffer.
struct LogRecord {
  LogRecordType type = LogRecordType::kClear;
  std::string_view key;
  std::string_view stored;
  std::uint32_t raw_len = 0;
  bool compressed = false;
  std::int64_t expire_at_ms = 0;
  bool object = false;     // PUT of a typed value's serialized form
  std::string_view op;     // MUTATE's operation
  std::string_view group;  // GROUP's payload (ForEachGroupRecord walks it)
};

// Appends one complete record (header included) to *dst.
void AppendLogRecord(std::string* dst, const LogRecord& rec);
// Appends one inner record of a GROUP payload (type, payload length, payload) to *dst. `rec` is
// not a GROUP.
void AppendGroupMember(std::string* dst, const LogRecord& rec);
// Appends a complete GROUP record of `count` (>= 2) inner records `members` (AppendGroupMember's
// output, concatenated) to *dst.
void AppendLogGroup(std::string* dst, std::uint64_t count, std::string_view members);
// Calls fn(const LogRecord&) for each inner record of a GROUP payload, in order. False when the
// payload is malformed (then fn may have seen a prefix of it: callers validate first, as
// DecodeLogPayload does).
template <typename Fn>
bool ForEachGroupRecord(std::string_view group, Fn&& fn);
// Parses a payload whose CRC already matched. False when it is malformed.
bool DecodeLogPayload(LogRecordType type, std::string_view payload, LogRecord* rec);

inline bool IsLogRecordType(std::uint8_t type) { return type >= 1 && type <= 6; }
// Whether the first bytes of a payload (`prefix`, all of it when prefix.size() == len) agree with
// a header that says `type` and `len`: the lengths a payload spells out must add up to exactly
// `len`. True when nothing in the prefix contradicts them. A record cut short by a crash passes
// (its header and the bytes that made it are genuine); a header whose length was damaged fails
// as soon as the length fields inside the payload are present.
bool LogPayloadShapeFits(LogRecordType type, std::uint32_t len, std::string_view prefix);

// The count at the front of a GROUP payload, consumed.
bool GetGroupCount(std::string_view* in, std::uint64_t* count);
// One inner record of a GROUP payload at the front of *in, consumed; false when malformed.
bool NextGroupRecord(std::string_view* in, LogRecord* rec);

template <typename Fn>
bool ForEachGroupRecord(std::string_view group, Fn&& fn) {
  std::uint64_t count = 0;
  if (!GetGroupCount(&group, &count)) return false;
  for (std::uint64_t i = 0; i < count; ++i) {
    LogRecord rec;
    if (!NextGroupRecord(&group, &rec)) return false;
    fn(static_cast<const LogRecord&>(rec));
  }
  return group.empty();
}

}  // namespace dynakv::storage
