// A commit log corrupted in the middle after kill -9: the server refuses to start (exit 1) and
// says where, changing nothing; dynakv-check-log reports it and --fix cuts it, after which the
// server starts. In cluster mode, log-corruption-policy drop-and-repair starts with the damage
// cut, logged and counted; outside cluster mode that policy is refused.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;

namespace {

using std::chrono::seconds;

constexpr int kKeys = 10000;

std::string Key(int i) { return "lc:key:" + std::to_string(i); }
std::string Value(int i) { return "value-" + std::to_string(i) + std::string(i % 150, 'v'); }

// Pipelined SETs of Key(i) for i in [0, kKeys), each acknowledged.
void WriteKeys(Client& c) {
  constexpr int kBatch = 250;
  for (int start = 0; start < kKeys; start += kBatch) {
    for (int i = start; i < start + kBatch; ++i) c.Append({"SET", Key(i), Value(i)});
    for (int i = start; i < start + kBatch; ++i) REQUIRE(c.GetReply() == Reply::Status("OK"));
  }
}

// The server's (only non-empty) commit log.
std::string LogFile(const std::string& dir) {
  std::string best;
  std::uintmax_t best_size = 0;
  for (const auto& ent : std::filesystem::directory_iterator(dir)) {
    const std::string name = ent.path().filename().string();
    if (name.rfind("log-", 0) == 0 && name.ends_with(".log") && ent.file_size() > best_size) {
      best = ent.path().string();
      best_size = ent.file_size();
    }
  }
  REQUIRE(!best.empty());
  return best;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void FlipBitAtHalf(const std::string& path) {
  const auto off = static_cast<off_t>(std::filesystem::file_size(path) / 2);
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c;
  REQUIRE(::pread(fd, &c, 1, off) == 1);
  c = static_cast<char>(c ^ 0x04);
  REQUIRE(::pwrite(fd, &c, 1, off) == 1);
  ::close(fd);
}

struct ToolRun {
  int exit_code = -1;
  std::string output;
};

ToolRun RunCheckLog(const std::string& args) {
  const char* tool = std::getenv("DYNAKV_CHECK_LOG");
  REQUIRE_MESSAGE(tool != nullptr, "set DYNAKV_CHECK_LOG to the dynakv-check-log binary");
  const std::string command = "timeout 60 " + std::string(tool) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  ToolRun run;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) run.output.append(buf, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

bool ExitedWith(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

}  // namespace

TEST_CASE("a log corrupted mid-file stops the server; dynakv-check-log --fix cuts it") {
  if (TestingRealRedis()) return;
  ServerProcess server({"--appendfsync", "always"});
  server.Start();
  {
    Client c(server.port());
    WriteKeys(c);
  }
  server.Kill();
  const std::string log = LogFile(server.dir());
  FlipBitAtHalf(log);
  const std::string damaged = ReadFile(log);

  // Refused: exit 1, the message names the file and the offset, and nothing changed.
  const int status = server.StartExpectingExit(seconds(30));
  const std::string tail = server.LogTail(8192);
  CAPTURE(tail);
  CHECK(ExitedWith(status, 1));
  CHECK(tail.find("Can't open the data directory") != std::string::npos);
  CHECK(tail.find("Corruption: commit log " + log + ": bad record at offset ") !=
        std::string::npos);
  CHECK(tail.find("valid records") != std::string::npos);
  CHECK(tail.find("dynakv-check-log --fix " + server.dir()) != std::string::npos);
  CHECK(ReadFile(log) == damaged);

  // The tool's report changes nothing and exits 1.
  ToolRun report = RunCheckLog(server.dir());
  CAPTURE(report.output);
  CHECK(report.exit_code == 1);
  CHECK(report.output.find(log + ": CORRUPTION at offset ") != std::string::npos);
  CHECK(ReadFile(log) == damaged);
  ToolRun usage = RunCheckLog("--bogus");
  CHECK(usage.exit_code == 2);

  // --fix cuts at the bad record, keeping the bytes; then the tool finds nothing.
  ToolRun fix = RunCheckLog("--fix " + server.dir());
  CAPTURE(fix.output);
  CHECK(fix.exit_code == 0);
  CHECK(fix.output.find(log + ": cut at offset ") != std::string::npos);
  CHECK(ReadFile(log + ".corrupt") == damaged);
  CHECK(std::filesystem::file_size(log) < damaged.size());
  CHECK(RunCheckLog(server.dir()).exit_code == 0);

  // The server starts with what preceded the bad record.
  server.Start();
  Client c(server.port());
  const Reply size = c.Command({"DBSIZE"});
  CHECK(size.integer > kKeys / 3);
  CHECK(size.integer < kKeys);
  CHECK(c.Command({"GET", Key(0)}) == Reply::Bulk(Value(0)));
  server.Stop();
}

TEST_CASE("log-corruption-policy drop-and-repair needs cluster mode") {
  if (TestingRealRedis()) return;
  ServerProcess server({"--log-corruption-policy", "drop-and-repair"});
  const int status = server.StartExpectingExit(seconds(30));
  const std::string tail = server.LogTail();
  CAPTURE(tail);
  CHECK(ExitedWith(status, 1));
  CHECK(tail.find("log-corruption-policy drop-and-repair needs cluster-enabled yes") !=
        std::string::npos);
}

TEST_CASE("in cluster mode drop-and-repair starts with the damage cut, loudly") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(
      1, 1, Flags{"--appendfsync", "always", "--log-corruption-policy", "drop-and-repair"});
  cluster.Start();
  ServerProcess& node = cluster.node(0);
  {
    Client c(node.port());
    WriteKeys(c);
  }
  node.Kill();
  const std::string log = LogFile(node.dir());
  FlipBitAtHalf(log);
  const std::string damaged = ReadFile(log);

  node.Start();
  const std::string tail = node.LogTail(16384);
  CAPTURE(tail);
  CHECK(tail.find("CORRUPT COMMIT LOG DROPPED") != std::string::npos);
  CHECK(tail.find(log + ": cut at offset ") != std::string::npos);
  CHECK(tail.find("kept in " + log + ".corrupt") != std::string::npos);
  CHECK(ReadFile(log + ".corrupt") == damaged);
  Client c(node.port());
  CHECK(ReadInfoNumber(c, "persistence", "corrupt_logs_repaired") == 1);
  CHECK(ReadInfoNumber(c, "persistence", "corrupt_log_bytes_dropped") > 0);
  CHECK(ReadInfoNumber(c, "persistence", "corrupt_log_records_dropped") > kKeys / 3);
  CHECK(c.Command({"CONFIG", "GET", "log-corruption-policy"}) ==
        Reply::Array({Reply::Bulk("log-corruption-policy"), Reply::Bulk("drop-and-repair")}));
}
