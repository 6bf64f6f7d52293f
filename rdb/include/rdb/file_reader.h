// A streaming reader of Redis RDB files (rdb.c's rdbLoadRio), versions 1-10 as Redis 7.0 reads
// them: the "REDIS%04d" header, aux fields, SELECTDB, RESIZEDB, EXPIRETIME(_MS), IDLE, FREQ,
// MODULE_AUX, FUNCTION2, each key and its value (value.h decodes it), and EOF with the CRC-64 of
// everything before it.
//
// It is fed bytes in pieces of any size (a file read chunk by chunk, or a replication socket)
// and calls the sink for each complete item as soon as its bytes are all there, so a caller can
// bound the work per call by the bytes it feeds. Nothing is trusted: a malformed item, an
// unknown opcode, a version this reader does not know or a wrong checksum stops it with the byte
// offset (from the start of the file) of the item that failed and the reason. Keys whose type
// this store lacks (streams, module values) are skipped whole and reported to the sink.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rdb/value.h"
#include "types/value_type.h"

namespace dynakv::rdb {

// Redis 7.0 writes version 10 and reads 1-10; 7.2 writes 11 (new encodings) and is refused.
inline constexpr int kMaxRdbFileVersion = 10;

struct RdbKey {
  std::uint64_t db = 0;  // the last SELECTDB (0 before any)
  std::string key;
  DecodedValue value;
  std::int64_t expire_at_ms = 0;   // absolute unix ms, 0: none (may be in the past)
  std::int64_t idle_seconds = -1;  // IDLE, when the file has it
  int lfu_frequency = -1;          // FREQ, when the file has it
};

// What the reader found, item by item. Returning false from OnKey stops the reader with
// `reason` as the error (the sink refused the key: e.g. a write failed).
class RdbSink {
 public:
  virtual ~RdbSink() = default;
  virtual bool OnKey(RdbKey& key, std::string* reason) = 0;
  // A key of a type this store lacks, skipped: "stream" or "module".
  virtual void OnSkippedKey(std::uint64_t db, std::string_view key, std::string_view type) {
    (void)db, (void)key, (void)type;
  }
  virtual void OnAux(std::string_view name, std::string_view value) { (void)name, (void)value; }
  virtual void OnResizeDb(std::uint64_t db, std::uint64_t keys, std::uint64_t expires) {
    (void)db, (void)keys, (void)expires;
  }
  // A FUNCTION2 library's code (FUNCTION LOAD's argument). False: not loaded (counted skipped).
  virtual bool OnFunction(std::string_view code) {
    (void)code;
    return false;
  }
  // A MODULE_AUX record, skipped (no modules here).
  virtual void OnModuleAux(std::uint64_t module_id) { (void)module_id; }
};

struct RdbReadError {
  std::uint64_t offset = 0;  // of the item that failed, from the start of the file
  std::string reason;
};

class RdbReader {
 public:
  RdbReader(const types::TypeLimits& limits, RdbSink& sink) : limits_(limits), sink_(sink) {}
  RdbReader(const RdbReader&) = delete;
  RdbReader& operator=(const RdbReader&) = delete;

  // Takes the next bytes and reads every item they complete. False once the reader has failed
  // (error() says why); bytes after EOF's checksum are ignored (a replication stream's RDB is
  // followed by commands: TakeBytesAfterEof() returns them).
  bool Feed(std::string_view bytes);
  // The input ended: true only when EOF and its checksum were read.
  bool Finish();
  // Parses what is buffered now instead of waiting for Feed's next retry point (an incomplete
  // item is retried only once the buffer has doubled): for a stream whose caller knows by other
  // means that the file may have ended (a diskless replication payload's end mark). False once
  // the reader has failed.
  bool ParseBuffered();

  bool done() const { return done_; }
  bool failed() const { return !error_.reason.empty(); }
  const RdbReadError& error() const { return error_; }
  int version() const { return version_; }
  std::uint64_t bytes_read() const { return offset_; }  // consumed as complete items
  std::uint64_t keys() const { return keys_; }          // handed to OnKey and accepted
  std::uint64_t skipped_keys() const { return skipped_keys_; }
  std::uint64_t skipped_functions() const { return skipped_functions_; }
  std::uint64_t functions() const { return functions_; }
  // The bytes fed after the checksum, not read (a replication stream's commands); clears them.
  std::string TakeBytesAfterEof() { return std::move(after_eof_); }

 private:
  enum class Step { kDone, kNeedMore, kFailed };
  Step ParseOne(std::string_view* in);
  bool Fail(std::uint64_t offset, std::string reason);
  void Consume(std::size_t n);

  const types::TypeLimits limits_;
  RdbSink& sink_;
  std::string buffer_;        // unread bytes, from offset_
  std::size_t start_ = 0;     // first unread byte of buffer_
  std::size_t retry_at_ = 0;  // an incomplete item is retried once this many bytes are buffered
  std::uint64_t offset_ = 0;  // file offset of buffer_[start_]
  std::uint64_t crc_ = 0;     // of the bytes before offset_
  int version_ = 0;
  bool done_ = false;
  bool finishing_ = false;
  RdbReadError error_;
  // State the opcodes before a key set for it.
  std::uint64_t db_ = 0;
  std::int64_t expire_at_ms_ = 0;
  std::int64_t idle_seconds_ = -1;
  int lfu_frequency_ = -1;
  std::uint64_t keys_ = 0;
  std::uint64_t skipped_keys_ = 0;
  std::uint64_t functions_ = 0;
  std::uint64_t skipped_functions_ = 0;
  std::string after_eof_;
};

// Skips a value of a type this store does not hold (value.h's kUnsupported): a stream in any of
// its three forms, or a module value (type 7: its opcodes are self-describing; type 6 is not
// and fails). False when malformed or truncated.
bool SkipUnsupportedValue(ObjectType type, std::string_view* in);

}  // namespace dynakv::rdb
