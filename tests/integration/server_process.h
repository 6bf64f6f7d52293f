// A server process under test: started on a free loopback port with a fresh data dir, restarted
// on the same port and dir, stopped gracefully or killed; never outlives the test.
//
// The binary comes from env DYNAKV_SERVER (ctest sets it to dynakv-server). Pointing it at a real
// redis-server runs the same tests against Redis 7, which is how the expected replies were
// validated: flags are translated and tests of dynakv-only features skip themselves.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dynakv::itest {

// The binary under test: env DYNAKV_SERVER.
std::string ServerUnderTest();
// True when DYNAKV_SERVER is a real redis-server: dynakv-only checks are skipped then.
bool TestingRealRedis();
// The installed redis-server, the reference the differential test compares against.
std::string ReferenceRedis();

// Flags use dynakv's (Redis-style) names; see conf/node.toml.
using Flags = std::vector<std::string>;

class ServerProcess {
 public:
  // Picks a free loopback port and a fresh data dir; does not start the process. A redis-server
  // `binary` gets the flags translated to its own.
  explicit ServerProcess(Flags flags = {}, std::string binary = ServerUnderTest());
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the process (again, after Stop/Kill: same port and dir) and waits until it answers.
  void Start();
  // Starts the process without waiting for it to answer on port(): for a server that serves
  // only TLS (`--port 0`), which the caller polls itself.
  void Launch();
  // The next Start runs the server under this RLIMIT_NOFILE (soft, hard), without the privilege
  // to raise the hard limit (as an unprivileged user runs it).
  void SetOpenFilesLimit(std::uint64_t soft, std::uint64_t hard) {
    nofile_soft_ = soft;
    nofile_hard_ = hard;
  }
  // For a server that must refuse to start (bad flags or config): spawns it and returns its wait
  // status, or -1 if it still runs after `timeout` (it is then killed).
  int StartExpectingExit(std::chrono::milliseconds timeout);
  // SIGTERM, then waits for the exit; checks the process exits with status 0.
  void Stop();
  // SIGKILL and reap: a crash as far as the data dir is concerned.
  void Kill();
  // Waits (bounded) for a process that was told to exit by other means (SHUTDOWN) and returns its
  // raw wait status, or -1 when it did not exit in time (it is then killed).
  int WaitExit(std::chrono::milliseconds timeout);
  // True while the process runs; reaps it (and logs why) if it died.
  bool Alive();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return data_dir_; }
  // Resident set size from /proc/<pid>/statm.
  std::uint64_t RssBytes() const;
  // The peak resident set size so far (VmHWM in /proc/<pid>/status).
  std::uint64_t PeakRssBytes() const;
  // The last `bytes` of the server's log (its stdout and stderr).
  std::string LogTail(std::size_t bytes = 4096) const;

 private:
  std::vector<std::string> Argv() const;
  void Spawn();
  bool WaitReady(std::chrono::milliseconds timeout);
  bool Reap(std::chrono::milliseconds timeout, int* status);

  Flags flags_;
  std::string binary_;
  std::string root_dir_;  // holds data/ and server.log
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::uint64_t nofile_soft_ = 0;  // 0: inherit the test's limit
  std::uint64_t nofile_hard_ = 0;
};

}  // namespace dynakv::itest
