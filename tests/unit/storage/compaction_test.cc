#include "compaction.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "merging_iterator.h"
#include "segment_writer.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

namespace {

struct Version {
  std::string value;
  bool tombstone = false;
  std::int64_t expire = 0;
};

std::shared_ptr<SegmentReader> Make(const std::string& dir, std::uint64_t seq,
                                    const std::map<std::string, Version>& data) {
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& [k, v] : data) order.emplace_back(HashKey(k), k);
  std::sort(order.begin(), order.end());
  const std::string path = dir + "/seg-" + std::to_string(seq) + ".sst";
  std::unique_ptr<SegmentWriter> w;
  REQUIRE(SegmentWriter::Create(path, &w).ok());
  for (const auto& [h, k] : order) {
    const Version& v = data.at(k);
    SegmentRecord rec;
    rec.hash = h;
    rec.key = k;
    rec.flags = v.tombstone ? SegmentRecord::kTombstone : 0;
    rec.expire_at_ms = v.expire;
    rec.stored = v.value;
    rec.raw_len = static_cast<std::uint32_t>(v.value.size());
    REQUIRE(w->Add(rec).ok());
  }
  REQUIRE(w->Finish().ok());
  std::shared_ptr<SegmentReader> r;
  REQUIRE(SegmentReader::Open(path, seq, &r).ok());
  return r;
}

std::map<std::string, Version> ReadAll(const std::shared_ptr<SegmentReader>& seg) {
  std::map<std::string, Version> out;
  if (!seg) return out;
  SegmentIterator it(seg);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    const SegmentRecord& r = it.record();
    out[std::string(r.key)] = {std::string(r.stored), r.tombstone(), r.expire_at_ms};
  }
  REQUIRE(it.status().ok());
  return out;
}

}  // namespace

TEST_CASE("compaction: picking a run of similar sizes") {
  std::size_t b = 0, e = 0;
  CHECK_FALSE(PickCompactionRun({100, 100, 100}, 4, &b, &e));
  CHECK(PickCompactionRun({100, 120, 90, 300}, 4, &b, &e));
  CHECK(b == 0);
  CHECK(e == 4);
  // A big old segment is left alone; the small new ones merge.
  CHECK(PickCompactionRun({100000, 100, 100, 100, 100}, 4, &b, &e));
  CHECK(b == 1);
  CHECK(e == 5);
  CHECK_FALSE(PickCompactionRun({1, 10, 100, 1000, 10000}, 2, &b, &e));
}

TEST_CASE("compaction: newest version wins; tombstones and expired values handled by position") {
  testing::TempDir dir;
  auto oldest = Make(dir.path(), 1, {{"a", {"a1"}}, {"b", {"b1"}}, {"c", {"c1"}}, {"d", {"d1"}}});
  auto middle = Make(dir.path(), 2, {{"a", {"a2"}}, {"b", {"", true}}, {"e", {"e2", false, 50}}});
  auto newest = Make(dir.path(), 3, {{"c", {"c3", false, 500}}, {"f", {"", true}}});
  std::atomic<bool> cancel{false};

  SUBCASE("run including the oldest segment drops tombstones and expired values") {
    CompactionJob job;
    job.inputs = {oldest, middle, newest};
    job.includes_oldest = true;
    job.now_ms = 100;
    job.output_seq = 4;
    job.output_path = dir.path() + "/seg-4.sst";
    CompactionResult r = RunCompaction(job, cancel);
    REQUIRE(r.status.ok());
    auto out = ReadAll(r.output);
    CHECK(out.size() == 3);
    CHECK(out["a"].value == "a2");
    CHECK(out["c"].value == "c3");
    CHECK(out["c"].expire == 500);
    CHECK(out["d"].value == "d1");
    CHECK(r.expired_keys == std::vector<std::string>{"e"});
  }
  SUBCASE("a newer run keeps tombstones and turns expired values into tombstones") {
    CompactionJob job;
    job.inputs = {middle, newest};
    job.includes_oldest = false;
    job.now_ms = 100;
    job.output_seq = 4;
    job.output_path = dir.path() + "/seg-4.sst";
    CompactionResult r = RunCompaction(job, cancel);
    REQUIRE(r.status.ok());
    auto out = ReadAll(r.output);
    CHECK(out.size() == 5);
    CHECK(out["b"].tombstone);
    CHECK(out["f"].tombstone);
    CHECK(out["e"].tombstone);
    CHECK(out["a"].value == "a2");
  }
  SUBCASE("everything dropped: no output file") {
    auto dead = Make(dir.path(), 5, {{"x", {"", true}}, {"y", {"y", false, 1}}});
    CompactionJob job;
    job.inputs = {dead};
    job.includes_oldest = true;
    job.now_ms = 100;
    job.output_seq = 6;
    job.output_path = dir.path() + "/seg-6.sst";
    CompactionResult r = RunCompaction(job, cancel);
    REQUIRE(r.status.ok());
    CHECK(r.output == nullptr);
    CHECK_FALSE(std::filesystem::exists(job.output_path));
  }
  SUBCASE("cancelled: fails and leaves no file") {
    cancel = true;
    CompactionJob job;
    job.inputs = {oldest, middle};
    job.output_seq = 7;
    job.output_path = dir.path() + "/seg-7.sst";
    CompactionResult r = RunCompaction(job, cancel);
    CHECK_FALSE(r.status.ok());
    CHECK_FALSE(std::filesystem::exists(job.output_path));
  }
}

TEST_CASE("merging iterator: each key once, from the newest segment") {
  testing::TempDir dir;
  std::vector<std::shared_ptr<SegmentReader>> segs;
  std::map<std::string, std::string> expect;
  for (int s = 0; s < 5; ++s) {
    std::map<std::string, Version> data;
    for (int i = s * 100; i < s * 100 + 400; ++i) {
      const std::string k = "m" + std::to_string(i);
      data[k] = {"s" + std::to_string(s)};
      expect[k] = "s" + std::to_string(s);
    }
    segs.push_back(Make(dir.path(), static_cast<std::uint64_t>(s + 1), data));
  }
  MergingIterator it(segs);
  std::map<std::string, std::string> got;
  std::vector<std::string> order;
  std::uint64_t prev = 0;
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    CHECK(it.record().hash >= prev);
    prev = it.record().hash;
    // source() names the segment the winning version comes from.
    CHECK(it.record().stored == "s" + std::to_string(it.source()));
    CHECK(got.emplace(std::string(it.record().key), std::string(it.record().stored)).second);
    order.emplace_back(it.record().key);
  }
  CHECK(it.status().ok());
  CHECK(got == expect);
  // Seek lands on the first key at or after a hash and goes on from there in merged order.
  for (std::size_t i : {std::size_t{0}, std::size_t{321}, order.size() - 1}) {
    it.Seek(HashKey(order[i]));
    for (std::size_t j = i; j < std::min(order.size(), i + 5); ++j) {
      REQUIRE(it.Valid());
      CHECK(it.record().key == order[j]);
      it.Next();
    }
  }
  it.Seek(HashKey(order.back()) + 1);
  CHECK_FALSE(it.Valid());
  CHECK(it.status().ok());
}

}  // namespace dynakv::storage
