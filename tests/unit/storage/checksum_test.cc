// The checksum every on-disk format relies on, and torn-write detection built on it.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "coding.h"
#include "commit_log.h"
#include "crc.h"
#include "file_names.h"
#include "file_util.h"
#include "log_reader.h"
#include "manifest.h"
#include "test_util.h"

namespace dynakv::storage {

TEST_CASE("checksum: every single-bit flip of a 16 KB value changes it") {
  std::string data = testing::RandomBytes(16384, 5);
  const std::uint32_t base = Checksum32(data);
  int unchanged = 0;
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
    unchanged += Checksum32(data) == base;
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
  }
  CHECK(unchanged == 0);
  CHECK(Checksum32(data) == base);
  // Length matters too, also when the bytes cut off are zeros.
  CHECK(Checksum32(data.data(), data.size() - 1) != base);
  std::string zeros(4096, '\0');
  CHECK(Checksum32(zeros.data(), 4095) != Checksum32(zeros));
}

TEST_CASE("checksum: a log record of a big value torn anywhere is dropped, the rest kept") {
  testing::TempDir dir;
  {
    std::unique_ptr<CommitLog> log;
    REQUIRE(CommitLog::Create(dir.path(), 1, FsyncPolicy::kNo, &log).ok());
    for (int i = 0; i < 3; ++i) {
      const std::string key = "k" + std::to_string(i);
      const std::string value = testing::RandomBytes(16384, i);
      LogRecord rec;
      rec.type = LogRecordType::kPut;
      rec.key = key;
      rec.stored = value;
      rec.raw_len = static_cast<std::uint32_t>(value.size());
      log->Add(rec);
    }
  }
  const std::string path = dir.path() + "/" + LogFileName(1);
  std::string full;
  REQUIRE(ReadWholeFile(path, &full).ok());
  const std::size_t record = (full.size() - kLogFileMagicSize) / 3;
  const std::size_t last = full.size() - record;
  auto read_back = [&](const std::string& bytes, std::uint64_t* valid) {
    REQUIRE(WriteFileAtomically(dir.path(), LogFileName(1), bytes).ok());
    std::unique_ptr<LogReader> reader;
    REQUIRE(LogReader::Open(path, &reader).ok());
    LogRecord rec;
    int n = 0;
    while (reader->Next(&rec)) {
      CHECK(rec.stored == testing::RandomBytes(16384, n));
      ++n;
    }
    *valid = reader->valid_bytes();
    return n;
  };
  std::uint64_t valid = 0;
  REQUIRE(read_back(full, &valid) == 3);
  CHECK(valid == full.size());
  // Every cut inside the last record (a prime stride visits all kinds of offsets).
  for (std::size_t cut = last; cut < full.size(); cut += 61) {
    CAPTURE(cut);
    REQUIRE(read_back(full.substr(0, cut), &valid) == 2);
    CHECK(valid == last);
  }
  // The tail's pages never written (zeros), or written with one flipped bit.
  for (std::size_t off : {last, last + 9, last + 4096, full.size() - 1}) {
    CAPTURE(off);
    std::string zeroed = full;
    std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(off), zeroed.end(), '\0');
    CHECK(read_back(zeroed, &valid) == 2);
    std::string flipped = full;
    flipped[off] = static_cast<char>(flipped[off] ^ 0x20);
    CHECK(read_back(flipped, &valid) == 2);
    CHECK(valid == last);
  }
}

TEST_CASE("checksum: a MANIFEST of the CRC-32 format is refused by name") {
  testing::TempDir dir;
  Manifest m;
  m.next_seq = 5;
  m.segments = {2, 3};
  REQUIRE(WriteManifest(dir.path(), m).ok());
  std::string data;
  REQUIRE(ReadWholeFile(dir.path() + "/MANIFEST", &data).ok());
  EncodeFixed64(data.data(), 0x314e414d564b4464ull);  // "dDKVMAN1"
  REQUIRE(WriteFileAtomically(dir.path(), "MANIFEST", data).ok());
  bool exists = false;
  const Status s = ReadManifest(dir.path(), &m, &exists);
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK(s.message().find("older on-disk format") != std::string::npos);
}

}  // namespace dynakv::storage
