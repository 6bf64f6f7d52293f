// Numbered databases: namespaces kept apart in the memtable, the log, segments and compaction;
// FLUSHDB, SWAPDB and MOVE as single log records that recovery replays; data directories from
// before databases opening as database 0.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "file_names.h"
#include "log_format.h"
#include "log_reader.h"
#include "predatabases_fixture.h"
#include "storage/engine.h"
#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

namespace {

std::optional<std::string> GetIn(Engine* e, DbIndex db, std::string_view key) {
  auto v = e->Get(db, key);
  if (!v) return std::nullopt;
  return v->ToString();
}

std::set<std::string> ScanAll(Engine* e, DbIndex db, std::size_t count = 10) {
  std::set<std::string> keys;
  std::uint64_t cursor = 0;
  int calls = 0;
  do {
    std::vector<std::string> page;
    cursor = e->Scan(db, cursor, count, &page);
    keys.insert(page.begin(), page.end());
    REQUIRE(++calls < 100000);
  } while (cursor != 0);
  return keys;
}

// The record types of every log in `dir`, oldest first.
std::vector<LogRecord> LogRecords(const std::string& dir, std::deque<std::string>* arena) {
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::uint64_t seq;
    if (ParseFileName(entry.path().filename().string(), &seq) == FileKind::kLog) {
      logs.push_back(entry.path().string());
    }
  }
  std::sort(logs.begin(), logs.end());
  std::vector<LogRecord> out;
  for (const std::string& path : logs) {
    std::unique_ptr<LogReader> reader;
    REQUIRE(LogReader::Open(path, &reader, nullptr).ok());
    LogRecord rec;
    while (reader->Next(&rec)) {
      arena->emplace_back(rec.key);
      rec.key = arena->back();
      rec.stored = {};
      out.push_back(rec);
    }
  }
  return out;
}

// Runs `body` in a child that dies without closing the engine (no checkpoint at exit): what the
// parent then opens is whatever recovery makes of the log, as after kill -9.
template <typename Body>
void InKilledChild(const Options& o, Body body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::unique_ptr<Engine> e;
    if (!Engine::Open(o, &e).ok()) ::_exit(2);
    if (!body(e.get())) ::_exit(3);
    if (!e->FlushLog().ok()) ::_exit(4);
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
}

void WriteFile(const std::string& path, const unsigned char* data, unsigned len) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), len);
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("databases keep the same key apart in memory, on disk and in counts") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Databases() == 16);
  for (DbIndex db = 0; db < 16; ++db) {
    REQUIRE(e->Put(db, "shared", "v" + std::to_string(db), 0).ok());
    for (DbIndex i = 0; i <= db; ++i) {
      REQUIRE(e->Put(db, "k" + std::to_string(i), "x", db % 2 ? clock.now_ms + 100000 : 0).ok());
    }
  }
  for (DbIndex db = 0; db < 16; ++db) {
    CHECK(GetIn(e.get(), db, "shared") == "v" + std::to_string(db));
    CHECK(e->KeyCount(db) == db + 2);
    CHECK(e->KeysWithExpiry(db) == (db % 2 ? db + 1 : 0));
  }
  CHECK(e->Stats().keys == 152);  // the sum of db + 2
  REQUIRE(e->Delete(3, "shared"));
  CHECK_FALSE(e->Exists(3, "shared"));
  CHECK(GetIn(e.get(), 4, "shared") == "v4");
  CHECK(e->KeyCount(3) == 4);
  REQUIRE(e->SetExpireAt(5, "shared", clock.now_ms + 5000));
  CHECK(e->GetExpireAt(5, "shared") == clock.now_ms + 5000);
  CHECK(e->GetExpireAt(6, "shared") == 0);
  CHECK(e->KeysWithExpiry(5) == 7);
  CHECK(e->KeysWithExpiry(6) == 0);

  // Through a checkpoint (segments) and a reopen (MANIFEST, segments).
  REQUIRE(e->Checkpoint().ok());
  REQUIRE(e->Put(7, "shared", "newer", 0).ok());
  e.reset();
  e = OpenEngine(TestOptions(dir.path(), &clock));
  for (DbIndex db = 0; db < 16; ++db) {
    const std::string want = db == 7 ? "newer" : "v" + std::to_string(db);
    if (db == 3) {
      CHECK_FALSE(e->Exists(db, "shared"));
    } else {
      CHECK(GetIn(e.get(), db, "shared") == want);
    }
    CHECK(e->KeyCount(db) == (db == 3 ? db + 1 : db + 2));
  }
  // SCAN and RANDOMKEY see one database only.
  CHECK(ScanAll(e.get(), 2) == std::set<std::string>{"shared", "k0", "k1", "k2"});
  CHECK(ScanAll(e.get(), 0, 1) == std::set<std::string>{"shared", "k0"});
  for (int i = 0; i < 20; ++i) {
    auto k = e->RandomKey(1);
    REQUIRE(k);
    CHECK((*k == "shared" || *k == "k0" || *k == "k1"));
  }
}

TEST_CASE("SCAN of a small database beside a big one takes a few calls, in memory and on disk") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  for (int i = 0; i < 50000; ++i) REQUIRE(e->Put(0, "big" + std::to_string(i), "v", 0).ok());
  for (int i = 0; i < 10; ++i) REQUIRE(e->Put(1, "small" + std::to_string(i), "v", 0).ok());
  for (bool on_disk : {false, true}) {
    CAPTURE(on_disk);
    if (on_disk) REQUIRE(e->Checkpoint().ok());
    std::set<std::string> keys;
    std::uint64_t cursor = 0;
    int calls = 0;
    do {
      std::vector<std::string> page;
      cursor = e->Scan(1, cursor, 10, &page);
      keys.insert(page.begin(), page.end());
      ++calls;
    } while (cursor != 0 && calls < 1000);
    CHECK(keys.size() == 10);
    CHECK(calls <= 4);
    std::vector<std::string> page;
    CHECK(e->Scan(2, 0, 10, &page) == 0);  // an empty database: done at once
    CHECK(page.empty());
  }
}

TEST_CASE("FLUSHDB empties one database with one record, through checkpoints and compaction") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.compaction_trigger = 2;
  auto e = OpenEngine(o);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      for (DbIndex db : {0u, 1u, 2u}) {
        REQUIRE(e->Put(db, "key" + std::to_string(i), "r" + std::to_string(round), 0).ok());
      }
    }
    REQUIRE(e->Checkpoint().ok());
  }
  const std::uint64_t log_end = e->LogEnd();
  REQUIRE(e->FlushDb(1).ok());
  CHECK(e->LogEnd() - log_end < 32);  // one small record, whatever the database held
  CHECK(e->KeyCount(1) == 0);
  CHECK(e->KeyCount(0) == 200);
  CHECK(e->KeyCount(2) == 200);
  CHECK(e->Stats().keys == 400);
  CHECK_FALSE(e->Exists(1, "key7"));
  CHECK(ScanAll(e.get(), 1).empty());
  CHECK_FALSE(e->RandomKey(1));
  REQUIRE(e->Put(1, "after", "flush", 0).ok());

  // Compaction merges the segments and drops the flushed namespace's records.
  const std::uint64_t bytes_before = e->Stats().segment_bytes;
  for (int i = 0; i < 200 && e->Stats().compactions == 0; ++i) {
    e->Tick();
    ::usleep(5000);
  }
  for (int i = 0; i < 200 && e->Stats().compaction_running; ++i) {
    e->Tick();
    ::usleep(5000);
  }
  REQUIRE(e->Stats().compactions > 0);
  CHECK(e->Stats().segment_bytes < bytes_before);
  e.reset();
  e = OpenEngine(o);
  CHECK(e->KeyCount(1) == 1);
  CHECK(GetIn(e.get(), 1, "after") == "flush");
  CHECK_FALSE(e->Exists(1, "key7"));
  CHECK(GetIn(e.get(), 0, "key7") == "r2");
  CHECK(GetIn(e.get(), 2, "key199") == "r2");
  CHECK(e->Stats().keys == 401);
}

TEST_CASE("FLUSHDB of the only non-empty database maps every database back to itself") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  REQUIRE(e->Put(0, "a", "1", 0).ok());
  REQUIRE(e->SwapDb(0, 1).ok());
  REQUIRE(e->FlushDb(1).ok());
  REQUIRE(e->Put(0, "b", "2", 0).ok());
  // Database 0 is namespace 0 again: its record has the plain form.
  std::deque<std::string> arena;
  REQUIRE(e->FlushLog().ok());
  const std::vector<LogRecord> records = LogRecords(dir.path(), &arena);
  REQUIRE(!records.empty());
  CHECK(records.back().type == LogRecordType::kPut);
  CHECK(records.back().ns == 0);
}

TEST_CASE("SWAPDB and MOVE are one record each and recovery replays them after kill -9") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.fsync = FsyncPolicy::kAlways;
  InKilledChild(o, [&](Engine* e) {
    for (int i = 0; i < 50; ++i) {
      if (!e->Put(0, "a" + std::to_string(i), "zero", 0).ok()) return false;
      if (!e->Put(9, "b" + std::to_string(i), "nine", i % 2 ? clock.now_ms + 60000 : 0).ok()) {
        return false;
      }
    }
    if (!e->Checkpoint().ok()) return false;  // part on disk, part in the log
    if (!e->Put(9, "late", "in-log", 0).ok()) return false;
    if (!e->SwapDb(0, 9).ok()) return false;
    bool moved = false;
    if (!e->Move(0, "b1", 4, &moved).ok() || !moved) return false;   // from a segment
    if (!e->Move(0, "late", 5, &moved).ok() || !moved) return false;  // from the memtable
    if (!e->Move(9, "a1", 5, &moved).ok() || !moved) return false;
    if (e->Move(9, "a2", 9, &moved).ok()) return false;  // same database: refused
    if (!e->Move(9, "missing", 5, &moved).ok() || moved) return false;
    if (!e->Put(5, "a3", "taken", 0).ok()) return false;
    if (!e->Move(9, "a3", 5, &moved).ok() || moved) return false;  // exists at the target
    return e->FlushDb(3).ok() && e->Put(3, "fresh", "three", 0).ok();
  });
  std::deque<std::string> arena;
  const std::vector<LogRecord> records = LogRecords(dir.path(), &arena);
  int swaps = 0, moves = 0, flushes = 0;
  for (const LogRecord& r : records) {
    swaps += r.type == LogRecordType::kSwapDb;
    moves += r.type == LogRecordType::kMove;
    flushes += r.type == LogRecordType::kFlushDb;
  }
  CHECK(swaps == 1);
  CHECK(moves == 3);
  CHECK(flushes == 1);
  auto e = OpenEngine(o);
  CHECK(e->KeyCount(0) == 49);  // b0..b49 and late (swapped in from 9), less b1 and late
  CHECK(GetIn(e.get(), 0, "b0") == "nine");
  CHECK_FALSE(e->Exists(0, "b1"));
  CHECK(GetIn(e.get(), 4, "b1") == "nine");
  CHECK(e->GetExpireAt(4, "b1") == clock.now_ms + 60000);  // the expiry moves with the key
  CHECK(GetIn(e.get(), 5, "late") == "in-log");
  CHECK(GetIn(e.get(), 5, "a1") == "zero");
  CHECK(GetIn(e.get(), 5, "a3") == "taken");
  CHECK(GetIn(e.get(), 9, "a3") == "zero");
  CHECK_FALSE(e->Exists(9, "a1"));
  CHECK(e->KeyCount(9) == 49);
  CHECK(e->KeyCount(5) == 3);
  CHECK(e->KeyCount(4) == 1);
  CHECK(GetIn(e.get(), 3, "fresh") == "three");
  CHECK(e->KeysWithExpiry(0) == 24);
  CHECK(e->KeysWithExpiry(4) == 1);
  CHECK(e->Stats().keys == 49 + 1 + 3 + 49 + 1);
}

TEST_CASE("the database mapping survives checkpoints and a reopen through the MANIFEST") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put(1, "one", "1", 0).ok());
    REQUIRE(e->Put(2, "two", "2", 0).ok());
    REQUIRE(e->SwapDb(1, 2).ok());
    REQUIRE(e->FlushDb(1).ok());  // database 1 now holds "two": flushed
    REQUIRE(e->Put(1, "again", "1b", 0).ok());
    REQUIRE(e->Checkpoint().ok());  // the log with the SWAPDB and FLUSHDB goes
  }
  {
    auto e = OpenEngine(o);
    CHECK(GetIn(e.get(), 2, "one") == "1");
    CHECK_FALSE(e->Exists(1, "two"));
    CHECK(GetIn(e.get(), 1, "again") == "1b");
    CHECK(e->KeyCount(1) == 1);
    CHECK(e->KeyCount(2) == 1);
  }
  // More databases: the new ones are empty, whatever namespace they get.
  o.databases = 20;
  {
    auto e = OpenEngine(o);
    CHECK(e->Databases() == 20);
    for (DbIndex db = 16; db < 20; ++db) CHECK(e->KeyCount(db) == 0);
    REQUIRE(e->Put(17, "k", "seventeen", 0).ok());
  }
  o.databases = 16;
  std::unique_ptr<Engine> refused;
  const Status s = Engine::Open(o, &refused);
  CHECK_FALSE(s.ok());
  CHECK(s.ToString().find("database 17") != std::string::npos);
  o.databases = 18;
  auto e = OpenEngine(o);
  CHECK(GetIn(e.get(), 17, "k") == "seventeen");
  CHECK(GetIn(e.get(), 2, "one") == "1");
}

TEST_CASE("fewer and then more databases never bring a flushed database's keys back") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.databases = 32;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put(0, "keep", "0", 0).ok());
    for (int i = 0; i < 20; ++i) REQUIRE(e->Put(20, "old" + std::to_string(i), "x", 0).ok());
    REQUIRE(e->Checkpoint().ok());  // namespace 20's keys are in a segment
    REQUIRE(e->FlushDb(20).ok());
    REQUIRE(e->Checkpoint().ok());
  }
  for (std::uint32_t databases : {16u, 16u, 32u}) {
    o.databases = databases;
    auto e = OpenEngine(o);  // database 20 is empty: 16 is enough
    CHECK(e->Databases() == databases);
    CHECK(e->Stats().keys == 1);
    if (databases > 20) {
      CHECK(e->KeyCount(20) == 0);
      CHECK_FALSE(e->Exists(20, "old3"));
    }
    REQUIRE(e->Checkpoint().ok());
  }
}

TEST_CASE("FLUSHALL empties every database") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  for (DbIndex db = 0; db < 16; ++db) REQUIRE(e->Put(db, "k", "v", 0).ok());
  REQUIRE(e->SwapDb(2, 3).ok());
  e->Clear();
  for (DbIndex db = 0; db < 16; ++db) CHECK(e->KeyCount(db) == 0);
  CHECK(e->Stats().keys == 0);
  REQUIRE(e->Put(3, "k", "after", 0).ok());
  e.reset();
  e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(GetIn(e.get(), 3, "k") == "after");
  CHECK_FALSE(e->Exists(2, "k"));
  CHECK(e->Stats().keys == 1);
}

TEST_CASE("a data directory from before databases opens with its keys in database 0") {
  TempDir dir;
  namespace f = testing::predatabases;
  WriteFile(dir.path() + "/MANIFEST", f::k_MANIFEST, f::k_MANIFEST_len);
  WriteFile(dir.path() + "/log-00000002.log", f::k_log_00000002_log, f::k_log_00000002_log_len);
  WriteFile(dir.path() + "/seg-00000003.sst", f::k_seg_00000003_sst, f::k_seg_00000003_sst_len);
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->KeyCount(0) == 21);
  CHECK(e->Stats().keys == 21);
  for (int i = 1; i <= 20; ++i) {
    const std::string key = "key" + std::to_string(i);
    if (i == 3) {
      CHECK_FALSE(e->Exists(0, key));
    } else if (i == 4) {
      CHECK(GetIn(e.get(), 0, key) == "changed");
    } else {
      CHECK(GetIn(e.get(), 0, key) == "value-" + std::to_string(i) + "-" + std::to_string(i * 7919));
    }
    CHECK_FALSE(e->Exists(1, key));
  }
  CHECK(e->GetExpireAt(0, "ttl") > 4102444800000);  // PX, relative to when it was written
  CHECK(GetIn(e.get(), 0, "tail") == "t");
  for (DbIndex db = 1; db < 16; ++db) CHECK(e->KeyCount(db) == 0);
  // And it goes on working with databases.
  REQUIRE(e->Put(1, "key1", "db1", 0).ok());
  REQUIRE(e->SwapDb(0, 1).ok());
  e.reset();
  e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(GetIn(e.get(), 0, "key1") == "db1");
  CHECK(GetIn(e.get(), 1, "key2") == "value-2-15838");
  CHECK(e->KeyCount(1) == 21);
}

}  // namespace dynakv::storage

namespace dynakv::storage {

TEST_CASE("log records carry the namespace; namespace 0 keeps the old bytes") {
  std::vector<LogRecord> records;
  for (std::uint32_t ns : {0u, 1u, 300u, (1u << 20) + 5}) {
    LogRecord put{LogRecordType::kPut, "key", "value", 5, false, 1700000000000};
    put.ns = ns;
    LogRecord del{LogRecordType::kDelete, "key"};
    del.ns = ns;
    LogRecord exp{LogRecordType::kExpire, "key", {}, 0, false, 1800000000000};
    exp.ns = ns;
    LogRecord mut{LogRecordType::kMutate, "key"};
    mut.op = "op-bytes";
    mut.ns = ns;
    records.insert(records.end(), {put, del, exp, mut});
  }
  LogRecord flush{LogRecordType::kFlushDb};
  flush.db = 7;
  flush.ns = (1u << 20) + 9;
  LogRecord swap{LogRecordType::kSwapDb};
  swap.db = 3;
  swap.db2 = 15;
  LogRecord move{LogRecordType::kMove, "k", "packed", 40, true, 1900000000000};
  move.from_ns = 2;
  move.ns = (1u << 20);
  move.object = true;
  records.insert(records.end(), {flush, swap, move});
  for (const LogRecord& rec : records) {
    std::string bytes;
    AppendLogRecord(&bytes, rec);
    const auto type = static_cast<LogRecordType>(static_cast<std::uint8_t>(bytes[8]));
    const std::string_view payload = std::string_view(bytes).substr(kLogHeaderSize);
    LogRecord back;
    REQUIRE(DecodeLogPayload(type, payload, &back));
    CHECK(back.type == rec.type);
    CHECK(back.ns == rec.ns);
    CHECK(back.from_ns == rec.from_ns);
    CHECK(back.db == rec.db);
    CHECK(back.db2 == rec.db2);
    CHECK(back.key == rec.key);
    CHECK(back.expire_at_ms == rec.expire_at_ms);
    CHECK(back.object == rec.object);
    for (std::size_t n = 0; n <= payload.size(); ++n) {
      CHECK(LogPayloadShapeFits(type, static_cast<std::uint32_t>(payload.size()),
                                payload.substr(0, n)));
    }
    CHECK_FALSE(LogPayloadShapeFits(type, static_cast<std::uint32_t>(payload.size() + 1), payload));
    // Namespace 0: the type byte has no namespace flag, as every record before databases.
    const bool keyed = rec.type == LogRecordType::kPut || rec.type == LogRecordType::kDelete ||
                       rec.type == LogRecordType::kExpire || rec.type == LogRecordType::kMutate;
    CHECK(((static_cast<std::uint8_t>(bytes[8]) & kLogNamespaced) != 0) == (keyed && rec.ns != 0));
  }
  // A namespaced form naming namespace 0 is not one the writer makes: refused.
  std::string bad;
  LogRecord del{LogRecordType::kDelete, "key"};
  del.ns = 1;
  AppendLogRecord(&bad, del);
  std::string payload = bad.substr(kLogHeaderSize);
  payload[0] = 0;
  LogRecord back;
  CHECK_FALSE(DecodeLogPayload(static_cast<LogRecordType>(static_cast<std::uint8_t>(bad[8])),
                               payload, &back));
}

}  // namespace dynakv::storage
