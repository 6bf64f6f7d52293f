// Durability: clean reopen, a killed process, torn and corrupt log tails, FLUSHALL.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

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

std::string ValueFor(int i) { return "value-" + std::to_string(i) + std::string(i % 200, 'p'); }

void WriteNumbered(Engine* e, int n, std::int64_t expire_base) {
  for (int i = 0; i < n; ++i) {
    const std::int64_t expire = i % 4 == 0 ? expire_base + i : 0;
    REQUIRE(e->Put("key" + std::to_string(i), ValueFor(i), expire).ok());
  }
}

void CheckNumbered(Engine* e, int n, std::int64_t expire_base) {
  for (int i = 0; i < n; ++i) {
    const std::string key = "key" + std::to_string(i);
    REQUIRE(GetString(e, key) == ValueFor(i));
    CHECK(e->GetExpireAt(key) == (i % 4 == 0 ? expire_base + i : 0));
  }
}

std::string LastLogFile(const std::string& dir) {
  std::string last;
  for (const auto& ent : std::filesystem::directory_iterator(dir)) {
    const std::string name = ent.path().filename().string();
    // Past its magic, a log without records is empty.
    if (name.rfind("log-", 0) == 0 && std::filesystem::file_size(ent.path()) > kLogFileMagicSize &&
        name > last) {
      last = name;
    }
  }
  return dir + "/" + last;
}

}  // namespace

TEST_CASE("recovery: clean close and reopen keeps everything") {
  TempDir dir;
  FakeClock clock;
  const std::int64_t base = clock.now_ms + 100000;
  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    WriteNumbered(e.get(), 500, base);
    CHECK(e->Delete("key1"));
    CHECK(e->SetExpireAt("key2", base));
    CHECK(e->SetExpireAt("key4", 0));
  }
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Stats().recovered_records > 0);
  CHECK(e->Stats().truncated_log_bytes == 0);
  CHECK(e->KeyCount() == 499);
  CHECK(e->Stats().keys_with_expiry == 125 + 1 - 1);
  CHECK_FALSE(e->Exists("key1"));
  CHECK(e->GetExpireAt("key2") == base);
  CHECK(e->GetExpireAt("key4") == 0);
  CHECK(GetString(e.get(), "key499") == ValueFor(499));
}

TEST_CASE("recovery: a process killed after FlushLog under fsync=always loses nothing") {
  TempDir dir;
  FakeClock clock;
  const std::int64_t base = clock.now_ms + 100000;
  constexpr int kKeys = 1000;
  Options o = TestOptions(dir.path(), &clock);
  o.fsync = FsyncPolicy::kAlways;
  bool expect_segments = false;
  SUBCASE("log only") {}
  SUBCASE("with checkpoints and compactions under way") {
    o.max_memory = 16 * 1024;
    o.compaction_trigger = 2;
    expect_segments = true;
  }
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: acknowledge writes the way the server does, then die without any cleanup.
    std::unique_ptr<Engine> e;
    if (!Engine::Open(o, &e).ok()) ::_exit(2);
    for (int i = 0; i < kKeys; ++i) {
      const std::int64_t expire = i % 4 == 0 ? base + i : 0;
      if (!e->Put("key" + std::to_string(i), ValueFor(i), expire).ok()) ::_exit(3);
      if (i % 7 == 0 && !e->FlushLog().ok()) ::_exit(4);
      if (i % 50 == 0) e->Tick();
    }
    if (!e->FlushLog().ok()) ::_exit(4);
    ::raise(SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  int segment_files = 0;
  for (const auto& ent : std::filesystem::directory_iterator(dir.path())) {
    segment_files += ent.path().extension() == ".sst";
  }
  CHECK((segment_files > 0) == expect_segments);
  auto e = OpenEngine(o);
  CHECK(e->KeyCount() == kKeys);
  CheckNumbered(e.get(), kKeys, base);
}

TEST_CASE("recovery: a torn log tail is cut off and earlier records survive") {
  TempDir dir;
  FakeClock clock;
  const std::int64_t base = clock.now_ms + 100000;
  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    WriteNumbered(e.get(), 200, base);
    REQUIRE(e->Put("last", "the final record", 0).ok());
  }
  const std::string log = LastLogFile(dir.path());
  const auto size = std::filesystem::file_size(log);

  SUBCASE("truncated by a few bytes") { std::filesystem::resize_file(log, size - 5); }
  SUBCASE("a flipped byte in the last record") {
    const int fd = ::open(log.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    char c;
    REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(size - 3)) == 1);
    c = static_cast<char>(c ^ 1);
    REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(size - 3)) == 1);
    ::close(fd);
  }
  SUBCASE("garbage appended after the last record") {
    std::filesystem::resize_file(log, size + 100);  // zeros, as after a crash with a lost write
  }

  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    CHECK(e->Stats().truncated_log_bytes > 0);
    CheckNumbered(e.get(), 200, base);
    CHECK(e->KeyCount() >= 200);
    // The engine keeps working and the new state survives another reopen.
    REQUIRE(e->Put("after", "crash", 0).ok());
  }
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Stats().truncated_log_bytes == 0);
  CheckNumbered(e.get(), 200, base);
  CHECK(GetString(e.get(), "after") == "crash");
}

TEST_CASE("recovery: Clear empties everything, also after reopen") {
  TempDir dir;
  FakeClock clock;
  {
    auto e = OpenEngine(TestOptions(dir.path(), &clock));
    WriteNumbered(e.get(), 300, 0);
    e->Clear();
    CHECK(e->KeyCount() == 0);
    CHECK_FALSE(e->Exists("key1"));
    REQUIRE(e->Put("fresh", "1", 0).ok());
  }
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->KeyCount() == 1);
  CHECK_FALSE(e->Exists("key1"));
  CHECK(GetString(e.get(), "fresh") == "1");
}

}  // namespace dynakv::storage
