// A commit log damaged in the middle is reported, never silently cut; a torn tail still is.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "coding.h"
#include "commit_log.h"
#include "file_names.h"
#include "log_check.h"
#include "log_format.h"
#include "log_reader.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::RandomBytes;
using testing::TempDir;
using testing::TestOptions;

namespace {

constexpr int kRecords = 10000;

std::string Key(int i) { return "key" + std::to_string(i); }
std::string Value(int i) { return RandomBytes(60 + i % 90, static_cast<std::uint64_t>(i)); }

std::string ReadFile(const std::string& path) {
  std::string out(std::filesystem::file_size(path), '\0');
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, out.data(), out.size(), 0) == static_cast<ssize_t>(out.size()));
  ::close(fd);
  return out;
}

void WriteAt(const std::string& path, std::uint64_t off, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(off)) ==
          static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

void FlipBit(const std::string& path, std::uint64_t off) {
  std::string byte = ReadFile(path).substr(off, 1);
  byte[0] = static_cast<char>(byte[0] ^ 0x10);
  WriteAt(path, off, byte);
}

// The files of a data dir but its LOCK (which any open creates).
std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& ent : std::filesystem::directory_iterator(dir)) {
    if (ent.path().filename() != kLockName) names.insert(ent.path().filename().string());
  }
  return names;
}

// The start of the record that holds byte `off` of a healthy log.
std::uint64_t RecordStart(const std::string& path, std::uint64_t off) {
  std::unique_ptr<LogReader> reader;
  REQUIRE(LogReader::Open(path, &reader).ok());
  LogRecord rec;
  std::uint64_t start = reader->valid_bytes();
  while (reader->Next(&rec) && reader->valid_bytes() <= off) start = reader->valid_bytes();
  return start;
}

// An engine's data dir whose only log holds kRecords PUTs of Key(i) in order.
std::string WriteEngineLog(const std::string& dir, FakeClock* clock) {
  {
    auto e = OpenEngine(TestOptions(dir, clock));
    for (int i = 0; i < kRecords; ++i) REQUIRE(e->Put(Key(i), Value(i), 0).ok());
  }
  std::string log;
  for (const std::string& name : Names(dir)) {
    if (name.rfind("log-", 0) == 0 &&
        std::filesystem::file_size(dir + "/" + name) > kLogFileMagicSize) {
      log = dir + "/" + name;
    }
  }
  REQUIRE(!log.empty());
  return log;
}

LogRecord Put(const std::string& key, const std::string& value) {
  LogRecord rec;
  rec.type = LogRecordType::kPut;
  rec.key = key;
  rec.stored = value;
  rec.raw_len = static_cast<std::uint32_t>(value.size());
  return rec;
}

// Logs 1 and 2 as CommitLog writes them when a checkpoint rotates (no MANIFEST yet, so both
// are replayed): `first` PUTs of Key(0..) in log 1, `second` more in log 2.
void WriteTwoLogs(const std::string& dir, int first, int second) {
  std::unique_ptr<CommitLog> log;
  REQUIRE(CommitLog::Create(dir, 1, FsyncPolicy::kNo, &log).ok());
  for (int i = 0; i < first + second; ++i) {
    if (i == first) REQUIRE(log->Rotate(2).ok());
    const std::string key = Key(i), value = Value(i);
    log->Add(Put(key, value));
  }
}

void CheckKeys(Engine* e, int from, int to) {
  for (int i = from; i < to; ++i) {
    const auto v = GetString(e, Key(i));
    if (v != Value(i)) {
      CAPTURE(i);
      REQUIRE(v == Value(i));
    }
  }
}

}  // namespace

TEST_CASE("log shape: the lengths inside a payload must add up to the header's") {
  std::string rec;
  AppendLogRecord(&rec, Put("key", std::string(100, 'v')));
  const std::string payload = rec.substr(kLogHeaderSize);
  const auto len = static_cast<std::uint32_t>(payload.size());
  CHECK(LogPayloadShapeFits(LogRecordType::kPut, len, payload));
  CHECK(LogPayloadShapeFits(LogRecordType::kPut, len,
                            payload.substr(0, 10)));  // torn: no contradiction
  CHECK(LogPayloadShapeFits(LogRecordType::kPut, len, payload.substr(0, 2)));
  CHECK_FALSE(LogPayloadShapeFits(LogRecordType::kPut, len ^ 0x100, payload.substr(0, 10)));
  CHECK_FALSE(LogPayloadShapeFits(LogRecordType::kPut, len + 1, payload));
  CHECK_FALSE(LogPayloadShapeFits(LogRecordType::kDelete, len, payload));
  CHECK_FALSE(LogPayloadShapeFits(LogRecordType::kClear, 1, "x"));
  CHECK(LogPayloadShapeFits(LogRecordType::kClear, 0, ""));
}

TEST_CASE("log corruption: damage in the middle of a log fails Open and changes nothing") {
  TempDir dir;
  FakeClock clock;
  const std::string log = WriteEngineLog(dir.path(), &clock);
  const std::uint64_t size = std::filesystem::file_size(log);
  const std::uint64_t mid = size / 2;
  const std::uint64_t bad = RecordStart(log, mid);
  SUBCASE("one flipped bit at 50%") { FlipBit(log, mid); }
  SUBCASE("4 KB zeroed at 50%") { WriteAt(log, mid, std::string(4096, '\0')); }
  SUBCASE("a flipped bit in a record's length field") { FlipBit(log, bad + 6); }
  SUBCASE("a flipped bit in a record's type") { FlipBit(log, bad + 8); }
  const std::string damaged = ReadFile(log);
  const std::set<std::string> names = Names(dir.path());

  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(TestOptions(dir.path(), &clock), &engine);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kCorruption);
  CAPTURE(s.message());
  CHECK(s.message().find(log) != std::string::npos);
  CHECK(s.message().find("offset " + std::to_string(bad) + " of " + std::to_string(size)) !=
        std::string::npos);
  CHECK(s.message().find("valid records") != std::string::npos);
  CHECK(s.message().find("dynakv-check-log --fix") != std::string::npos);
  // Byte for byte the same, nothing deleted, nothing added (no new log, no checkpoint).
  CHECK(ReadFile(log) == damaged);
  CHECK(Names(dir.path()) == names);
  // And it stays refused: the second attempt sees the same thing.
  CHECK(Engine::Open(TestOptions(dir.path(), &clock), &engine).code() == Status::Code::kCorruption);
}

TEST_CASE("log corruption: damage in an older log fails Open, also when it is only torn") {
  TempDir dir;
  FakeClock clock;
  WriteTwoLogs(dir.path(), kRecords / 2, kRecords / 2);
  const std::string older = dir.path() + "/" + LogFileName(1);
  const std::uint64_t size = std::filesystem::file_size(older);
  std::uint64_t bad = 0;
  SUBCASE("a flipped bit in its middle") {
    bad = RecordStart(older, size / 2);
    FlipBit(older, size / 2);
  }
  SUBCASE("its last record cut short while the newer log has records") {
    bad = RecordStart(older, size - 1);
    std::filesystem::resize_file(older, size - 20);
  }
  const std::string damaged = ReadFile(older);
  const std::set<std::string> names = Names(dir.path());
  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(TestOptions(dir.path(), &clock), &engine);
  CAPTURE(s.message());
  REQUIRE(s.code() == Status::Code::kCorruption);
  CHECK(s.message().find(older + ": bad record at offset " + std::to_string(bad)) !=
        std::string::npos);
  CHECK(s.message().find("later logs hold " + std::to_string(kRecords / 2)) != std::string::npos);
  CHECK(ReadFile(older) == damaged);
  CHECK(Names(dir.path()) == names);
}

TEST_CASE("log corruption: an older log's torn tail is cut when no later log holds records") {
  TempDir dir;
  FakeClock clock;
  WriteTwoLogs(dir.path(), kRecords, 0);  // rotated right before the crash: log 2 is empty
  const std::string older = dir.path() + "/" + LogFileName(1);
  std::filesystem::resize_file(older, std::filesystem::file_size(older) - 20);
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Stats().truncated_log_bytes > 0);
  CHECK(e->KeyCount() == kRecords - 1);
  CheckKeys(e.get(), 0, kRecords - 1);
}

TEST_CASE("log corruption: a torn tail is cut and every earlier record survives") {
  TempDir dir;
  FakeClock clock;
  const std::string log = WriteEngineLog(dir.path(), &clock);
  const std::uint64_t size = std::filesystem::file_size(log);
  int intact = kRecords;  // records certain to survive
  SUBCASE("truncated in the middle of the last record") {
    std::filesystem::resize_file(log, size - Value(kRecords - 1).size() / 2);
    intact = kRecords - 1;
  }
  SUBCASE("4 KB of random garbage appended") { WriteAt(log, size, RandomBytes(4096, 99)); }
  SUBCASE("4 KB of zeros appended (preallocated or a lost write)") {
    std::filesystem::resize_file(log, size + 4096);
  }
  SUBCASE("the last 4 KB zeroed in place (a power loss before writeback)") {
    const std::uint64_t bad = RecordStart(log, size - 4096);
    WriteAt(log, size - 4096, std::string(4096, '\0'));
    LogCheck check;
    REQUIRE(CheckLogFile(log, &check).ok());
    REQUIRE(check.damage);
    CHECK(check.damage->offset == bad);
    intact = static_cast<int>(check.records);
  }
  SUBCASE("the last record, whose value holds valid records, cut after them") {
    // A user may store anything, log records included. Cut short by a crash, such a value must
    // not make the tail look like "valid records follow".
    std::string inner;
    for (int i = 0; i < 50; ++i) AppendLogRecord(&inner, Put("fake" + std::to_string(i), "x"));
    Options o = TestOptions(dir.path(), &clock);
    o.compression_threshold = SIZE_MAX;  // the value's bytes go to the log as they are
    {
      auto e = OpenEngine(o);
      REQUIRE(e->Put("holder", inner + RandomBytes(1000, 5), 0).ok());
      // The reopen checkpointed the first log away: the holder is the only record of this one.
    }
    std::string holder_log;
    for (const std::string& name : Names(dir.path())) {
      if (name.rfind("log-", 0) == 0) holder_log = dir.path() + "/" + name;
    }
    std::filesystem::resize_file(holder_log, std::filesystem::file_size(holder_log) - 500);
    LogCheck check;
    REQUIRE(CheckLogFile(holder_log, &check).ok());
    REQUIRE(check.damage);
    CHECK(check.damage->torn());
  }
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Stats().truncated_log_bytes > 0);
  CHECK(e->Stats().corrupt_logs_repaired == 0);
  CHECK_FALSE(e->Exists("fake0"));
  CheckKeys(e.get(), 0, intact);
}

TEST_CASE("log corruption: drop-and-repair cuts at the bad record and keeps the bytes") {
  TempDir dir;
  FakeClock clock;
  const std::string log = WriteEngineLog(dir.path(), &clock);
  const std::uint64_t size = std::filesystem::file_size(log);
  FlipBit(log, size / 2);
  const std::uint64_t bad = RecordStart(log, size / 2);
  const std::string damaged = ReadFile(log);
  LogCheck check;
  REQUIRE(CheckLogFile(log, &check).ok());
  REQUIRE(check.damage);
  const int before = static_cast<int>(check.records);

  Options o = TestOptions(dir.path(), &clock);
  o.log_corruption_policy = LogCorruptionPolicy::kDropAndRepair;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->LogRepairs().size() == 1);
    const LogRepair& repair = e->LogRepairs()[0];
    CHECK(repair.path == log);
    CHECK(repair.offset == bad);
    CHECK(repair.dropped_bytes == size - bad);
    CHECK(repair.dropped_records == kRecords - before - 1);
    CHECK(repair.kept_as == log + ".corrupt");
    CHECK(ReadFile(repair.kept_as) == damaged);
    CHECK(e->Stats().corrupt_logs_repaired == 1);
    CHECK(e->Stats().corrupt_log_bytes_dropped == size - bad);
    CHECK(e->KeyCount() == static_cast<std::uint64_t>(before));
    CheckKeys(e.get(), 0, before);
    CHECK_FALSE(e->Exists(Key(before)));
    REQUIRE(e->Put("after", "repair", 0).ok());
  }
  // The repaired directory opens cleanly, even under the default policy.
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->LogRepairs().empty());
  CHECK(e->KeyCount() == static_cast<std::uint64_t>(before) + 1);
  CHECK(ReadFile(log + ".corrupt") == damaged);
}

TEST_CASE("log check: a report names torn tails and corruption across the logs of a dir") {
  TempDir dir;
  WriteTwoLogs(dir.path(), 100, 100);
  std::vector<LogCheck> checks(2);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(CheckLogFile(dir.path() + "/" + LogFileName(i + 1), &checks[i]).ok());
  }
  ClassifyLogDamage(&checks);
  CHECK_FALSE(checks[0].damage);
  CHECK_FALSE(checks[1].damage);
  CHECK(checks[0].later_records == 100);

  const std::string newer = dir.path() + "/" + LogFileName(2);
  std::filesystem::resize_file(newer, std::filesystem::file_size(newer) - 3);
  REQUIRE(CheckLogFile(newer, &checks[1]).ok());
  ClassifyLogDamage(&checks);
  REQUIRE(checks[1].damage);
  CHECK_FALSE(checks[1].corrupt);
  CHECK(checks[1].records == 99);

  const std::string older = dir.path() + "/" + LogFileName(1);
  FlipBit(older, kLogFileMagicSize + 20);  // inside the first record
  REQUIRE(CheckLogFile(older, &checks[0]).ok());
  ClassifyLogDamage(&checks);
  REQUIRE(checks[0].damage);
  CHECK(checks[0].corrupt);
  CHECK(checks[0].damage->offset == kLogFileMagicSize);
  CHECK(checks[0].damage->records_before == 0);
  CHECK(checks[0].damage->records_after == 99);
  CHECK(DescribeLogDamage(checks[0]).find("99 valid records") != std::string::npos);
}

TEST_CASE("segment corruption: a damaged data block fails Open instead of hiding keys") {
  TempDir dir;
  FakeClock clock;
  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    for (int i = 0; i < 2000; ++i) REQUIRE(e->Put(Key(i), Value(i), 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  std::string segment;
  for (const std::string& name : Names(dir.path())) {
    if (name.rfind("seg-", 0) == 0) segment = dir.path() + "/" + name;
  }
  REQUIRE(!segment.empty());
  FlipBit(segment, std::filesystem::file_size(segment) / 3);  // in a data block
  const std::set<std::string> names = Names(dir.path());
  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(TestOptions(dir.path(), &clock), &engine);
  CAPTURE(s.message());
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK(s.message().find(segment) != std::string::npos);
  CHECK(Names(dir.path()) == names);
}

TEST_CASE("segment corruption: a block gone bad after Open fails the reads it hides, never silently") {
  TempDir dir;
  FakeClock clock;
  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    for (int i = 0; i < 2000; ++i) REQUIRE(e->Put(Key(i), Value(i), 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(TestOptions(dir.path(), &clock));  // values only in the segment now
  std::string segment;
  for (const std::string& name : Names(dir.path())) {
    if (name.rfind("seg-", 0) == 0) segment = dir.path() + "/" + name;
  }
  REQUIRE(!segment.empty());
  FlipBit(segment, std::filesystem::file_size(segment) / 3);
  int wrong = 0;
  int reported = 0;
  for (int i = 0; i < 2000; ++i) {
    const bool right = GetString(e.get(), Key(i)) == Value(i);
    wrong += !right;
    const Status error = e->TakeReadError();
    // Every wrong answer comes with the error that makes the caller fail the command.
    CHECK(right == error.ok());
    if (!error.ok()) {
      ++reported;
      // A write the failed lookup decided on is refused until the error is taken...
      CHECK_FALSE(e->Get(Key(i)));
      CHECK(e->Put(Key(i), "decided on a missing key", 0).code() == Status::Code::kCorruption);
      CHECK_FALSE(e->TakeReadError().ok());
      // ...after which a blind overwrite is the caller's choice.
      CHECK(e->Put(Key(i), "rewritten", 0).ok());
      CHECK(GetString(e.get(), Key(i)) == "rewritten");
    }
  }
  CHECK(wrong > 0);
  CHECK(reported == wrong);
  const EngineStats stats = e->Stats();
  CHECK(stats.segment_read_errors >= static_cast<std::uint64_t>(wrong));
  CHECK(stats.segment_read_error.find("Corruption") != std::string::npos);
  CHECK(stats.segment_read_error.find(segment) != std::string::npos);
}

TEST_CASE("log check: a damaged length in a record with a long key is corruption, not a tear") {
  // Its payload's length fields lie past the first 4 KB: the check must still read them to see
  // that the header's length (now running past the end of the file) is wrong.
  TempDir dir;
  const std::string path = dir.path() + "/" + LogFileName(1);
  std::string file(kLogFileMagicSize, '\0');
  EncodeFixed64(file.data(), kLogFileMagic);
  for (int i = 0; i < 10; ++i) AppendLogRecord(&file, Put(Key(i), Value(i)));
  const std::uint64_t big = file.size();
  AppendLogRecord(&file, Put(std::string(5000, 'k'), "v"));
  for (int i = 10; i < 20; ++i) AppendLogRecord(&file, Put(Key(i), Value(i)));
  std::ofstream(path, std::ios::binary) << file;
  FlipBit(path, big + 7);  // bit 30 of the length: past the end of the file
  std::vector<LogCheck> checks(1);
  REQUIRE(CheckLogFile(path, &checks[0]).ok());
  ClassifyLogDamage(&checks);
  REQUIRE(checks[0].damage);
  CHECK(checks[0].damage->offset == big);
  CHECK(checks[0].damage->records_after == 10);
  CHECK(checks[0].corrupt);
}

}  // namespace dynakv::storage
