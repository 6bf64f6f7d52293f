// Bulk loads (Engine::BeginBulkLoad / EndBulkLoad): puts without log records, made durable by
// the checkpoint that ends them; built objects handed over whole (PutObject's object form); the
// memtable presized by ReserveKeys. A load whose source is kept (BeginBulkLoad(true)) ends
// unsaved (EndBulkLoadUnsaved), and a crash before its checkpoint is durable has recovery reload
// the source under the later writes (Options::reload).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "memtable.h"
#include "storage/engine.h"
#include "storage/object.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::RandomBytes;
using testing::TempDir;
using testing::TestOptions;

namespace {

// A typed value holding one string. Serialized: 'B' | bytes.
class Blob final : public ValueObject {
 public:
  explicit Blob(std::string bytes) : bytes_(std::move(bytes)) {}
  std::size_t MemoryUsage() const override { return 32 + bytes_.size(); }
  void Serialize(std::string* out) const override {
    ++serialized;
    out->push_back('B');
    out->append(bytes_);
  }
  bool Empty() const override { return false; }
  const std::string& bytes() const { return bytes_; }
  void Append(std::string_view more) { bytes_.append(more); }
  static inline int serialized = 0;  // Serialize calls, all blobs together

 private:
  std::string bytes_;
};

class BlobCodec final : public ObjectCodec {
 public:
  std::unique_ptr<ValueObject> Decode(std::string_view in) const override {
    if (in.empty() || in.front() != 'B') return nullptr;
    ++decoded;
    return std::make_unique<Blob>(std::string(in.substr(1)));
  }
  // Appends the op's bytes to an existing blob (an in-place write); creates nothing.
  bool Apply(ValueObject* object, std::string_view op, std::int64_t*,
             std::unique_ptr<ValueObject>*) const override {
    auto* blob = dynamic_cast<Blob*>(object);
    if (blob == nullptr) return false;
    blob->Append(op);
    return true;
  }
  mutable int decoded = 0;
};

std::string BlobOf(Engine* e, std::string_view key) {
  auto v = e->Get(key);
  if (!v || v->object() == nullptr) return "(none)";
  return dynamic_cast<const Blob&>(*v->object()).bytes();
}

std::string Value(int i) { return "value-" + std::to_string(i) + "-" + RandomBytes(40, i); }

}  // namespace

TEST_CASE("bulk load: puts write no log record and survive a reopen once it ended") {
  TempDir dir;
  FakeClock clock;
  BlobCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("before", "logged", 0).ok());
    const std::uint64_t log_end = e->LogEnd();
    e->BeginBulkLoad();
    CHECK(e->bulk_loading());
    for (int i = 0; i < 1000; ++i) REQUIRE(e->Put("k" + std::to_string(i), Value(i), 0).ok());
    const int serialized = Blob::serialized;
    REQUIRE(e->PutObject(0, "blob", std::make_unique<Blob>("whole"), clock.now_ms + 60000).ok());
    // Handed over as it is: neither serialized (no log record) nor decoded.
    CHECK(Blob::serialized == serialized);
    CHECK(codec.decoded == 0);
    CHECK(e->LogEnd() == log_end);
    CHECK(e->KeyCount() == 1002);
    REQUIRE(e->EndBulkLoad().ok());
    CHECK_FALSE(e->bulk_loading());
    CHECK(e->Stats().checkpoints >= 1);
    // Writes after it are logged again.
    REQUIRE(e->Put("after", "logged", 0).ok());
    CHECK(e->LogEnd() > log_end);
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 1003);
  CHECK(GetString(e.get(), "before") == "logged");
  CHECK(GetString(e.get(), "after") == "logged");
  for (int i = 0; i < 1000; i += 37) CHECK(GetString(e.get(), "k" + std::to_string(i)) == Value(i));
  CHECK(BlobOf(e.get(), "blob") == "whole");
  CHECK(e->GetExpireAt("blob") == clock.now_ms + 60000);
}

TEST_CASE("bulk load: what was put before it ended is not in the log (the caller's to redo)") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("before", "logged", 0).ok());
    e->BeginBulkLoad();
    for (int i = 0; i < 100; ++i) REQUIRE(e->Put("k" + std::to_string(i), Value(i), 0).ok());
    // No EndBulkLoad: as after a crash, only the log and the segments are read back.
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 1);
  CHECK(GetString(e.get(), "before") == "logged");
  CHECK_FALSE(e->Exists("k0"));
}

TEST_CASE("bulk load: its puts count toward the log's checkpoint size, as their records would") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 64 << 10;
  {
    auto e = OpenEngine(o);
    e->BeginBulkLoad();
    const std::uint64_t log_end = e->LogEnd();
    // About 500 KB of puts: checkpoints of about 64 KB each, not one of everything at the end.
    for (int i = 0; i < 6000; ++i) REQUIRE(e->Put("k" + std::to_string(i), Value(i), 0).ok());
    CHECK(e->LogEnd() == log_end);
    REQUIRE(e->Checkpoint().ok());  // waits for the background one, if any, and installs it
    CHECK(e->Stats().checkpoints >= 3);
    for (int i = 6000; i < 6010; ++i) REQUIRE(e->Put("k" + std::to_string(i), Value(i), 0).ok());
    // No EndBulkLoad: what the checkpoints covered is on disk, the rest is lost.
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 6000);
  CHECK(GetString(e.get(), "k5999") == Value(5999));
  CHECK_FALSE(e->Exists("k6000"));
}

TEST_CASE("bulk load: new keys skip the filters of its own segments, never an older one's") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 64 << 10;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("old", "before the load", 0).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(o);  // "old" is only on disk now
  REQUIRE(e->Stats().segments == 1);
  e->BeginBulkLoad();
  for (int i = 0; i < 6000; ++i) REQUIRE(e->Put("k" + std::to_string(i), Value(i), 0).ok());
  REQUIRE(e->Checkpoint().ok());
  REQUIRE(e->Stats().segments >= 3);
  // A new key's lookup asks the older segment alone.
  EngineStats before = e->Stats();
  REQUIRE(e->Put("new", "x", 0).ok());
  EngineStats after = e->Stats();
  CHECK(after.bloom_skips + after.segment_reads - before.bloom_skips - before.segment_reads == 1);
  // A key of that segment is still found there: replaced, not counted twice.
  REQUIRE(e->Put("old", "replaced in the load", 0).ok());
  CHECK(e->KeyCount() == 6002);
  // Once an entry left the table (a delete of a key on disk is a tombstone; of one only in
  // memory, a removal), every segment is asked again.
  CHECK(e->Delete("new"));
  before = e->Stats();
  REQUIRE(e->Put("newer", "x", 0).ok());
  after = e->Stats();
  CHECK(after.bloom_skips + after.segment_reads - before.bloom_skips - before.segment_reads ==
        after.segments);
  REQUIRE(e->EndBulkLoad().ok());
  CHECK(GetString(e.get(), "old") == "replaced in the load");
  CHECK(e->KeyCount() == 6002);
}

TEST_CASE("PutObject of a built object: logged in its serialized form outside a bulk load") {
  TempDir dir;
  FakeClock clock;
  BlobCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  {
    auto e = OpenEngine(o);
    const std::uint64_t log_end = e->LogEnd();
    const int serialized = Blob::serialized;
    REQUIRE(e->PutObject(0, "blob", std::make_unique<Blob>("logged blob"), 0).ok());
    CHECK(Blob::serialized == serialized + 1);
    CHECK(codec.decoded == 0);
    CHECK(e->LogEnd() > log_end);
    CHECK(e->PutObject(0, "none", std::unique_ptr<ValueObject>(), 0).code() ==
          Status::Code::kInvalidArgument);
    CHECK(e->PutObject(0, "neg", std::make_unique<Blob>("x"), -5).code() ==
          Status::Code::kInvalidArgument);
  }
  auto e = OpenEngine(o);  // replays the log record
  CHECK(BlobOf(e.get(), "blob") == "logged blob");
  CHECK(e->KeyCount() == 1);
}

TEST_CASE("memtable: Reserve grows the bucket array once, never shrinks it") {
  Memtable table;
  table.Reserve(1000);
  const std::size_t buckets = table.bucket_count();
  CHECK(buckets >= 1000);
  CHECK(buckets < 2048);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "k" + std::to_string(i);
    table.Upsert(HashKey(key), key, "v", 1, Memtable::kDirty, 0);
  }
  CHECK(table.bucket_count() == buckets);  // no doubling on the way
  table.Reserve(10);
  CHECK(table.bucket_count() == buckets);
}

TEST_CASE("engine: ReserveKeys presizes the memtable, but not under maxmemory") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  auto e = OpenEngine(o);
  const std::uint64_t empty = e->Stats().memtable_bytes;
  e->ReserveKeys(100000);
  // The bucket array is part of what the memtable counts.
  CHECK(e->Stats().memtable_bytes >= empty + 100000 * sizeof(void*));
  e->SetMaxMemory(1 << 20);
  const std::uint64_t reserved = e->Stats().memtable_bytes;
  e->ReserveKeys(1000000);
  CHECK(e->Stats().memtable_bytes == reserved);
}

TEST_CASE("bulk load: an in-place write to an object its running checkpoint froze waits for it") {
  // A bulk load's checkpoint freezes objects without snapshots or a map of them (only whole
  // values are expected): a write that changes one in place anyway waits for the whole job, so
  // the job never reads an object being changed, and the change is kept.
  TempDir dir;
  FakeClock clock;
  BlobCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 16 << 10;
  o.background_checkpoint_hook = [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  };
  {
    auto e = OpenEngine(o);
    e->BeginBulkLoad();
    int n = 0;
    for (; !e->Stats().checkpoint_running; ++n) {
      REQUIRE(n < 10000);
      REQUIRE(e->PutObject(0, "b" + std::to_string(n), std::make_unique<Blob>(Value(n)), 0).ok());
    }
    REQUIRE(n > 1);
    const std::uint64_t installed = e->Stats().checkpoints;
    std::int64_t result = 0;
    REQUIRE(e->Mutate("b0", "+more", &result).ok());
    CHECK(e->Stats().checkpoints == installed + 1);  // it waited for the job and installed it
    CHECK(BlobOf(e.get(), "b0") == Value(0) + "+more");
    REQUIRE(e->EndBulkLoad().ok());
  }
  auto e = OpenEngine(o);
  CHECK(BlobOf(e.get(), "b0") == Value(0) + "+more");
  CHECK(BlobOf(e.get(), "b1") == Value(1));
}

namespace {

// The kept source of the tests below: `n` keys, every 5th a blob.
Status LoadSource(Engine& e, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string key = "k" + std::to_string(i);
    Status s = i % 5 == 4 ? e.PutObject(0, key, std::make_unique<Blob>(Value(i)), 0)
                          : e.Put(0, key, Value(i), 0);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The writes made after the load, and what the data holds once they are applied to it.
void WriteAfterLoad(Engine* e) {
  REQUIRE(e->Put("k0", "changed", 0).ok());
  CHECK(e->Delete("k1"));
  std::int64_t result = 0;
  REQUIRE(e->Mutate("k4", "+more", &result).ok());
  REQUIRE(e->Put("new", "after", 0).ok());
}
void CheckLoadAndWrites(Engine* e, int n) {
  // "before", the n loaded, k1 deleted, "new" added.
  CHECK(e->KeyCount() == static_cast<std::uint64_t>(n) + 1);
  CHECK(GetString(e, "k0") == "changed");
  CHECK_FALSE(e->Exists("k1"));
  CHECK(BlobOf(e, "k4") == Value(4) + "+more");
  CHECK(GetString(e, "new") == "after");
  for (int i = 2; i < n; i += 37) {
    CAPTURE(i);
    if (i % 5 == 4) {
      if (i != 4) CHECK(BlobOf(e, "k" + std::to_string(i)) == Value(i));
    } else {
      CHECK(GetString(e, "k" + std::to_string(i)) == Value(i));
    }
  }
}

}  // namespace

TEST_CASE("bulk load, source kept: no checkpoint of its own; a crash before its save reloads it") {
  TempDir dir;
  TempDir crashed;
  FakeClock clock;
  BlobCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 64 << 10;
  std::atomic<bool> hold{true};
  o.background_checkpoint_hook = [&hold] {
    while (hold.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  // About 500 KB: eight checkpoints' worth without the source kept; saved in pieces of 64 KB
  // after it (the crash comes while the first is held).
  const int n = 6000;
  std::uint64_t reload_before = 0;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("before", "logged", 0).ok());
    reload_before = e->BeginBulkLoad(/*source_kept=*/true);
    REQUIRE(LoadSource(*e, n).ok());
    e->Tick();
    CHECK(e->Stats().checkpoints == 0);
    CHECK_FALSE(e->Stats().checkpoint_running);
    e->EndBulkLoadUnsaved();
    CHECK_FALSE(e->bulk_loading());
    CHECK(e->Stats().checkpoint_running);  // started at once, held by the hook
    CHECK_FALSE(e->bulk_load_saved());
    WriteAfterLoad(e.get());
    REQUIRE(e->FlushLog().ok());
    // What a kill -9 now leaves: the files as they are, the checkpoint's segment not listed.
    std::filesystem::copy(dir.path(), crashed.path(),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    hold = false;
    for (int i = 0; i < 5000 && !e->bulk_load_saved(); ++i) {
      e->Tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CHECK(e->bulk_load_saved());
  }
  o.background_checkpoint_hook = nullptr;
  int reloads = 0;
  Options ro = o;
  ro.reload_before_log = reload_before;
  ro.reload = [&](Engine& e) {
    ++reloads;
    CHECK(e.bulk_loading());
    CHECK(GetString(&e, "before") == "logged");  // the logs before it are replayed first
    CHECK_FALSE(e.Exists("new"));                // the later ones after it
    return LoadSource(e, n);
  };
  SUBCASE("the crashed copy: the source is reloaded, then the writes after the load replayed") {
    ro.dir = crashed.path();
    {
      auto e = OpenEngine(ro);
      CHECK(reloads == 1);
      CHECK(e->bulk_load_saved());  // Open's checkpoint saved it
      CHECK(GetString(e.get(), "before") == "logged");
      CheckLoadAndWrites(e.get(), n);
    }
    o.dir = crashed.path();
    auto e = OpenEngine(o);  // saved: no reload needed any more
    CheckLoadAndWrites(e.get(), n);
  }
  SUBCASE("saved, then a checkpoint past the load's log: no reload (it would undo later writes)") {
    {
      auto e = OpenEngine(o);
      REQUIRE(e->Put("k0", "changed later", 0).ok());
      REQUIRE(e->Checkpoint().ok());
    }
    auto e = OpenEngine(ro);
    CHECK(reloads == 0);
    CHECK(GetString(e.get(), "k0") == "changed later");
    REQUIRE(e->Put("k0", "changed", 0).ok());
    CheckLoadAndWrites(e.get(), n);
  }
  SUBCASE("a reload that fails fails the open") {
    ro.dir = crashed.path();
    ro.reload = [](Engine&) { return Status::Corruption("the source changed"); };
    std::unique_ptr<Engine> e;
    const Status s = Engine::Open(ro, &e);
    CHECK(s.code() == Status::Code::kCorruption);
  }
}

TEST_CASE("bulk load, source kept, ended with EndBulkLoad: saved before it returns") {
  TempDir dir;
  FakeClock clock;
  BlobCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  {
    auto e = OpenEngine(o);
    e->BeginBulkLoad(/*source_kept=*/true);
    REQUIRE(LoadSource(*e, 500).ok());
    REQUIRE(e->EndBulkLoad().ok());
    CHECK(e->bulk_load_saved());
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == 500);
  CHECK(BlobOf(e.get(), "k499") == Value(499));
}

}  // namespace dynakv::storage
