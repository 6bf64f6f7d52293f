// Atomic groups (Engine::BeginAtomic / CommitAtomic): one GROUP record in the commit log, so a
// crash keeps all of a group's writes or none, and no checkpoint ever holds part of one.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

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

std::vector<std::string> LogFiles(const std::string& dir) {
  std::vector<std::pair<std::uint64_t, std::string>> logs;
  for (const auto& ent : std::filesystem::directory_iterator(dir)) {
    std::uint64_t seq = 0;
    if (ParseFileName(ent.path().filename().string(), &seq) == FileKind::kLog) {
      logs.emplace_back(seq, ent.path().string());
    }
  }
  std::sort(logs.begin(), logs.end());
  std::vector<std::string> out;
  for (auto& [seq, path] : logs) out.push_back(path);
  return out;
}

// The types of the records of `path`, in order; *valid_bytes where the good prefix ends.
std::vector<LogRecordType> RecordTypes(const std::string& path,
                                       std::uint64_t* valid_bytes = nullptr) {
  std::unique_ptr<LogReader> reader;
  REQUIRE(LogReader::Open(path, &reader).ok());
  std::vector<LogRecordType> types;
  LogRecord rec;
  while (reader->Next(&rec)) types.push_back(rec.type);
  if (valid_bytes != nullptr) *valid_bytes = reader->valid_bytes();
  return types;
}

int CountSegments(const std::string& dir) {
  int n = 0;
  for (const auto& ent : std::filesystem::directory_iterator(dir)) {
    n += ent.path().extension() == ".sst";
  }
  return n;
}

// Runs `child` in a forked process that then dies by SIGKILL without any cleanup, as kill -9.
template <typename Fn>
void RunAndKill(Fn&& child) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    child();
    ::raise(SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));  // an _exit(n) means the child's own check failed
  CHECK(WTERMSIG(status) == SIGKILL);
}

}  // namespace

TEST_CASE("atomic group: its writes are one GROUP record, replayed in order") {
  TempDir dir;
  FakeClock clock;
  const Options o = TestOptions(dir.path(), &clock);
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("before", "1", 0).ok());
    REQUIRE(e->Put("gone", "x", 0).ok());
    const std::uint64_t end_before = e->LogEnd();
    {
      Engine::AtomicGroup group(*e);
      REQUIRE(e->Put("a", "1", 0).ok());
      REQUIRE(e->Put("a", "2", 0).ok());      // the later write wins on replay too
      CHECK(GetString(e.get(), "a") == "2");  // visible inside the group at once
      CHECK(e->Delete("gone"));
      REQUIRE(e->Put("b", "3", 0).ok());
      CHECK(e->SetExpireAt("b", clock.now_ms + 100000));
      {
        Engine::AtomicGroup nested(*e);  // joins the outer group
        REQUIRE(e->Put("c", "4", 0).ok());
      }
      CHECK(e->LogEnd() == end_before);  // nothing reaches the log before the commit
    }
    CHECK(e->LogEnd() > end_before);
    {
      Engine::AtomicGroup one(*e);
      REQUIRE(e->Put("single", "5", 0).ok());
    }
    { Engine::AtomicGroup empty(*e); }
    REQUIRE(e->FlushLog().ok());
  }
  const std::vector<std::string> logs = LogFiles(dir.path());
  REQUIRE(logs.size() == 1);
  // PUT, PUT, the group, and the group of one written as a plain PUT; the empty one adds nothing.
  CHECK(RecordTypes(logs[0]) == std::vector<LogRecordType>{LogRecordType::kPut, LogRecordType::kPut,
                                                           LogRecordType::kGroup,
                                                           LogRecordType::kPut});
  LogCheck check;
  REQUIRE(CheckLogFile(logs[0], &check).ok());
  CHECK_FALSE(check.damage.has_value());
  CHECK(check.records == 4);

  auto e = OpenEngine(o);
  CHECK(GetString(e.get(), "before") == "1");
  CHECK(GetString(e.get(), "a") == "2");
  CHECK_FALSE(e->Exists("gone"));
  CHECK(GetString(e.get(), "b") == "3");
  CHECK(e->GetExpireAt("b") == clock.now_ms + 100000);
  CHECK(GetString(e.get(), "c") == "4");
  CHECK(GetString(e.get(), "single") == "5");
  CHECK(e->KeyCount() == 5);
}

TEST_CASE("atomic group: the payload's shape is checked like any record's") {
  std::string members;
  LogRecord put;
  put.type = LogRecordType::kPut;
  put.key = "k";
  put.stored = "value";
  put.raw_len = 5;
  AppendGroupMember(&members, put);
  LogRecord del;
  del.type = LogRecordType::kDelete;
  del.key = "other";
  AppendGroupMember(&members, del);
  std::string record;
  AppendLogGroup(&record, 2, members);
  const std::string_view payload = std::string_view(record).substr(kLogHeaderSize);
  const auto len = static_cast<std::uint32_t>(payload.size());
  CHECK(LogPayloadShapeFits(LogRecordType::kGroup, len, payload));
  CHECK(LogPayloadShapeFits(LogRecordType::kGroup, len, payload.substr(0, 4)));  // torn
  CHECK_FALSE(LogPayloadShapeFits(LogRecordType::kGroup, len + 1, payload));     // bad length
  LogRecord back;
  REQUIRE(DecodeLogPayload(LogRecordType::kGroup, payload, &back));
  std::vector<std::string> keys;
  CHECK(ForEachGroupRecord(back.group,
                           [&](const LogRecord& inner) { keys.emplace_back(inner.key); }));
  CHECK(keys == std::vector<std::string>{"k", "other"});
  // An inner record cut short, a count that does not match, a nested group: malformed.
  CHECK_FALSE(
      DecodeLogPayload(LogRecordType::kGroup, payload.substr(0, payload.size() - 1), &back));
  std::string three;
  AppendLogGroup(&three, 3, members);
  CHECK_FALSE(DecodeLogPayload(LogRecordType::kGroup,
                               std::string_view(three).substr(kLogHeaderSize), &back));
  std::string nested_members;
  LogRecord inner_group;
  inner_group.type = LogRecordType::kGroup;
  inner_group.group = payload;
  nested_members.push_back(static_cast<char>(LogRecordType::kGroup));
  nested_members.push_back(static_cast<char>(payload.size()));
  nested_members.append(payload);
  nested_members.append(members);
  std::string nested;
  AppendLogGroup(&nested, 3, nested_members);
  CHECK_FALSE(DecodeLogPayload(LogRecordType::kGroup,
                               std::string_view(nested).substr(kLogHeaderSize), &back));
}

TEST_CASE("atomic group: one torn at the tail is cut whole, as a torn record") {
  TempDir dir;
  FakeClock clock;
  const Options o = TestOptions(dir.path(), &clock);
  std::uint64_t group_start = 0;
  {
    auto e = OpenEngine(o);
    for (int i = 0; i < 50; ++i) REQUIRE(e->Put("k" + std::to_string(i), "v", 0).ok());
    REQUIRE(e->FlushLog().ok());
    group_start = std::filesystem::file_size(LogFiles(dir.path()).back());
    Engine::AtomicGroup group(*e);
    for (int i = 0; i < 20; ++i) {
      REQUIRE(e->Put("g" + std::to_string(i), RandomBytes(100, i), 0).ok());
    }
  }
  const std::string log = LogFiles(dir.path()).back();
  const auto size = std::filesystem::file_size(log);
  REQUIRE(size > group_start + 2000);
  SUBCASE("cut in the middle of the group") { std::filesystem::resize_file(log, size - 1000); }
  SUBCASE("cut a byte short") { std::filesystem::resize_file(log, size - 1); }
  auto e = OpenEngine(o);
  CHECK(e->Stats().truncated_log_bytes > 0);
  for (int i = 0; i < 50; ++i) CHECK(e->Exists("k" + std::to_string(i)));
  for (int i = 0; i < 20; ++i) CHECK_FALSE(e->Exists("g" + std::to_string(i)));
  CHECK(e->KeyCount() == 50);
}

TEST_CASE("atomic group: a damaged group that valid records follow is corruption") {
  TempDir dir;
  FakeClock clock;
  const Options o = TestOptions(dir.path(), &clock);
  std::uint64_t group_start = 0;
  {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("first", "1", 0).ok());
    REQUIRE(e->FlushLog().ok());
    group_start = std::filesystem::file_size(LogFiles(dir.path()).back());
    {
      Engine::AtomicGroup group(*e);
      for (int i = 0; i < 20; ++i) REQUIRE(e->Put("g" + std::to_string(i), "value", 0).ok());
    }
    for (int i = 0; i < 20; ++i) REQUIRE(e->Put("after" + std::to_string(i), "value", 0).ok());
  }
  const std::string log = LogFiles(dir.path()).back();
  // A bit flipped inside the group's payload: its checksum fails, and records follow.
  const int fd = ::open(log.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c;
  const off_t at = static_cast<off_t>(group_start + kLogHeaderSize + 30);
  REQUIRE(::pread(fd, &c, 1, at) == 1);
  c = static_cast<char>(c ^ 0x10);
  REQUIRE(::pwrite(fd, &c, 1, at) == 1);
  ::close(fd);
  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(o, &engine);
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK(s.message().find("offset " + std::to_string(group_start)) != std::string::npos);
}

TEST_CASE("atomic group: no checkpoint holds part of a group killed before its commit") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.fsync = FsyncPolicy::kAlways;
  o.log_checkpoint_bytes = 8 * 1024;  // the group alone is many times this
  SUBCASE("offload under a memory limit") { o.max_memory = 64 * 1024; }
  SUBCASE("allkeys-lru") {
    o.max_memory = 64 * 1024;
    o.eviction = EvictionPolicy::kAllKeysLru;
  }
  SUBCASE("no memory limit") {}
  bool commit = false;
  SUBCASE("killed before the commit") {}
  SUBCASE("killed after the commit was flushed") { commit = true; }
  RunAndKill([&] {
    std::unique_ptr<Engine> e;
    if (!Engine::Open(o, &e).ok()) ::_exit(2);
    for (int i = 0; i < 40; ++i) {
      if (!e->Put("base" + std::to_string(i), RandomBytes(500, i), 0).ok()) ::_exit(3);
    }
    if (!e->Checkpoint().ok() || !e->FlushLog().ok()) ::_exit(4);
    const std::uint64_t checkpoints = e->Stats().checkpoints;
    e->BeginAtomic();
    for (int i = 0; i < 300; ++i) {
      if (!e->Put("g" + std::to_string(i), RandomBytes(700, 1000 + i), 0).ok()) ::_exit(3);
      e->Delete("base" + std::to_string(i % 40));
    }
    e->Clear();  // a FLUSHALL inside the group
    if (!e->Put("last", "x", 0).ok()) ::_exit(3);
    if (!e->Checkpoint().ok()) ::_exit(4);  // deferred, as SAVE/BGSAVE would be
    e->Tick();
    // The group's writes are visible, but nothing of them is on disk yet.
    if (GetString(e.get(), "last") != "x") ::_exit(6);
    if (e->Stats().checkpoints != checkpoints) ::_exit(7);
    if (!e->FlushLog().ok()) ::_exit(4);
    if (commit) {
      e->CommitAtomic();
      if (!e->FlushLog().ok()) ::_exit(4);
    }
  });
  auto e = OpenEngine(o);
  if (commit) {
    CHECK(GetString(e.get(), "last") == "x");
    CHECK(e->KeyCount() == 1);  // the Clear removed everything before it
  } else {
    CHECK_FALSE(e->Exists("last"));
    for (int i = 0; i < 40; ++i) {
      CHECK(GetString(e.get(), "base" + std::to_string(i)) == RandomBytes(500, i));
    }
    for (int i = 0; i < 300; i += 37) CHECK_FALSE(e->Exists("g" + std::to_string(i)));
    CHECK(e->KeyCount() == 40);
  }
}

TEST_CASE("atomic group: the deferred checkpoint runs at the commit") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  o.log_checkpoint_bytes = 4 * 1024;
  auto e = OpenEngine(o);
  const std::uint64_t before = e->Stats().checkpoints;
  {
    Engine::AtomicGroup group(*e);
    for (int i = 0; i < 100; ++i)
      REQUIRE(e->Put("k" + std::to_string(i), RandomBytes(200, i), 0).ok());
    REQUIRE(e->Checkpoint().ok());
    CHECK(e->Stats().checkpoints == before);
    CHECK(CountSegments(dir.path()) == 0);
  }
  CHECK(e->Stats().checkpoints > before);
  CHECK(CountSegments(dir.path()) > 0);
  for (int i = 0; i < 100; ++i) {
    CHECK(GetString(e.get(), "k" + std::to_string(i)) == RandomBytes(200, i));
  }
}

TEST_CASE(
    "engine: on_key_removed hears of expiry reaping and eviction, not of the caller's deletes") {
  TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path(), &clock);
  std::vector<std::pair<std::string, KeyRemoval>> removed;
  std::vector<DbIndex> dbs;
  o.on_key_removed = [&](DbIndex db, std::string_view key, KeyRemoval why) {
    removed.emplace_back(std::string(key), why);
    dbs.push_back(db);
  };
  SUBCASE("expiry, lazily and actively") {
    auto e = OpenEngine(o);
    REQUIRE(e->Put("lazy", "v", clock.now_ms + 10).ok());
    REQUIRE(e->Put("active", "v", clock.now_ms + 10).ok());
    REQUIRE(e->Put("plain", "v", 0).ok());
    CHECK(e->Delete("plain"));
    CHECK(removed.empty());
    clock.now_ms += 100;
    CHECK_FALSE(e->Exists("lazy"));
    REQUIRE(removed.size() == 1);
    CHECK(removed[0] == std::pair<std::string, KeyRemoval>("lazy", KeyRemoval::kExpired));
    for (int i = 0; i < 20 && removed.size() < 2; ++i) e->Tick();
    REQUIRE(removed.size() == 2);
    CHECK(removed[1] == std::pair<std::string, KeyRemoval>("active", KeyRemoval::kExpired));
    CHECK(dbs == std::vector<DbIndex>{0, 0});
  }
  SUBCASE("a key of another database is reported with its database") {
    o.databases = 4;
    auto e = OpenEngine(o);
    REQUIRE(e->Put(3, "k", "v", clock.now_ms + 10).ok());
    REQUIRE(e->Put(0, "k", "v", 0).ok());
    clock.now_ms += 100;
    CHECK_FALSE(e->Exists(3, "k"));
    REQUIRE(removed.size() == 1);
    CHECK(dbs == std::vector<DbIndex>{3});
    CHECK(e->Exists(0, "k"));
  }
  SUBCASE("allkeys-lru eviction") {
    o.max_memory = 16 * 1024;
    o.eviction = EvictionPolicy::kAllKeysLru;
    auto e = OpenEngine(o);
    for (int i = 0; i < 200; ++i)
      REQUIRE(e->Put("k" + std::to_string(i), RandomBytes(200, i), 0).ok());
    REQUIRE_FALSE(removed.empty());
    for (const auto& [key, why] : removed) {
      CHECK(why == KeyRemoval::kEvicted);
      CHECK_FALSE(e->Exists(key));
    }
    CHECK(e->KeyCount() + removed.size() == 200);
  }
}

}  // namespace dynakv::storage
