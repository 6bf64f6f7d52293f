#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bloom.h"
#include "coding.h"
#include "crc.h"
#include "file_util.h"
#include "manifest.h"
#include "segment_reader.h"
#include "segment_writer.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

namespace {

struct Item {
  std::uint64_t hash;
  std::string key;
  std::string value;
  bool tombstone;
  std::int64_t expire;
};

std::vector<Item> MakeItems(int n) {
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) {
    const std::string key = "seg-key-" + std::to_string(i);
    // Every 100th value is bigger than a block.
    std::string value = i % 100 == 0 ? testing::RandomBytes(10000, i) : "v" + std::to_string(i);
    items.push_back({HashKey(key), key, value, i % 17 == 0, i % 5 == 0 ? 1000 + i : 0});
    if (items.back().tombstone) items.back().value.clear();
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return RecordLess(a.hash, a.key, b.hash, b.key); });
  return items;
}

void WriteSegment(const std::string& path, const std::vector<Item>& items) {
  std::unique_ptr<SegmentWriter> w;
  REQUIRE(SegmentWriter::Create(path, &w).ok());
  for (const Item& it : items) {
    SegmentRecord rec;
    rec.hash = it.hash;
    rec.flags = it.tombstone ? SegmentRecord::kTombstone : 0;
    rec.expire_at_ms = it.expire;
    rec.key = it.key;
    rec.stored = it.value;
    rec.raw_len = static_cast<std::uint32_t>(it.value.size());
    REQUIRE(w->Add(rec).ok());
  }
  REQUIRE(w->Finish().ok());
}

void FlipByte(const std::string& path, off_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c;
  REQUIRE(::pread(fd, &c, 1, offset) == 1);
  c = static_cast<char>(c ^ 0x10);
  REQUIRE(::pwrite(fd, &c, 1, offset) == 1);
  ::close(fd);
}

}  // namespace

TEST_CASE("segment: every record is found with its flags, expiry and value") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/seg-1.sst";
  const auto items = MakeItems(3000);
  WriteSegment(path, items);
  std::shared_ptr<SegmentReader> r;
  REQUIRE(SegmentReader::Open(path, 1, &r).ok());
  CHECK(r->record_count() == 3000);
  CHECK(r->block_count() > 30);
  std::string buf;
  for (const Item& it : items) {
    SegmentRecord rec;
    bool found = false;
    REQUIRE(r->MayContain(it.hash));
    REQUIRE(r->Get(it.hash, it.key, &rec, &buf, &found).ok());
    REQUIRE(found);
    CHECK(rec.tombstone() == it.tombstone);
    CHECK(rec.expire_at_ms == it.expire);
    CHECK(rec.stored == it.value);
  }
  SegmentRecord rec;
  bool found = true;
  REQUIRE(r->Get(HashKey("absent"), "absent", &rec, &buf, &found).ok());
  CHECK_FALSE(found);
}

TEST_CASE("segment: iterator walks in order and seeks by hash") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/seg-1.sst";
  const auto items = MakeItems(2000);
  WriteSegment(path, items);
  std::shared_ptr<SegmentReader> r;
  REQUIRE(SegmentReader::Open(path, 1, &r).ok());
  SegmentIterator it(r);
  std::size_t i = 0;
  for (it.SeekToFirst(); it.Valid(); it.Next(), ++i) {
    REQUIRE(i < items.size());
    CHECK(it.record().key == items[i].key);
  }
  CHECK(it.status().ok());
  CHECK(i == items.size());
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{777}, items.size() - 1}) {
    it.Seek(items[k].hash);
    REQUIRE(it.Valid());
    CHECK(it.record().key == items[k].key);
    it.Seek(items[k].hash + 1);  // just past: the following record
    if (k + 1 < items.size()) {
      REQUIRE(it.Valid());
      CHECK(it.record().key == items[k + 1].key);
    } else {
      CHECK_FALSE(it.Valid());
    }
  }
  it.Seek(0);
  REQUIRE(it.Valid());
  CHECK(it.record().key == items[0].key);
}

TEST_CASE("segment: bloom filter false-positive rate is near 1%") {
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 10000; ++i) hashes.push_back(HashKey("in" + std::to_string(i)));
  BloomFilter bloom(BuildBloomFilter(hashes));
  for (std::uint64_t h : hashes) REQUIRE(bloom.MayContain(h));
  int false_positives = 0;
  for (int i = 0; i < 100000; ++i)
    false_positives += bloom.MayContain(HashKey("out" + std::to_string(i)));
  CHECK(false_positives < 2500);  // 10 bits/key: about 1%
  CHECK(false_positives > 0);
}

TEST_CASE("segment: the footer records the values with a TTL") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/seg-1.sst";
  auto items = MakeItems(1000);
  SUBCASE("with TTLs") {
    WriteSegment(path, items);
    std::uint64_t expiring = 0;
    std::int64_t earliest = INT64_MAX;
    for (const Item& it : items) {
      if (it.tombstone || it.expire == 0) continue;
      ++expiring;
      earliest = std::min(earliest, it.expire);
    }
    REQUIRE(expiring > 0);
    std::shared_ptr<SegmentReader> r;
    REQUIRE(SegmentReader::Open(path, 1, &r).ok());
    CHECK(r->expiring_records() == expiring);
    CHECK(r->earliest_expiry_ms() == earliest);
  }
  SUBCASE("without TTLs") {
    for (Item& it : items) it.expire = 0;
    WriteSegment(path, items);
    std::shared_ptr<SegmentReader> r;
    REQUIRE(SegmentReader::Open(path, 1, &r).ok());
    CHECK(r->expiring_records() == 0);
  }
}

TEST_CASE("segment: files of the CRC-32 formats are refused by name, not misread") {
  for (const std::uint64_t old_magic : {kSegmentMagicV1, kSegmentMagicV2}) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/seg-1.sst";
    WriteSegment(path, MakeItems(200));
    std::string file;
    REQUIRE(ReadWholeFile(path, &file).ok());
    // The magic sits right before the footer's checksum.
    EncodeFixed64(file.data() + file.size() - 12, old_magic);
    REQUIRE(WriteFileAtomically(dir.path(), "seg-1.sst", file).ok());
    std::shared_ptr<SegmentReader> r;
    const Status s = SegmentReader::Open(path, 1, &r);
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK(s.message().find("older on-disk format") != std::string::npos);
  }
}

TEST_CASE("segment: damage is detected, not trusted") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/seg-1.sst";
  const auto items = MakeItems(500);
  WriteSegment(path, items);
  const auto size = static_cast<off_t>(std::filesystem::file_size(path));
  std::shared_ptr<SegmentReader> r;

  SUBCASE("a data block") {
    FlipByte(path, 10);
    REQUIRE(SegmentReader::Open(path, 1, &r).ok());
    SegmentIterator it(r);
    it.SeekToFirst();
    CHECK_FALSE(it.Valid());
    CHECK(it.status().code() == Status::Code::kCorruption);
  }
  SUBCASE("the footer") {
    FlipByte(path, size - 10);
    CHECK(SegmentReader::Open(path, 1, &r).code() == Status::Code::kCorruption);
  }
  SUBCASE("a truncated file") {
    std::filesystem::resize_file(path, static_cast<std::uintmax_t>(size / 2));
    CHECK_FALSE(SegmentReader::Open(path, 1, &r).ok());
  }
}

TEST_CASE("manifest: round trip and corruption") {
  testing::TempDir dir;
  Manifest m;
  bool exists = true;
  REQUIRE(ReadManifest(dir.path(), &m, &exists).ok());
  CHECK_FALSE(exists);
  m.next_seq = 42;
  m.log_seq = 40;
  m.segments = {3, 9, 38};
  REQUIRE(WriteManifest(dir.path(), m).ok());
  Manifest back;
  REQUIRE(ReadManifest(dir.path(), &back, &exists).ok());
  CHECK(exists);
  CHECK(back.next_seq == 42);
  CHECK(back.log_seq == 40);
  CHECK(back.segments == m.segments);
  FlipByte(dir.path() + "/MANIFEST", 9);
  CHECK(ReadManifest(dir.path(), &back, &exists).code() == Status::Code::kCorruption);
}

}  // namespace dynakv::storage
