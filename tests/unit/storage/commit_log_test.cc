#include "commit_log.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "file_names.h"
#include "log_reader.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

namespace {

struct Owned {
  LogRecordType type;
  std::string key, stored;
  std::uint32_t raw_len;
  bool compressed;
  std::int64_t expire;
};

std::vector<Owned> ReadAll(const std::string& path, std::uint64_t* valid, std::uint64_t* size) {
  std::unique_ptr<LogReader> reader;
  REQUIRE(LogReader::Open(path, &reader).ok());
  std::vector<Owned> out;
  LogRecord rec;
  while (reader->Next(&rec)) {
    out.push_back({rec.type, std::string(rec.key), std::string(rec.stored), rec.raw_len,
                   rec.compressed, rec.expire_at_ms});
  }
  *valid = reader->valid_bytes();
  *size = reader->file_size();
  return out;
}

void WriteSample(const std::string& dir, FsyncPolicy policy) {
  std::unique_ptr<CommitLog> log;
  REQUIRE(CommitLog::Create(dir, 3, policy, &log).ok());
  for (int i = 0; i < 100; ++i) {
    LogRecord rec;
    rec.type = LogRecordType::kPut;
    const std::string key = "key" + std::to_string(i);
    const std::string value(i, 'v');
    rec.key = key;
    rec.stored = value;
    rec.raw_len = static_cast<std::uint32_t>(value.size());
    rec.expire_at_ms = i % 3 == 0 ? 1000 + i : 0;
    log->Add(rec);
    if (i % 10 == 0) REQUIRE(log->Flush().ok());
  }
  LogRecord del;
  del.type = LogRecordType::kDelete;
  del.key = "key5";
  log->Add(del);
  LogRecord exp;
  exp.type = LogRecordType::kExpire;
  exp.key = "key6";
  exp.expire_at_ms = 77;
  log->Add(exp);
  LogRecord clear;
  clear.type = LogRecordType::kClear;
  log->Add(clear);
  CHECK(log->bytes() > 0);
  // The destructor writes what is still buffered.
}

}  // namespace

TEST_CASE("commit log: records written under every policy read back in order") {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    testing::TempDir dir;
    WriteSample(dir.path(), policy);
    std::uint64_t valid, size;
    const auto recs = ReadAll(dir.path() + "/" + LogFileName(3), &valid, &size);
    REQUIRE(recs.size() == 103);
    CHECK(valid == size);
    for (int i = 0; i < 100; ++i) {
      CHECK(recs[i].type == LogRecordType::kPut);
      CHECK(recs[i].key == "key" + std::to_string(i));
      CHECK(recs[i].stored == std::string(i, 'v'));
      CHECK(recs[i].raw_len == static_cast<std::uint32_t>(i));
      CHECK(recs[i].expire == (i % 3 == 0 ? 1000 + i : 0));
    }
    CHECK(recs[100].type == LogRecordType::kDelete);
    CHECK(recs[100].key == "key5");
    CHECK(recs[101].type == LogRecordType::kExpire);
    CHECK(recs[101].expire == 77);
    CHECK(recs[102].type == LogRecordType::kClear);
  }
}

TEST_CASE("commit log: a burst bigger than the buffer goes out in pieces, in order, whole") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/" + LogFileName(3);
  std::unique_ptr<CommitLog> log;
  REQUIRE(CommitLog::Create(dir.path(), 3, FsyncPolicy::kAlways, &log).ok());
  const std::uint64_t empty_size = std::filesystem::file_size(path);
  const std::string value(16 * 1024, 'v');
  constexpr int kRecords = 300;  // ~4.8 MB without a Flush, as one loop iteration's pipelines
  for (int i = 0; i < kRecords; ++i) {
    LogRecord rec;
    rec.type = LogRecordType::kPut;
    const std::string key = "big" + std::to_string(i);
    rec.key = key;
    rec.stored = value;
    rec.raw_len = static_cast<std::uint32_t>(value.size());
    log->Add(rec);
  }
  // Most of it already reached the file, the rest is buffered; bytes() counts both.
  const std::uint64_t on_disk = std::filesystem::file_size(path) - empty_size;
  CHECK(on_disk >= 3u << 20);
  CHECK(on_disk < log->bytes());
  REQUIRE(log->Flush().ok());
  CHECK(std::filesystem::file_size(path) - empty_size == log->bytes());
  // A Flush with nothing new is a no-op.
  REQUIRE(log->Flush().ok());
  std::uint64_t valid, size;
  const auto recs = ReadAll(path, &valid, &size);
  REQUIRE(recs.size() == kRecords);
  CHECK(valid == size);
  for (int i = 0; i < kRecords; ++i) {
    CHECK(recs[i].key == "big" + std::to_string(i));
    CHECK(recs[i].stored == value);
  }
}

TEST_CASE("commit log: reader stops at a torn or corrupt record") {
  testing::TempDir dir;
  WriteSample(dir.path(), FsyncPolicy::kNo);
  const std::string path = dir.path() + "/" + LogFileName(3);
  std::uint64_t valid, size;
  ReadAll(path, &valid, &size);

  SUBCASE("torn tail") {
    REQUIRE(::truncate(path.c_str(), static_cast<off_t>(size - 3)) == 0);
    const auto recs = ReadAll(path, &valid, &size);
    CHECK(recs.size() == 102);
    CHECK(valid < size);
  }
  SUBCASE("flipped byte in the middle") {
    const int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    char c;
    REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(size / 2)) == 1);
    c = static_cast<char>(c ^ 0x40);
    REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(size / 2)) == 1);
    ::close(fd);
    const auto recs = ReadAll(path, &valid, &size);
    CHECK(recs.size() < 100);
    CHECK(recs.size() > 10);
    CHECK(valid < size / 2 + 1);
  }
  SUBCASE("garbage length") {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    const char junk[9] = {0, 0, 0, 0, '\xff', '\xff', '\xff', '\x7f', 1};
    REQUIRE(::write(fd, junk, sizeof junk) == 9);
    ::close(fd);
    const auto recs = ReadAll(path, &valid, &size);
    CHECK(recs.size() == 103);
    CHECK(size - valid == 9);
  }
}

TEST_CASE("commit log: rotation continues in a new file") {
  testing::TempDir dir;
  {
    std::unique_ptr<CommitLog> log;
    REQUIRE(CommitLog::Create(dir.path(), 1, FsyncPolicy::kEverySec, &log).ok());
    LogRecord rec;
    rec.type = LogRecordType::kDelete;
    rec.key = "a";
    log->Add(rec);
    REQUIRE(log->Rotate(2).ok());
    CHECK(log->seq() == 2);
    CHECK(log->bytes() == 0);
    rec.key = "b";
    log->Add(rec);
  }
  std::uint64_t valid, size;
  auto first = ReadAll(dir.path() + "/" + LogFileName(1), &valid, &size);
  auto second = ReadAll(dir.path() + "/" + LogFileName(2), &valid, &size);
  REQUIRE(first.size() == 1);
  REQUIRE(second.size() == 1);
  CHECK(first[0].key == "a");
  CHECK(second[0].key == "b");
}

TEST_CASE("commit log: a file without this format's magic is refused, a torn magic is empty") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/" + LogFileName(7);
  std::unique_ptr<LogReader> reader;
  auto write_file = [&](const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  };
  SUBCASE("a log of the first format: records from byte 0, CRC-32") {
    // A first-format DELETE of "a": crc32, length 2, type 2, key "a" (length-prefixed).
    write_file(std::string("\x12\x34\x56\x78\x02\x00\x00\x00\x02\x01" "a", 11));
    const Status s = LogReader::Open(path, &reader);
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK(s.message().find("not a commit log of this format") != std::string::npos);
    // The engine refuses the directory rather than truncating the log as a corrupt tail.
    std::unique_ptr<Engine> engine;
    testing::FakeClock clock;
    const Status open = Engine::Open(testing::TestOptions(dir.path(), &clock), &engine);
    CHECK_FALSE(open.ok());
    CHECK(open.message().find("not a commit log of this format") != std::string::npos);
    CHECK(std::filesystem::file_size(path) == 11);
  }
  SUBCASE("a creation torn before its magic was written") {
    // Nothing, part of the magic, or a size that reached the disk before the data.
    for (const std::string& torn : {std::string(), std::string("dDKV"), std::string(8, '\0')}) {
      write_file(torn);
      REQUIRE(LogReader::Open(path, &reader).ok());
      LogRecord rec;
      CHECK_FALSE(reader->Next(&rec));
      CHECK(reader->valid_bytes() == 0);
    }
  }
}

}  // namespace dynakv::storage
