// Cluster bus connections that never finish their handshake, with real processes: two thousand
// idle connections to one node's bus must not keep a restarted member out (writes through every
// node, W=3, succeed), are closed by the handshake timeout, counted in INFO cluster and logged
// without flooding the log.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

constexpr int kHandshakeTimeoutMs = 2000;
constexpr std::size_t kIdle = 2000;
// cluster/bus_server.h: BusServer::kMaxHandshaking.
constexpr long long kMaxHandshaking = 128;

// Connections that never send a byte, as the probe opened them.
class IdleConnections {
 public:
  ~IdleConnections() {
    for (int fd : fds_) close(fd);
  }
  void Open(int port, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      REQUIRE(fd >= 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      if (!connected) close(fd);
      REQUIRE_MESSAGE(connected, "connect: ", errno);
      fds_.push_back(fd);
    }
  }
  // How many the server has not closed (no EOF or reset seen yet).
  std::size_t StillOpen() const {
    std::size_t open = 0;
    for (int fd : fds_) {
      char byte;
      const ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++open;
    }
    return open;
  }
  std::size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

void RaiseFdLimit(rlim_t wanted) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  REQUIRE_MESSAGE(limit.rlim_cur >= wanted, "the fd limit is too low for this test");
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("idle bus connections do not keep a restarted member out, and are closed in time") {
  if (TestingRealRedis()) return;
  RaiseFdLimit(kIdle + 1024);
  LocalCluster cluster(3, 3,
                       {"--cluster-handshake-timeout-ms", std::to_string(kHandshakeTimeoutMs),
                        "--cluster-request-timeout-ms", "500"});
  cluster.Start();
  Client a(cluster.node(0).port());
  CHECK(ReadInfoNumber(a, "cluster", "cluster_handshake_timeout_ms") == kHandshakeTimeoutMs);
  const int bus = cluster.node(0).port() + cluster.bus_offset();

  // The probe: a flood of connections to n1's bus that never say HELLO.
  IdleConnections idle;
  idle.Open(bus, kIdle);
  CHECK(WaitFor(
      [&] { return ReadInfoNumber(a, "cluster", "cluster_bus_rejected_connections") > 0; }));
  CHECK(ReadInfoNumber(a, "cluster", "cluster_bus_connections_handshaking") <= kMaxHandshaking);

  // n2 crashes; more idle connections arrive while it is away, then it comes back.
  cluster.node(1).Kill();
  idle.Open(bus, 100);
  cluster.node(1).Start();

  // Writes through every node reach all three replicas, n1 included.
  for (int via = 0; via < cluster.size(); ++via) {
    CAPTURE(via);
    Client client(cluster.node(via).port());
    const std::string first = "first" + std::to_string(via);
    CHECK(UntilAvailable(client, {"SET", first, "v", "W", "3"}) == Reply::Status("OK"));
    int failed = 0;
    for (int i = 0; i < 20; ++i) {
      const std::string key = "k" + std::to_string(via) + "-" + std::to_string(i);
      failed += client.Command({"SET", key, "v", "W", "3"}) == Reply::Status("OK") ? 0 : 1;
    }
    CHECK(failed == 0);
  }

  // The idle connections are all closed within the handshake timeout (and a tick).
  const auto flood_done = std::chrono::steady_clock::now();
  CHECK(WaitFor([&] { return idle.StillOpen() == 0; },
                std::chrono::milliseconds(kHandshakeTimeoutMs * 3)));
  CHECK(std::chrono::steady_clock::now() - flood_done <
        std::chrono::milliseconds(kHandshakeTimeoutMs * 2));
  CHECK(ReadInfoNumber(a, "cluster", "cluster_bus_connections_handshaking") == 0);
  const long long timeouts = ReadInfoNumber(a, "cluster", "cluster_bus_handshake_timeouts");
  const long long rejected = ReadInfoNumber(a, "cluster", "cluster_bus_rejected_connections");
  CHECK(timeouts > 0);
  CHECK(rejected > 0);
  CHECK(static_cast<std::size_t>(timeouts + rejected) == idle.size());
  // Only the members' connections remain (n2 and n3; n2's from before the crash is gone).
  CHECK(WaitFor([&] { return ReadInfoNumber(a, "cluster", "cluster_bus_connections") == 2; }));

  // Logged with the address, but a line per kind and interval, not per connection.
  const std::string log = cluster.node(0).LogTail(std::size_t{1} << 20);
  CHECK(Count(log, "Cluster bus: closing the connection from 127.0.0.1:") >= 2);
  CHECK(Count(log, "Cluster bus: closing the connection from 127.0.0.1:") <= 8);
  CHECK(log.find("connections are in their handshake (the limit)") != std::string::npos);
  CHECK(log.find("no handshake within 2000 ms") != std::string::npos);
}
