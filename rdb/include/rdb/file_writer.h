// Writes a Redis RDB file (version 10, as Redis 7.0's rdbSaveRio does): the header, aux fields,
// per database SELECTDB and RESIZEDB, each key with its expiry, and EOF with the CRC-64 of
// everything before it. The bytes go to `out` in pieces of about 1 MiB (a file or a socket), so
// a writer never holds the whole file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "rdb/value.h"

namespace dynakv::rdb {

class RdbWriter {
 public:
  // `out` takes the next bytes; false fails the writer (the caller knows why).
  using Output = std::function<bool(std::string_view)>;
  explicit RdbWriter(Output out) : out_(std::move(out)) {}

  // The header and Redis 7.0's aux fields (redis-ver, redis-bits, ctime, used-mem, aof-base).
  bool Begin(std::string_view redis_version, std::int64_t now_unix, std::uint64_t used_memory);
  bool SelectDb(std::uint64_t db, std::uint64_t keys, std::uint64_t expires);
  // `value` is EncodeString/EncodeObject's output (type byte and value); expire_at_ms 0: none.
  bool Key(std::string_view key, std::string_view value, std::int64_t expire_at_ms);
  // EOF and the checksum, then the last bytes to `out`.
  bool Finish();

  std::uint64_t bytes_written() const { return written_ + buffer_.size(); }

 private:
  bool Aux(std::string_view name, std::string_view value);
  bool MaybeFlush(bool force);

  Output out_;
  std::string buffer_;
  std::uint64_t crc_ = 0;
  std::uint64_t written_ = 0;
  bool ok_ = true;
};

}  // namespace dynakv::rdb
