// rdbSaveRio's layout for what this store holds (no functions, modules or streams).
#include "rdb/file_writer.h"

#include <cstdio>

#include "rdb/crc64.h"
#include "rdb/dump_payload.h"
#include "rdb/primitives.h"

namespace dynakv::rdb {

namespace {
constexpr std::size_t kFlushBytes = 1 << 20;
}  // namespace

bool RdbWriter::MaybeFlush(bool force) {
  if (!ok_) return false;
  if (buffer_.empty() || (!force && buffer_.size() < kFlushBytes)) return true;
  crc_ = Crc64(crc_, buffer_);
  ok_ = out_(buffer_);
  written_ += buffer_.size();
  buffer_.clear();
  return ok_;
}

bool RdbWriter::Aux(std::string_view name, std::string_view value) {
  buffer_.push_back(static_cast<char>(0xFA));
  PutString(&buffer_, name);
  PutString(&buffer_, value);
  return MaybeFlush(false);
}

bool RdbWriter::Begin(std::string_view redis_version, std::int64_t now_unix,
                      std::uint64_t used_memory) {
  char header[16];
  std::snprintf(header, sizeof header, "REDIS%04d", static_cast<int>(kRdbVersion));
  buffer_.append(header);
  return Aux("redis-ver", redis_version) && Aux("redis-bits", "64") &&
         Aux("ctime", std::to_string(now_unix)) && Aux("used-mem", std::to_string(used_memory)) &&
         Aux("aof-base", "0");
}

bool RdbWriter::SelectDb(std::uint64_t db, std::uint64_t keys, std::uint64_t expires) {
  buffer_.push_back(static_cast<char>(0xFE));
  PutLength(&buffer_, db);
  buffer_.push_back(static_cast<char>(0xFB));
  PutLength(&buffer_, keys);
  PutLength(&buffer_, expires);
  return MaybeFlush(false);
}

bool RdbWriter::Key(std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
  if (value.empty()) return ok_ = false;
  if (expire_at_ms != 0) {
    buffer_.push_back(static_cast<char>(0xFC));
    const auto ms = static_cast<std::uint64_t>(expire_at_ms);
    for (int i = 0; i < 8; ++i) buffer_.push_back(static_cast<char>((ms >> (8 * i)) & 0xff));
  }
  // The type byte first, then the key, then the value: as rdbSaveKeyValuePair orders them.
  buffer_.push_back(value.front());
  PutString(&buffer_, key);
  buffer_.append(value.substr(1));
  return MaybeFlush(false);
}

bool RdbWriter::Finish() {
  buffer_.push_back(static_cast<char>(0xFF));
  const std::uint64_t crc = Crc64(crc_, buffer_);
  for (int i = 0; i < 8; ++i) buffer_.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  crc_ = crc;
  // The checksum's own bytes are not in the checksum: write without updating crc_ again.
  if (!ok_) return false;
  ok_ = out_(buffer_);
  written_ += buffer_.size();
  buffer_.clear();
  return ok_;
}

}  // namespace dynakv::rdb
