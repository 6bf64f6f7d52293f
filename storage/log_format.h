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
// PATCH payload:  key, patch (length-prefixed): one or more pieces, each
//                   offset : varint | bytes (length-prefixed)
//                 written over a string value (Engine::PatchString: SETBIT, SETRANGE, BITFIELD,
//                 PFADD), which grows with zero bytes to hold every piece; a missing key is an
//                 empty string. So a change to a few bytes of a large value logs a few bytes.
// GROUP payload:  count (varint, >= 2), then `count` inner records, each
//                   type : 1 byte | payload length : varint | payload
//                 with the type bytes and payloads of the records here (kLogNamespaced ones and
//                 FLUSHDB/SWAPDB/MOVE included), never GROUP's. An atomic group (Engine::AtomicGroup: a transaction,
//                 a multi-key command such as LMOVE): one checksum covers all of it, so a crash
//                 keeps all of its writes or none (a group torn at the tail is cut as any torn
//                 record), and replay applies the inner records in order.
//
// Namespaces (numbered databases, engine.h). A key lives in a physical namespace; namespace 0 is
// what every log written before namespaces holds. A record of PUT, DELETE, EXPIRE or MUTATE for a
// key in namespace n > 0 has kLogNamespaced set in its type byte and its payload starts with n
// (varint); the rest is the plain payload. So a namespace-0 record is byte for byte what it was
// (the magic stays LOG2: a data directory only ever used with database 0 is still readable by the
// code from before namespaces, which refuses a namespaced record as a bad type, never misreads it).
// Three records change the mapping of logical databases to physical namespaces (or move a key):
// FLUSHDB payload: db (varint), the new namespace it maps to from now on (varint); the old one's
//                  keys are garbage (engine.h)
// SWAPDB payload:  db a (varint), db b (varint): their namespaces are exchanged
// MOVE payload:    source namespace (varint), destination namespace (varint), then a PUT payload:
//                  one record, so a crash never leaves the key in both databases or in neither
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
  kPatch = 7,
  // Numbered databases. Far from the others so that record types added meanwhile cannot clash.
  kFlushDb = 16,
  kSwapDb = 17,
  kMove = 18,
};

// Set in a record's type byte when the key is not in namespace 0 (see above).
inline constexpr std::uint8_t kLogNamespaced = 0x80;

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
  std::string_view patch;  // PATCH's pieces (ForEachPatchPiece walks them)
  // The key's physical namespace (PUT, DELETE, EXPIRE, MUTATE; MOVE's destination; FLUSHDB's new
  // namespace). 0 for every record of the logs from before namespaces.
  std::uint32_t ns = 0;
  std::uint32_t from_ns = 0;      // MOVE's source namespace
  std::uint32_t db = 0, db2 = 0;  // FLUSHDB's database; SWAPDB's two databases
  std::string_view group;         // GROUP's payload (ForEachGroupRecord walks it)
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
// Parses a payload whose CRC already matched (`type` as in the file: kLogNamespaced may be set,
// and rec->type is then the base type). False when it is malformed.
bool DecodeLogPayload(LogRecordType type, std::string_view payload, LogRecord* rec);

inline bool IsBaseLogRecordType(std::uint8_t type) {
  return (type >= 1 && type <= 7) || (type >= 16 && type <= 18);
}
// A type byte as it appears in a file: a base type, or a keyed one with kLogNamespaced.
inline bool IsLogRecordType(std::uint8_t type) {
  if ((type & kLogNamespaced) == 0) return IsBaseLogRecordType(type);
  const std::uint8_t base = type & static_cast<std::uint8_t>(~kLogNamespaced);
  return base >= 1 && base <= 7 && base != 4 && base != 6;  // CLEAR and GROUP name no key
}
// Whether the first bytes of a payload (`prefix`, all of it when prefix.size() == len) agree with
// a header that says `type` and `len`: the lengths a payload spells out must add up to exactly
// `len`. True when nothing in the prefix contradicts them. A record cut short by a crash passes
// (its header and the bytes that made it are genuine); a header whose length was damaged fails
// as soon as the length fields inside the payload are present.
bool LogPayloadShapeFits(LogRecordType type, std::uint32_t len, std::string_view prefix);

// Appends one piece of a PATCH's pieces to *dst.
void AppendPatchPiece(std::string* dst, std::uint64_t offset, std::string_view bytes);
// Calls fn(offset, bytes) for each piece of a PATCH, in order. False when `patch` is malformed or
// has no piece (fn may then have seen a prefix of it).
template <typename Fn>
bool ForEachPatchPiece(std::string_view patch, Fn&& fn);
// The length a value must have to hold every piece of a well-formed `patch`.
std::uint64_t PatchExtent(std::string_view patch);
bool NextPatchPiece(std::string_view* in, std::uint64_t* offset, std::string_view* bytes);

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

template <typename Fn>
bool ForEachPatchPiece(std::string_view patch, Fn&& fn) {
  if (patch.empty()) return false;
  while (!patch.empty()) {
    std::uint64_t offset = 0;
    std::string_view bytes;
    if (!NextPatchPiece(&patch, &offset, &bytes)) return false;
    fn(offset, bytes);
  }
  return true;
}

}  // namespace dynakv::storage
