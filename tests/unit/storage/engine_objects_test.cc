// Typed values through the engine's type-agnostic interface (storage/object.h), with a toy object
// of the test's own (a set of strings) so that storage is tested without the types library.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "log_format.h"
#include "memtable.h"
#include "storage/engine.h"
#include "storage/object.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

// Serialized: 'S' | (fixed32 length | bytes)*. Ops: '+' element | '-' element.
class ToySet;
// Called by ToySet::Serialize (on whichever thread serializes), when set.
using SerializeHook = std::function<void(const ToySet&)>;

// A snapshot of a ToySet: the form at the start, handed out by Serialize (after the hook).
class ToySnapshot final : public ObjectSnapshot {
 public:
  ToySnapshot(std::string form, const ToySet* set, const SerializeHook* hook)
      : form_(std::move(form)), set_(set), hook_(hook) {}
  void Serialize(std::string* out) override {
    if (hook_ != nullptr && *hook_) (*hook_)(*set_);
    out->append(form_);
  }

 private:
  const std::string form_;
  const ToySet* set_;
  const SerializeHook* hook_;
};

// Counts of a codec's ToySet snapshots (when it gives them snapshots).
struct SnapshotCounts {
  bool enabled = false;
  int started = 0;
  int ended = 0;
};

class ToySet final : public ValueObject {
 public:
  explicit ToySet(const SerializeHook* hook = nullptr, SnapshotCounts* snapshots = nullptr)
      : hook_(hook), snapshots_(snapshots) {}
  std::unique_ptr<ObjectSnapshot> StartSnapshot() override {
    if (snapshots_ == nullptr || !snapshots_->enabled) return nullptr;
    ++snapshots_->started;
    std::string form;
    const SerializeHook* none = nullptr;
    std::swap(none, hook_);
    Serialize(&form);
    std::swap(none, hook_);
    return std::make_unique<ToySnapshot>(std::move(form), this, hook_);
  }
  void EndSnapshot() override { ++snapshots_->ended; }
  std::size_t MemoryUsage() const override { return bytes_; }
  void Serialize(std::string* out) const override {
    if (hook_ != nullptr && *hook_) (*hook_)(*this);
    out->push_back('S');
    for (const std::string& m : members_) {
      const auto n = static_cast<std::uint32_t>(m.size());
      out->append(reinterpret_cast<const char*>(&n), 4);
      out->append(m);
    }
  }
  bool Empty() const override { return members_.empty(); }

  bool Add(std::string_view m) {
    if (!members_.emplace(m).second) return false;
    bytes_ += m.size() + 32;
    return true;
  }
  bool Remove(std::string_view m) {
    if (members_.erase(std::string(m)) == 0) return false;
    bytes_ -= m.size() + 32;
    return true;
  }
  const std::set<std::string>& members() const { return members_; }

 private:
  std::set<std::string> members_;
  std::size_t bytes_ = 64;
  const SerializeHook* hook_;
  SnapshotCounts* snapshots_;
};

class ToyCodec final : public ObjectCodec {
 public:
  std::unique_ptr<ValueObject> Decode(std::string_view in) const override {
    if (in.empty() || in.front() != 'S') return nullptr;
    in.remove_prefix(1);
    auto set = std::make_unique<ToySet>(&serialize_hook, &snapshots);
    while (!in.empty()) {
      std::uint32_t n;
      if (in.size() < 4) return nullptr;
      std::memcpy(&n, in.data(), 4);
      in.remove_prefix(4);
      if (n > in.size()) return nullptr;
      set->Add(in.substr(0, n));
      in.remove_prefix(n);
    }
    return set;
  }
  bool Apply(ValueObject* object, std::string_view op, std::int64_t* result,
             std::unique_ptr<ValueObject>* created) const override {
    if (op.empty() || (op.front() != '+' && op.front() != '-')) return false;
    ToySet* set = dynamic_cast<ToySet*>(object);
    if (object != nullptr && set == nullptr) return false;
    std::unique_ptr<ToySet> fresh;
    if (set == nullptr) {
      fresh = std::make_unique<ToySet>(&serialize_hook, &snapshots);
      set = fresh.get();
    }
    const std::string_view member = op.substr(1);
    *result = op.front() == '+' ? set->Add(member) : set->Remove(member);
    if (fresh) *created = std::move(fresh);
    return true;
  }
  bool ChangedNothing(std::string_view op, std::int64_t result) const override {
    return say_changed_nothing && result == 0;
  }
  bool say_changed_nothing = true;
  SerializeHook serialize_hook;
  mutable SnapshotCounts snapshots;
};

std::set<std::string> Members(Engine* e, std::string_view key) {
  auto v = e->Get(key);
  if (!v || v->object() == nullptr) return {};
  return dynamic_cast<const ToySet&>(*v->object()).members();
}

Status Add(Engine* e, std::string_view key, std::string_view member) {
  std::int64_t result = 0;
  return e->Mutate(key, "+" + std::string(member), &result);
}

std::string Member(int i) { return "member-" + std::to_string(i); }

}  // namespace

TEST_CASE("objects: mutate creates, changes in place, empties away; strings are refused") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  auto e = OpenEngine(o);
  std::int64_t result = -1;
  REQUIRE(e->Mutate("s", "+a", &result).ok());
  CHECK(result == 1);
  REQUIRE(e->Mutate("s", "+a", &result).ok());
  CHECK(result == 0);
  REQUIRE(Add(e.get(), "s", "b").ok());
  CHECK(Members(e.get(), "s") == std::set<std::string>{"a", "b"});
  CHECK(e->KeyCount() == 1);
  // A malformed op changes nothing and is not logged.
  const std::uint64_t before = e->LogEnd();
  CHECK(e->Mutate("s", "?x", &result).code() == Status::Code::kInvalidArgument);
  CHECK(e->LogEnd() == before);
  // A string key refuses element operations.
  REQUIRE(e->Put("str", "text", 0).ok());
  CHECK(e->Mutate("str", "+a", &result).code() == Status::Code::kInvalidArgument);
  CHECK(GetString(e.get(), "str") == "text");
  // Emptied: the key is gone.
  REQUIRE(e->Mutate("s", "-a", &result).ok());
  REQUIRE(e->Mutate("s", "-b", &result).ok());
  CHECK(result == 1);
  CHECK_FALSE(e->Exists("s"));
  CHECK(e->KeyCount() == 1);
  // A string put replaces an object.
  REQUIRE(Add(e.get(), "t", "x").ok());
  REQUIRE(e->Put("t", "now a string", 0).ok());
  CHECK(e->Get("t")->object() == nullptr);
  CHECK(GetString(e.get(), "t") == "now a string");
}

TEST_CASE("objects: an element write logs the element, not the value") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 1ull << 40;  // no checkpoint resets the log here
  auto e = OpenEngine(o);
  for (int i = 0; i < 20000; ++i) REQUIRE(Add(e.get(), "big", Member(i)).ok());
  const std::uint64_t before = e->LogEnd();
  REQUIRE(Add(e.get(), "big", "one-more").ok());
  const std::uint64_t appended = e->LogEnd() - before;
  // Header, key and the op: far below the value's ~300 KB.
  CHECK(appended < 64);
  CHECK(appended > 0);
}

TEST_CASE("objects: a write that changed nothing is not logged and leaves the object clean") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 1ull << 40;
  std::int64_t result = -1;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 100; ++i) REQUIRE(Add(e.get(), "s", Member(i)).ok());
    REQUIRE(e->Checkpoint().ok());
    REQUIRE(e->Stats().dirty_entries == 0);
    const std::uint64_t before = e->LogEnd();
    // A member already there, one that is not: answered, but nothing to log or checkpoint.
    REQUIRE(e->Mutate("s", "+" + Member(5), &result).ok());
    CHECK(result == 0);
    REQUIRE(e->Mutate("s", "-absent", &result).ok());
    CHECK(result == 0);
    REQUIRE(e->Mutate("missing", "-absent", &result).ok());  // creates nothing either
    CHECK(e->LogEnd() == before);
    CHECK(e->Stats().dirty_entries == 0);
    CHECK(e->KeyCount() == 1);
    // A real change still is both.
    REQUIRE(Add(e.get(), "s", "new").ok());
    CHECK(e->LogEnd() > before);
    CHECK(e->Stats().dirty_entries == 1);
    REQUIRE(e->FlushLog().ok());
  }
  auto e = OpenEngine(o);
  std::set<std::string> expected{"new"};
  for (int i = 0; i < 100; ++i) expected.insert(Member(i));
  CHECK(Members(e.get(), "s") == expected);
  CHECK(e->KeyCount() == 1);
  // A codec that does not say so (the default) has every applied op logged, as before.
  codec.say_changed_nothing = false;
  const std::uint64_t before = e->LogEnd();
  REQUIRE(e->Mutate("s", "+new", &result).ok());
  CHECK(result == 0);
  CHECK(e->LogEnd() > before);
}

TEST_CASE("objects: memory accounting follows the object as it grows and shrinks") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  auto e = OpenEngine(o);
  const std::uint64_t empty = e->Stats().memtable_bytes;
  for (int i = 0; i < 1000; ++i) REQUIRE(Add(e.get(), "grow", Member(i)).ok());
  const std::uint64_t full = e->Stats().memtable_bytes;
  CHECK(full - empty >= 1000 * 32);
  std::int64_t result = 0;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(e->Mutate("grow", "-" + Member(i), &result).ok());
  }
  CHECK(e->Stats().memtable_bytes <= empty + 1024);  // tombstone-free: the key was never on disk
}

TEST_CASE("objects: recovery replays element records onto checkpointed objects") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  std::set<std::string> expected;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 500; ++i) {
      REQUIRE(Add(e.get(), "h", Member(i)).ok());
      expected.insert(Member(i));
    }
    REQUIRE(e->Checkpoint().ok());  // the whole object goes to a segment
    for (int i = 500; i < 700; ++i) {
      REQUIRE(Add(e.get(), "h", Member(i)).ok());  // and these only to the log
      expected.insert(Member(i));
    }
    std::int64_t result = 0;
    REQUIRE(e->Mutate("h", "-" + Member(3), &result).ok());
    expected.erase(Member(3));
    REQUIRE(e->SetExpireAt("h", clock.now_ms + 100000));
    REQUIRE(e->PutObject("copy", std::string("S\x01\x00\x00\x00z", 6), 0).ok());
    REQUIRE(e->FlushLog().ok());
  }
  auto e = OpenEngine(o);
  CHECK(Members(e.get(), "h") == expected);
  CHECK(e->GetExpireAt("h") == clock.now_ms + 100000);
  CHECK(Members(e.get(), "copy") == std::set<std::string>{"z"});
  CHECK(e->KeyCount() == 2);
}

TEST_CASE("objects: a mutation while the checkpoint holds the object frozen is kept") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 4096;  // background checkpoints while writing
  std::set<std::string> expected;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 5000; ++i) {
      REQUIRE(Add(e.get(), "h" + std::to_string(i % 7), Member(i)).ok());
      e->Tick();
    }
    REQUIRE(e->FlushLog().ok());
    CHECK(e->Stats().checkpoints > 0);
  }
  auto e = OpenEngine(o);
  std::size_t total = 0;
  for (int k = 0; k < 7; ++k) total += Members(e.get(), "h" + std::to_string(k)).size();
  CHECK(total == 5000);
  CHECK(Members(e.get(), "h0").count(Member(4998 - 4998 % 7)) == 1);
}

TEST_CASE("objects: a background checkpoint serializes them off the loop; a write waits for it") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false, timed_out = false;
  // The checkpoint's serialization of the set holding "slow" stops until the test opens it.
  codec.serialize_hook = [&](const ToySet& set) {
    if (set.members().count("slow") == 0) return;
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return open; })) timed_out = true;
  };
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 16 * 1024;
  {
    auto e = OpenEngine(o);
    REQUIRE(Add(e.get(), "a", "slow").ok());
    for (int i = 0; i < 50; ++i) REQUIRE(Add(e.get(), "b", Member(i)).ok());
    for (int n = 0; !e->Stats().checkpoint_running; ++n) {
      REQUIRE(n < 10000);
      REQUIRE(e->Put("filler" + std::to_string(n), testing::RandomBytes(300, n), 0).ok());
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return entered; }));
    }
    // The background thread is inside "a": the loop reads it meanwhile, and writes "b" (which it
    // serializes itself unless the job did already) without waiting for "a".
    CHECK(Members(e.get(), "a") == std::set<std::string>{"slow"});
    REQUIRE(Add(e.get(), "b", "late").ok());
    CHECK(Members(e.get(), "b").size() == 51);
    {
      std::lock_guard<std::mutex> lock(mu);
      CHECK_FALSE(open);  // nothing above waited for "a"
      open = true;
    }
    cv.notify_all();
    // A write to "a" waits for its serialization, then changes it.
    REQUIRE(Add(e.get(), "a", "after").ok());
    for (int i = 0; i < 5000 && e->Stats().checkpoint_running; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      e->Tick();
    }
    REQUIRE_FALSE(e->Stats().checkpoint_running);
    CHECK(e->Stats().checkpoints == 1);
    CHECK(e->Stats().checkpoint_loop_max_us > 0);
  }
  CHECK_FALSE(timed_out);
  // The segment holds each set as it was at the freeze; the log replays the later writes.
  codec.serialize_hook = nullptr;
  auto e = OpenEngine(o);
  CHECK(Members(e.get(), "a") == std::set<std::string>{"after", "slow"});
  CHECK(Members(e.get(), "b").size() == 51);
  CHECK(Members(e.get(), "b").count("late") == 1);
}

TEST_CASE("objects: a write to an object with a snapshot never waits for its serialization") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  codec.snapshots.enabled = true;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false, timed_out = false;
  // The checkpoint's serialization of the set holding "slow" stops until the test opens it.
  codec.serialize_hook = [&](const ToySet& set) {
    if (set.members().count("slow") == 0) return;
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return open; })) timed_out = true;
  };
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.log_checkpoint_bytes = 16 * 1024;
  {
    auto e = OpenEngine(o);
    REQUIRE(Add(e.get(), "a", "slow").ok());
    for (int n = 0; !e->Stats().checkpoint_running; ++n) {
      REQUIRE(n < 10000);
      REQUIRE(e->Put("filler" + std::to_string(n), testing::RandomBytes(300, n), 0).ok());
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return entered; }));
    }
    CHECK(codec.snapshots.started == 1);
    // The background thread is inside a's snapshot: writes to "a" go on without it (the object
    // settles what they touch: here its snapshot is a copy).
    REQUIRE(Add(e.get(), "a", "during").ok());
    std::int64_t removed = 0;
    REQUIRE(e->Mutate("a", "-slow", &removed).ok());
    CHECK(removed == 1);
    CHECK(Members(e.get(), "a") == std::set<std::string>{"during"});
    {
      std::lock_guard<std::mutex> lock(mu);
      CHECK_FALSE(open);  // nothing above waited for the serialization
      open = true;
    }
    cv.notify_all();
    for (int i = 0; i < 5000 && e->Stats().checkpoint_running; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      e->Tick();
    }
    REQUIRE_FALSE(e->Stats().checkpoint_running);
    CHECK(e->Stats().checkpoints == 1);
    CHECK(codec.snapshots.ended == 1);  // ended at the install
  }
  CHECK_FALSE(timed_out);
  // The segment holds "a" as its snapshot had it; the log replays the writes made during it.
  codec.serialize_hook = nullptr;
  codec.snapshots.enabled = false;
  auto e = OpenEngine(o);
  CHECK(Members(e.get(), "a") == std::set<std::string>{"during"});
}

TEST_CASE("objects: offloaded objects come back intact, large ones compressed on disk") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  o.max_memory = 256 * 1024;
  o.eviction = EvictionPolicy::kOffload;
  const int keys = 200;
  const int members = 200;  // ~12 KB of memory each: far more than fits
  {
    auto e = OpenEngine(o);
    for (int k = 0; k < keys; ++k) {
      for (int m = 0; m < members; ++m) {
        REQUIRE(Add(e.get(), "key" + std::to_string(k), Member(m)).ok());
      }
    }
    CHECK(e->Stats().offloaded_keys > 0);
    CHECK(e->Stats().memtable_bytes <= o.max_memory + 16 * 1024);
    for (int k = 0; k < keys; k += 13) {
      CHECK(Members(e.get(), "key" + std::to_string(k)).size() == members);
    }
    // An offloaded object takes element writes too (loaded, then changed).
    REQUIRE(Add(e.get(), "key0", "extra").ok());
    CHECK(Members(e.get(), "key0").size() == members + 1);
    REQUIRE(e->FlushLog().ok());
  }
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == keys);
  CHECK(Members(e.get(), "key0").size() == members + 1);
  CHECK(Members(e.get(), "key199").size() == members);
  // The members repeat a pattern: LZ4 shrinks the serialized form well below its size.
  CHECK(e->Stats().segment_bytes < static_cast<std::uint64_t>(keys) * members * 12);
}

TEST_CASE("objects: without a codec, a typed value on disk is corruption, never a string") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  {
    auto e = OpenEngine(o);
    REQUIRE(Add(e.get(), "h", "a").ok());
    REQUIRE(e->FlushLog().ok());
  }
  o.object_codec = nullptr;
  std::unique_ptr<Engine> e;
  CHECK(Engine::Open(o, &e).code() == Status::Code::kCorruption);
}

TEST_CASE("log format: MUTATE records and object PUTs round-trip; their shape is checked") {
  LogRecord mutate;
  mutate.type = LogRecordType::kMutate;
  mutate.key = "key";
  mutate.op = std::string_view("\x01\x02\x01a\x01b", 6);
  LogRecord put;
  put.type = LogRecordType::kPut;
  put.key = "k";
  put.stored = "Sxyz";
  put.raw_len = 4;
  put.object = true;
  for (const LogRecord& rec : {mutate, put}) {
    std::string bytes;
    AppendLogRecord(&bytes, rec);
    const std::string_view payload = std::string_view(bytes).substr(kLogHeaderSize);
    LogRecord back;
    REQUIRE(DecodeLogPayload(rec.type, payload, &back));
    CHECK(back.key == rec.key);
    CHECK(back.op == rec.op);
    CHECK(back.stored == rec.stored);
    CHECK(back.object == rec.object);
    const auto len = static_cast<std::uint32_t>(payload.size());
    CHECK(LogPayloadShapeFits(rec.type, len, payload));
    CHECK(LogPayloadShapeFits(rec.type, len, payload.substr(0, 3)));  // a torn record
    CHECK_FALSE(LogPayloadShapeFits(rec.type, len + 1, payload));     // a damaged length
    CHECK_FALSE(DecodeLogPayload(rec.type, payload.substr(0, payload.size() - 1), &back));
  }
  CHECK(IsLogRecordType(5));
  CHECK(IsLogRecordType(6));  // GROUP (atomic_group_test.cc)
  CHECK(IsLogRecordType(7));  // PATCH (engine_patch_test.cc)
  CHECK_FALSE(IsLogRecordType(8));
}

TEST_CASE("objects: an element write to a value whose segment block went bad fails, never recreates") {
  TempDir dir;
  FakeClock clock;
  ToyCodec codec;
  Options o = TestOptions(dir.path(), &clock);
  o.object_codec = &codec;
  const int keys = 300;
  {
    auto e = OpenEngine(o);
    for (int k = 0; k < keys; ++k) {
      for (int m = 0; m < 5; ++m) REQUIRE(Add(e.get(), "key" + std::to_string(k), Member(m)).ok());
    }
    REQUIRE(e->Checkpoint().ok());
  }
  auto e = OpenEngine(o);  // the objects are only in the segment now
  std::string segment;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().string().rfind("seg-", 0) == 0) segment = entry.path().string();
  }
  REQUIRE(!segment.empty());
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(std::filesystem::file_size(segment) / 3));
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x10);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(segment) / 3));
    f.write(&byte, 1);
  }
  int failed = 0;
  for (int k = 0; k < keys; ++k) {
    const std::string key = "key" + std::to_string(k);
    // No read first: the write's own lookup meets the damage.
    const Status s = Add(e.get(), key, "new");
    if (s.ok()) {
      CHECK(Members(e.get(), key).size() == 6);
      continue;
    }
    ++failed;
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK_FALSE(e->TakeReadError().ok());
    // Nothing was written: the key still reads as damaged, not as a fresh one-member value.
    CHECK_FALSE(e->Get(key));
    CHECK_FALSE(e->TakeReadError().ok());
  }
  CHECK(failed > 0);
}

}  // namespace dynakv::storage
