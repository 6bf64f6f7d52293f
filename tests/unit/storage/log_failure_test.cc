// A commit log that cannot be written or synced: writes are never acknowledged past what the log
// holds, the engine refuses writes until a retry succeeds, and a failed fdatasync is not retried
// as if the data were safe (the engine checkpoints instead).
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include "commit_log.h"
#include "test_util.h"

namespace dynakv::storage {

namespace {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;

// Fails the commit log's write() or fdatasync() calls with the chosen errno while armed.
struct Faults {
  std::atomic<int> write_errno{0};
  std::atomic<int> sync_errno{0};
  std::atomic<int> syncs{0};
  CommitLog::FaultHook Hook() {
    return [this](std::string_view call) {
      if (call == "sync") {
        ++syncs;
        return sync_errno.load();
      }
      return write_errno.load();
    };
  }
};

Options FaultyOptions(const std::string& dir, FakeClock* clock, Faults* faults,
                      FsyncPolicy policy) {
  Options o = testing::TestOptions(dir, clock);
  o.fsync = policy;
  o.log_retry_interval_ms = 0;
  o.log_fault_hook = faults->Hook();
  return o;
}

}  // namespace

TEST_CASE("a failed log write acknowledges nothing and refuses writes until it succeeds") {
  for (FsyncPolicy policy : {FsyncPolicy::kEverySec, FsyncPolicy::kAlways, FsyncPolicy::kNo}) {
    TempDir dir;
    FakeClock clock;
    Faults faults;
    {
      auto engine = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, policy));
      REQUIRE(engine->Put("before", "1", 0).ok());
      REQUIRE(engine->FlushLog().ok());
      CHECK(engine->DurableLogEnd() == engine->LogEnd());

      faults.write_errno = ENOSPC;
      REQUIRE(engine->Put("lost-unless-retried", "2", 0).ok());
      CHECK(engine->Delete("before"));
      const std::uint64_t end = engine->LogEnd();
      const Status failed = engine->FlushLog();
      CHECK_FALSE(failed.ok());
      CHECK(failed.os_errno() == ENOSPC);
      CHECK(engine->DurableLogEnd() < end);
      CHECK(engine->LogStatus().os_errno() == ENOSPC);
      CHECK(engine->Stats().log_error.find("No space left on device") != std::string::npos);
      // Refused while the log is failed; reads go on.
      CHECK(engine->Put("refused", "3", 0).os_errno() == ENOSPC);
      CHECK(GetString(engine.get(), "lost-unless-retried") == "2");
      CHECK_FALSE(engine->FlushLog().ok());  // still failing

      faults.write_errno = 0;  // space freed
      CHECK(engine->FlushLog().ok());
      CHECK(engine->LogStatus().ok());
      CHECK(engine->DurableLogEnd() == engine->LogEnd());
      CHECK(engine->Put("after", "4", 0).ok());
      CHECK(engine->FlushLog().ok());
    }
    auto reopened = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, policy));
    CHECK(GetString(reopened.get(), "lost-unless-retried") == "2");
    CHECK_FALSE(reopened->Exists("before"));  // the acknowledged DEL stays done
    CHECK_FALSE(reopened->Exists("refused"));
    CHECK(GetString(reopened.get(), "after") == "4");
  }
}

TEST_CASE("a failed fdatasync is never retried as proof: the engine checkpoints to a new log") {
  TempDir dir;
  FakeClock clock;
  Faults faults;
  {
    auto engine = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, FsyncPolicy::kAlways));
    REQUIRE(engine->Put("a", "1", 0).ok());
    REQUIRE(engine->FlushLog().ok());

    faults.sync_errno = EIO;
    REQUIRE(engine->Put("b", "2", 0).ok());
    REQUIRE(engine->Delete("a"));
    const std::uint64_t end = engine->LogEnd();
    CHECK(engine->FlushLog().os_errno() == EIO);
    CHECK(engine->DurableLogEnd() < end);

    // The disk answers again, but the failed file is not trusted: a sync that now succeeds on it
    // must not acknowledge the writes. The retry checkpoints into a segment and a new log.
    faults.sync_errno = 0;
    const std::uint64_t checkpoints = engine->Stats().checkpoints;
    CHECK(engine->FlushLog().ok());
    CHECK(engine->Stats().checkpoints == checkpoints + 1);
    CHECK(engine->DurableLogEnd() >= end);
    CHECK(engine->LogStatus().ok());
    CHECK(engine->Put("c", "3", 0).ok());
    CHECK(engine->FlushLog().ok());
    CHECK(engine->DurableLogEnd() == engine->LogEnd());
  }
  auto reopened = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, FsyncPolicy::kAlways));
  CHECK_FALSE(reopened->Exists("a"));
  CHECK(GetString(reopened.get(), "b") == "2");
  CHECK(GetString(reopened.get(), "c") == "3");
}

TEST_CASE("a failed background fdatasync under everysec stops writes until a checkpoint") {
  TempDir dir;
  FakeClock clock;
  Faults faults;
  {
    auto engine = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, FsyncPolicy::kEverySec));
    faults.sync_errno = EIO;
    REQUIRE(engine->Put("k", "v", 0).ok());
    REQUIRE(engine->FlushLog().ok());  // written: everysec acknowledges now
    // Wait for the once-a-second sync thread to try and fail.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    Status s;
    while (std::chrono::steady_clock::now() < deadline) {
      REQUIRE(engine->Put("tick", "x", 0).ok());  // gives the sync thread something to sync
      s = engine->FlushLog();
      if (!s.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_FALSE(s.ok());
    CHECK(s.os_errno() == EIO);
    CHECK(engine->Put("refused", "1", 0).os_errno() == EIO);
    faults.sync_errno = 0;
    const std::uint64_t checkpoints = engine->Stats().checkpoints;
    CHECK(engine->FlushLog().ok());
    CHECK(engine->Stats().checkpoints == checkpoints + 1);
    CHECK(engine->Put("after", "2", 0).ok());
    CHECK(engine->FlushLog().ok());
  }
  auto reopened = OpenEngine(FaultyOptions(dir.path(), &clock, &faults, FsyncPolicy::kEverySec));
  CHECK(GetString(reopened.get(), "k") == "v");
  CHECK(GetString(reopened.get(), "after") == "2");
  CHECK_FALSE(reopened->Exists("refused"));
}

TEST_CASE("retries of a failed log are rate-limited") {
  TempDir dir;
  FakeClock clock;
  Faults faults;
  Options o = FaultyOptions(dir.path(), &clock, &faults, FsyncPolicy::kNo);
  o.log_retry_interval_ms = 60000;
  auto engine = OpenEngine(o);
  faults.write_errno = ENOSPC;
  REQUIRE(engine->Put("k", "v", 0).ok());
  CHECK_FALSE(engine->FlushLog().ok());
  faults.write_errno = 0;
  // Within the interval the engine answers from its state instead of trying the disk again.
  CHECK_FALSE(engine->FlushLog().ok());
  CHECK(engine->DurableLogEnd() < engine->LogEnd());
}

TEST_CASE("creating a log where no file can be made fails cleanly") {
  // Regression: the half-made log's destructor synced a null file handle (SIGSEGV at start on a
  // full disk).
  TempDir dir;
  std::unique_ptr<CommitLog> log;
  const Status s = CommitLog::Create(dir.path() + "/no/such/dir", 1, FsyncPolicy::kAlways, &log);
  CHECK_FALSE(s.ok());
  CHECK(log == nullptr);
}

}  // namespace dynakv::storage
