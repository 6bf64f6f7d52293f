// The node under systemd's Type=notify, with this test in systemd's place: a NOTIFY_SOCKET (and
// WATCHDOG_USEC) in the environment the server inherits, and the datagrams it sends checked in
// order: READY=1 (with MAINPID and STATUS) only once the client port answers, WATCHDOG=1 at half
// the watchdog period, STOPPING=1 when SIGTERM or SHUTDOWN stops it, before a clean exit.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;

namespace {

// A datagram socket at a fresh path, exported as NOTIFY_SOCKET (and WATCHDOG_USEC) for the
// processes started while it lives.
class NotifySocket {
 public:
  explicit NotifySocket(const char* watchdog_usec) {
    dir_ = std::filesystem::temp_directory_path() / "dynakv-notify-XXXXXX";
    std::string templ = dir_.string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    dir_ = templ;
    const std::string path = (dir_ / "notify").string();
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof(addr.sun_path));
    path.copy(addr.sun_path, path.size());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    if (watchdog_usec != nullptr) setenv("WATCHDOG_USEC", watchdog_usec, 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The next datagram within `timeout`, or "" when none came.
  std::string Receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

  // Datagrams until one that has the line `line` (returned last); empty when it never came.
  std::vector<std::string> ReceiveUntil(const std::string& line,
                                        std::chrono::milliseconds timeout) {
    std::vector<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      const std::string message = Receive(left);
      if (message.empty()) break;
      got.push_back(message);
      if (HasLine(message, line)) return got;
    }
    return {};
  }

  static bool HasLine(const std::string& message, const std::string& line) {
    return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
  }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

TEST_CASE("READY=1 once the port answers, WATCHDOG=1 pings, STOPPING=1 on SIGTERM") {
  if (TestingRealRedis()) return;
  NotifySocket notify("400000");  // a 400 ms watchdog: a ping every 200 ms
  ServerProcess server;
  server.Launch();
  const std::vector<std::string> ready = notify.ReceiveUntil("READY=1", std::chrono::seconds(30));
  REQUIRE_MESSAGE(!ready.empty(), server.LogTail());
  // The listener was up before READY=1: a client connects and is served at once.
  Client client(server.port(), std::chrono::seconds(2));
  CHECK(client.Command({"PING"}) == Reply::Status("PONG"));
  CHECK(NotifySocket::HasLine(ready.back(), "MAINPID=" + std::to_string(server.pid())));
  CHECK(NotifySocket::HasLine(
      ready.back(), "STATUS=Ready to accept connections on port " + std::to_string(server.port())));
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  while (std::chrono::steady_clock::now() < until) {
    if (notify.Receive(std::chrono::milliseconds(300)) == "WATCHDOG=1") ++pings;
  }
  CHECK(pings >= 3);
  CHECK(pings <= 8);  // every 200 ms, not in a loop
  server.Stop();      // SIGTERM; checks exit status 0
  CHECK_FALSE(notify.ReceiveUntil("STOPPING=1", std::chrono::seconds(5)).empty());
}

TEST_CASE("SHUTDOWN sends STOPPING=1 too; without WATCHDOG_USEC no pings") {
  if (TestingRealRedis()) return;
  NotifySocket notify(nullptr);
  ServerProcess server;
  server.Start();
  CHECK_FALSE(notify.ReceiveUntil("READY=1", std::chrono::seconds(10)).empty());
  CHECK(notify.Receive(std::chrono::milliseconds(500)).empty());  // no WATCHDOG=1
  Client client(server.port());
  client.Command({"SHUTDOWN"});
  CHECK(server.WaitExit(std::chrono::seconds(10)) == 0);
  const std::vector<std::string> rest = notify.ReceiveUntil("STOPPING=1", std::chrono::seconds(5));
  REQUIRE_FALSE(rest.empty());
  for (const std::string& message : rest) CHECK(message != "WATCHDOG=1");
}

TEST_CASE("a node that cannot start never says READY=1") {
  if (TestingRealRedis()) return;
  NotifySocket notify(nullptr);
  ServerProcess holder;
  holder.Start();
  ServerProcess second({"--port", std::to_string(holder.port())});
  const int status = second.StartExpectingExit(std::chrono::seconds(10));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  // holder's own READY=1 (it started under the same socket) is the only one.
  std::vector<std::string> messages;
  for (std::string m; !(m = notify.Receive(std::chrono::milliseconds(300))).empty();) {
    messages.push_back(m);
  }
  int readies = 0;
  for (const std::string& m : messages) readies += NotifySocket::HasLine(m, "READY=1") ? 1 : 0;
  CHECK(readies == 1);
  holder.Stop();
}

}  // namespace
