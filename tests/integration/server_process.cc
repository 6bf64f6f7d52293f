#include "server_process.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "client.h"

namespace dynakv::itest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Looks up `name` in dynakv-style flags ("--name value"); empty when absent.
std::string FlagValue(const Flags& flags, std::string_view name) {
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == name) return flags[i + 1];
  }
  return {};
}

// redis-server takes the same "--name value" syntax for the knobs both share. dynakv has 16
// databases by default as Redis (a --databases flag passes through), durability through its
// commit log only, and a default eviction policy, offload, that
// keeps every key readable: an unbounded Redis is the closest match to that. Knobs of dynakv's
// storage engine have no Redis counterpart and are left out.
std::vector<std::string> TranslateForRedis(const Flags& flags) {
  std::string policy = FlagValue(flags, "--maxmemory-policy");
  bool drop_maxmemory = policy.empty() || policy == "offload";
  std::vector<std::string> out = {"--save",      "",  "--appendonly", "yes",
                                  "--databases", "16", "--daemonize", "no"};
  for (std::size_t i = 0; i + 1 < flags.size(); i += 2) {
    const std::string& name = flags[i];
    if (name == "--config") FAIL("--config has no redis-server equivalent in this harness");
    if (drop_maxmemory && (name == "--maxmemory" || name == "--maxmemory-policy")) continue;
    if (name == "--log-checkpoint-bytes" || name == "--compression-threshold") continue;
    out.push_back(name);
    out.push_back(flags[i + 1]);
  }
  return out;
}

bool IsRedis(const std::string& binary) {
  return std::filesystem::path(binary).filename().string().starts_with("redis-server");
}

}  // namespace

std::string ServerUnderTest() {
  const char* path = std::getenv("DYNAKV_SERVER");
  return path == nullptr ? std::string() : std::string(path);
}

bool TestingRealRedis() { return IsRedis(ServerUnderTest()); }

std::string ReferenceRedis() {
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "/usr/bin" : path;
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = std::min(dirs.find(':', start), dirs.size());
    std::string candidate = dirs.substr(start, end - start) + "/redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

ServerProcess::ServerProcess(Flags flags, std::string binary)
    : flags_(std::move(flags)), binary_(std::move(binary)) {
  REQUIRE_MESSAGE(!binary_.empty(), "set DYNAKV_SERVER to the server binary");
  REQUIRE_MESSAGE(access(binary_.c_str(), X_OK) == 0, "not executable: ", binary_);
  REQUIRE(flags_.size() % 2 == 0);
  std::string templ = (std::filesystem::temp_directory_path() / "dynakv-itest-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  root_dir_ = templ;
  data_dir_ = root_dir_ + "/data";
  log_path_ = root_dir_ + "/server.log";
  std::filesystem::create_directory(data_dir_);
  port_ = PickFreePort();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (std::getenv("DYNAKV_ITEST_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(root_dir_, ec);
  } else {
    std::cerr << "kept " << root_dir_ << "\n";
  }
}

std::vector<std::string> ServerProcess::Argv() const {
  std::vector<std::string> argv = {binary_, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                   "--dir", data_dir_};
  if (IsRedis(binary_)) {
    for (std::string& arg : TranslateForRedis(flags_)) argv.push_back(std::move(arg));
  } else {
    argv.insert(argv.end(), flags_.begin(), flags_.end());
  }
  return argv;
}

void ServerProcess::Spawn() {
  std::vector<std::string> args = Argv();
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(log_fd >= 0);
  pid_t parent = getpid();
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The server must not outlive a test binary killed by ctest's timeout.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    if (nofile_soft_ != 0) {
      // Root keeps CAP_SYS_RESOURCE through exec unless it leaves the bounding set: drop it, so
      // the server cannot lift the hard limit either (without the privilege to drop it, the
      // process did not have it in the first place).
      prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0);
      const rlimit limit{static_cast<rlim_t>(nofile_soft_), static_cast<rlim_t>(nofile_hard_)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(125);
    }
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;
}

void ServerProcess::Start() {
  REQUIRE_MESSAGE(pid_ < 0, "server already running");
  Spawn();
  bool ready = WaitReady(std::chrono::seconds(10));
  REQUIRE_MESSAGE(ready, "server did not answer PING within 10 s; log tail:\n", LogTail());
}

void ServerProcess::Launch() {
  REQUIRE_MESSAGE(pid_ < 0, "server already running");
  Spawn();
}

int ServerProcess::StartExpectingExit(milliseconds timeout) {
  REQUIRE_MESSAGE(pid_ < 0, "server already running");
  Spawn();
  return WaitExit(timeout);
}

bool ServerProcess::WaitReady(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!Alive()) return false;
    Reply pong = Client(port_, milliseconds(2000)).Command({"PING"});
    // Any reply but LOADING counts, NOAUTH included: the server is up and has its data.
    if (pong.type != Reply::Type::kIoError &&
        !(pong.IsError() && pong.str.starts_with("LOADING"))) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

bool ServerProcess::Reap(milliseconds timeout, int* status) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = waitpid(pid_, status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

void ServerProcess::Stop() {
  REQUIRE_MESSAGE(pid_ > 0, "server not running");
  kill(pid_, SIGTERM);
  int status = 0;
  if (!Reap(std::chrono::seconds(20), &status)) {
    kill(pid_, SIGKILL);
    Reap(std::chrono::seconds(5), &status);
    FAIL_CHECK("server did not exit within 20 s of SIGTERM; log tail:\n", LogTail());
    return;
  }
  CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "server did not exit 0 on SIGTERM (wait status ", status, "); log tail:\n",
                LogTail());
}

void ServerProcess::Kill() {
  REQUIRE_MESSAGE(pid_ > 0, "server not running");
  kill(pid_, SIGKILL);
  int status = 0;
  REQUIRE(Reap(std::chrono::seconds(10), &status));
}

int ServerProcess::WaitExit(milliseconds timeout) {
  if (pid_ < 0) return -1;
  int status = 0;
  if (Reap(timeout, &status)) return status;
  kill(pid_, SIGKILL);
  Reap(std::chrono::seconds(5), &status);
  return -1;
}

bool ServerProcess::Alive() {
  if (pid_ < 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  pid_ = -1;
  MESSAGE("server exited unexpectedly (wait status ", status, "); log tail:\n", LogTail());
  return false;
}

std::uint64_t ServerProcess::RssBytes() const {
  std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t ServerProcess::PeakRssBytes() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}

std::string ServerProcess::LogTail(std::size_t bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

}  // namespace dynakv::itest
