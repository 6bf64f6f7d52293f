// String patches (Engine::PatchString): the PATCH record's format, what a patch does to a value,
// and recovery replaying patches onto values in the memtable, in segments (checkpointed or
// offloaded), frozen by a running checkpoint, in other databases and in atomic groups.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "log_format.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

// The model of a patch.
void Patch(std::string* value, std::uint64_t offset, std::string_view bytes) {
  ApplyBytePatches(value, {BytePatch{offset, bytes}});
}

}  // namespace

TEST_CASE("patch record: encoded, decoded and shape-checked like any record") {
  std::string pieces;
  AppendPatchPiece(&pieces, 5, "abc");
  AppendPatchPiece(&pieces, 1000000, "");
  LogRecord rec;
  rec.type = LogRecordType::kPatch;
  rec.key = "bitmap";
  rec.patch = pieces;
  for (std::uint32_t ns : {0u, 7u}) {
    CAPTURE(ns);
    rec.ns = ns;
    std::string file;
    AppendLogRecord(&file, rec);
    const auto type = static_cast<std::uint8_t>(file[8]);
    CHECK(type == (7 | (ns != 0 ? kLogNamespaced : 0)));
    const std::string_view payload = std::string_view(file).substr(kLogHeaderSize);
    const auto len = static_cast<std::uint32_t>(payload.size());
    CHECK(LogPayloadShapeFits(static_cast<LogRecordType>(type), len, payload));
    CHECK(LogPayloadShapeFits(static_cast<LogRecordType>(type), len, payload.substr(0, 3)));
    CHECK_FALSE(LogPayloadShapeFits(static_cast<LogRecordType>(type), len + 1, payload));
    LogRecord back;
    REQUIRE(DecodeLogPayload(static_cast<LogRecordType>(type), payload, &back));
    CHECK(back.type == LogRecordType::kPatch);
    CHECK(back.key == "bitmap");
    CHECK(back.ns == ns);
    std::vector<std::pair<std::uint64_t, std::string>> seen;
    CHECK(ForEachPatchPiece(back.patch, [&](std::uint64_t offset, std::string_view bytes) {
      seen.emplace_back(offset, std::string(bytes));
    }));
    CHECK(seen == std::vector<std::pair<std::uint64_t, std::string>>{{5, "abc"}, {1000000, ""}});
    CHECK(PatchExtent(back.patch) == 1000000);
    // Cut pieces, no piece at all, a value past 4 GB: malformed.
    CHECK_FALSE(
        DecodeLogPayload(static_cast<LogRecordType>(type), payload.substr(0, len - 1), &back));
  }
  LogRecord empty = rec;
  empty.ns = 0;
  empty.patch = "";
  std::string file;
  AppendLogRecord(&file, empty);
  LogRecord back;
  CHECK_FALSE(DecodeLogPayload(LogRecordType::kPatch, std::string_view(file).substr(kLogHeaderSize),
                               &back));
  std::string huge;
  AppendPatchPiece(&huge, UINT32_MAX, "ab");
  empty.patch = huge;
  file.clear();
  AppendLogRecord(&file, empty);
  CHECK_FALSE(DecodeLogPayload(LogRecordType::kPatch, std::string_view(file).substr(kLogHeaderSize),
                               &back));
  // Inside a group.
  std::string members;
  AppendGroupMember(&members, rec);
  AppendGroupMember(&members, rec);
  std::string group;
  AppendLogGroup(&group, 2, members);
  REQUIRE(DecodeLogPayload(LogRecordType::kGroup, std::string_view(group).substr(kLogHeaderSize),
                           &back));
  int inner = 0;
  CHECK(ForEachGroupRecord(back.group, [&](const LogRecord& r) {
    inner += r.type == LogRecordType::kPatch && r.key == "bitmap" ? 1 : 0;
  }));
  CHECK(inner == 2);
}

TEST_CASE("patch: creates, grows with zeros, keeps the expiry, refuses a typed value") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  REQUIRE(e->PatchString("k", {{3, "xy"}}).ok());
  CHECK(GetString(e.get(), "k") == std::string("\0\0\0xy", 5));
  CHECK(e->GetExpireAt("k") == 0);
  REQUIRE(e->SetExpireAt("k", clock.now_ms + 5000));
  REQUIRE(e->PatchString("k", {{0, "a"}, {10, ""}, {4, "Z"}}).ok());
  CHECK(GetString(e.get(), "k") == std::string("a\0\0xZ\0\0\0\0\0", 10));
  CHECK(e->GetExpireAt("k") == clock.now_ms + 5000);
  CHECK(e->KeyCount() == 1);
  CHECK(e->PatchString("k", {}).code() == Status::Code::kInvalidArgument);
  CHECK(e->PatchString("k", {{UINT32_MAX, "a"}}).code() == Status::Code::kInvalidArgument);
  // An expired key is reaped first: the patch starts from an empty string.
  clock.now_ms += 6000;
  REQUIRE(e->PatchString("k", {{1, "q"}}).ok());
  CHECK(GetString(e.get(), "k") == std::string("\0q", 2));
  CHECK(e->GetExpireAt("k") == 0);
}

TEST_CASE("patch: a log of patches alone (no whole value) recovers the value") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 0;  // no checkpoint: recovery replays only patches
  std::string model;
  std::mt19937_64 rng(5);
  {
    auto e = OpenEngine(o);
    // A large, compressible value, patched first while compressed, then in place.
    REQUIRE(e->Put("big", std::string(1 << 20, 'a'), 0).ok());
    model.assign(1 << 20, 'a');
    const std::uint64_t before = e->Stats().log_bytes;
    for (int i = 0; i < 500; ++i) {
      const std::uint64_t at = rng() % (model.size() + 10);
      const std::string bytes = testing::RandomBytes(1 + rng() % 8, rng());
      REQUIRE(e->PatchString("big", {{at, bytes}}).ok());
      Patch(&model, at, bytes);
    }
    // 500 patches of at most 8 bytes: framing included, a few tens of bytes each.
    CHECK(e->Stats().log_bytes - before < 500 * 40);
    CHECK(GetString(e.get(), "big") == model);
  }
  auto e = OpenEngine(o);
  CHECK(GetString(e.get(), "big") == model);
}

TEST_CASE("patch: replayed onto checkpointed, offloaded and frozen values, in any database") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.max_memory = 256 * 1024;  // offload: values leave memory for segments
  o.log_checkpoint_bytes = 32 * 1024;
  std::map<std::pair<DbIndex, std::string>, std::string> model;
  std::mt19937_64 rng(9);
  auto random_patch = [&](Engine* e) {
    const DbIndex db = rng() % 3 == 0 ? 2 : 0;
    const std::string key = "v" + std::to_string(rng() % 40);
    std::string& value = model[{db, key}];
    const std::uint64_t at = rng() % 20000;
    const std::string bytes = testing::RandomBytes(1 + rng() % 16, rng());
    REQUIRE(e->PatchString(db, key, {{at, bytes}}).ok());
    Patch(&value, at, bytes);
  };
  auto check = [&](Engine* e) {
    for (const auto& [slot, value] : model) {
      CAPTURE(slot.first);
      CAPTURE(slot.second);
      auto v = e->Get(slot.first, slot.second);
      REQUIRE(v.has_value());
      CHECK(v->ToString() == value);
    }
  };
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 3000; ++i) random_patch(e.get());
    // Atomic groups of patches.
    for (int g = 0; g < 20; ++g) {
      Engine::AtomicGroup group(*e);
      random_patch(e.get());
      random_patch(e.get());
    }
    CHECK(e->Stats().checkpoints > 0);
    CHECK(e->Stats().offloaded_keys > 0);
    check(e.get());
  }
  {
    auto e = OpenEngine(o);
    check(e.get());
    for (int i = 0; i < 1000; ++i) random_patch(e.get());
    check(e.get());
  }
  auto e = OpenEngine(o);
  check(e.get());
}

TEST_CASE("patch: an entry frozen by a running checkpoint is patched without touching its bytes") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 64 * 1024;
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  o.background_checkpoint_hook = [&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return open; });
  };
  std::string model(100000, '\0');
  {
    auto e = OpenEngine(o);
    REQUIRE(e->PatchString("bitmap", {{99999, std::string(1, '\0')}}).ok());
    // Writes until a background checkpoint holds the bitmap frozen.
    for (int n = 0; !e->Stats().checkpoint_running; ++n) {
      REQUIRE(n < 10000);
      REQUIRE(e->Put("filler" + std::to_string(n), testing::RandomBytes(300, n), 0).ok());
    }
    for (int i = 0; i < 100; ++i) {
      const std::string b(1, static_cast<char>('a' + i % 26));
      REQUIRE(e->PatchString("bitmap", {{static_cast<std::uint64_t>(i * 997), b}}).ok());
      Patch(&model, i * 997, b);
    }
    CHECK(GetString(e.get(), "bitmap") == model);
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
    REQUIRE(e->Checkpoint().ok());
    CHECK(GetString(e.get(), "bitmap") == model);
  }
  auto e = OpenEngine(o);
  CHECK(GetString(e.get(), "bitmap") == model);
}

}  // namespace dynakv::storage
