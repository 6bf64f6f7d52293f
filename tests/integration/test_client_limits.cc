// Limits on what one client can make the node hold: its output buffer (a small request must not
// build a huge reply) and the number of connections (maxclients within the file-descriptor limit).
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using std::chrono::seconds;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
const char kOutputLimitLog[] =
    "scheduled to be closed ASAP for overcoming of output buffer limits.";

dynakv::itest::Flags LowOutputLimit() {
  return {"--client-output-buffer-hard-limit", "8mb", "--client-output-buffer-soft-limit", "4mb"};
}

// Sends `request` on a fresh connection and expects the server to close it without a complete
// reply: the reply would pass the hard limit.
void ExpectClosedForOutputLimit(int port, const std::string& request) {
  RawSocket raw(port);
  REQUIRE(raw.connected());
  REQUIRE(raw.Send(request));
  bool closed = false;
  const std::string got = raw.ReadUntilClosed(seconds(20), &closed);
  CHECK(closed);
  CHECK(got.size() < 9 * kMiB);
}

}  // namespace

TEST_CASE("a 9 KB MGET of one 1 MB key 1000 times is cut at the output limit, in bounded RSS") {
  if (dynakv::itest::TestingRealRedis()) return;  // Redis's limits are set differently
  ServerFixture f(LowOutputLimit());
  const std::string value = dynakv::itest::RandomBytes(kMiB, 7);  // incompressible
  REQUIRE(f.client.Command({"SET", "big", value}) == Reply::Status("OK"));

  std::vector<std::string> mget = {"MGET"};
  for (int i = 0; i < 1000; ++i) mget.push_back("big");
  const std::string request = EncodeCommand(mget);
  CHECK(request.size() < 10 * 1024);
  ExpectClosedForOutputLimit(f.server.port(), request);

  // The node stays up and serves everyone else.
  REQUIRE(f.server.Alive());
  CHECK(f.client.Command({"PING"}) == Reply::Status("PONG"));
  CHECK(f.client.Command({"GET", "big"}) == Reply::Bulk(value));
  Client other(f.server.port());
  CHECK(other.Command({"MGET", "big", "big"}) ==
        Reply::Array({Reply::Bulk(value), Reply::Bulk(value)}));
  // The whole reply would have been 1 GB; it stopped growing at the 8 MB limit.
  const std::uint64_t peak = f.server.PeakRssBytes();
  CAPTURE(peak);
  CHECK(peak > 0);
  CHECK(peak < 100 * kMiB);
  CHECK(f.server.LogTail(64 * 1024).find(kOutputLimitLog) != std::string::npos);
}

TEST_CASE("cluster mode: the coordinator's reply is cut at the client's output limit too") {
  if (dynakv::itest::TestingRealRedis()) return;
  dynakv::itest::LocalCluster cluster(1, 1, LowOutputLimit());
  cluster.Start();
  dynakv::itest::ServerProcess& node = cluster.node(0);
  Client client(node.port());
  const std::string value = dynakv::itest::RandomBytes(kMiB, 9);
  REQUIRE(client.Command({"SET", "big", value}) == Reply::Status("OK"));
  std::vector<std::string> mget = {"MGET"};
  for (int i = 0; i < 1000; ++i) mget.push_back("big");
  ExpectClosedForOutputLimit(node.port(), EncodeCommand(mget));
  REQUIRE(node.Alive());
  CHECK(client.Command({"GET", "big"}) == Reply::Bulk(value));
  const std::uint64_t peak = node.PeakRssBytes();
  CAPTURE(peak);
  CHECK(peak < 100 * kMiB);
  CHECK(node.LogTail(64 * 1024).find(kOutputLimitLog) != std::string::npos);
}

TEST_CASE("GETRANGE, KEYS and SCAN replies past the output limit close the client too") {
  if (dynakv::itest::TestingRealRedis()) return;
  ServerFixture f(LowOutputLimit());
  // A pipeline of replies pauses at the soft limit until the client reads (backpressure): only
  // one reply bigger than the hard limit passes it.
  const std::string value = dynakv::itest::RandomBytes(9 * kMiB, 8);
  REQUIRE(f.client.Command({"SET", "huge", value}) == Reply::Status("OK"));
  // 12 MB of key names.
  for (int i = 0; i < 12; ++i) {
    const std::string key = std::to_string(i) + std::string(kMiB, 'k');
    REQUIRE(f.client.Command({"SET", key, "v"}) == Reply::Status("OK"));
  }

  SUBCASE("GETRANGE") {
    ExpectClosedForOutputLimit(f.server.port(), EncodeCommand({"GETRANGE", "huge", "0", "-1"}));
  }
  SUBCASE("KEYS") { ExpectClosedForOutputLimit(f.server.port(), EncodeCommand({"KEYS", "*"})); }
  SUBCASE("SCAN") {
    ExpectClosedForOutputLimit(f.server.port(),
                               EncodeCommand({"SCAN", "0", "MATCH", "*k", "COUNT", "100000"}));
  }
  REQUIRE(f.server.Alive());
  CHECK(f.client.Command({"GETRANGE", "huge", "0", "9"}) == Reply::Bulk(value.substr(0, 10)));
  CHECK(f.server.PeakRssBytes() < 100 * kMiB);
  CHECK(f.server.LogTail(64 * 1024).find(kOutputLimitLog) != std::string::npos);
}

namespace {

constexpr char kMaxClientsError[] = "-ERR max number of clients reached\r\n";

rlim_t OwnHardLimit();

// Whether this test process may open a thousand sockets and start a server under a 1024 limit.
bool CanRunUnderLimit() {
  const rlim_t hard = OwnHardLimit();
  if (hard != RLIM_INFINITY && hard < 2048) {
    MESSAGE("skipped: the hard open-file limit is below 2048");
    return false;
  }
  return true;
}

// This test process opens a thousand sockets: let it, whatever soft limit it was started with.
void RaiseOwnOpenFilesLimit() {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

rlim_t OwnHardLimit() {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  return limit.rlim_max;
}

// The "Max open files" soft limit of process `pid`, from /proc/<pid>/limits.
std::uint64_t OpenFilesLimitOf(pid_t pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream fields(line.substr(std::string("Max open files").size()));
    std::uint64_t soft = 0;
    fields >> soft;
    return soft;
  }
  return 0;
}

// Each connection either works (PING answered) or was told it is one too many: none is closed
// without a word. Returns how many work.
int CountWorking(std::vector<std::unique_ptr<RawSocket>>& sockets, int expect_working) {
  int working = 0;
  for (int i = 0; i < static_cast<int>(sockets.size()); ++i) {
    CAPTURE(i);
    RawSocket& socket = *sockets[static_cast<std::size_t>(i)];
    REQUIRE(socket.connected());
    if (i < expect_working) {
      REQUIRE(socket.Send(EncodeCommand({"PING"})));
      const std::string reply = socket.ReadUntil("\r\n", seconds(5));
      CHECK(reply == "+PONG\r\n");
      if (reply == "+PONG\r\n") ++working;
    } else {
      bool closed = false;
      CHECK(socket.ReadUntilClosed(seconds(5), &closed) == kMaxClientsError);
      CHECK(closed);
    }
  }
  return working;
}

}  // namespace

TEST_CASE("maxclients above the open-file limit is lowered to fit it, as Redis does") {
  if (dynakv::itest::TestingRealRedis()) return;  // root may raise Redis's hard limit
  if (!CanRunUnderLimit()) return;
  RaiseOwnOpenFilesLimit();
  dynakv::itest::ServerProcess server({"--maxclients", "10000"});
  server.SetOpenFilesLimit(1024, 1024);
  server.Start();
  const std::string log = server.LogTail(64 * 1024);
  CHECK(log.find("You requested maxclients of 10000 requiring at least 10032 max file "
                 "descriptors.") != std::string::npos);
  CHECK(log.find("Server can't set maximum open files to 10032 because of OS error: ") !=
        std::string::npos);
  CHECK(log.find("Current maximum open files is 1024. maxclients has been reduced to 992 to "
                 "compensate for low ulimit. If you need higher maxclients increase "
                 "'ulimit -n'.") != std::string::npos);
  {
    Client client(server.port());
    CHECK(client.Command({"CONFIG", "GET", "maxclients"}) == Reply::Bulks({"maxclients", "992"}));
    CHECK(client.Command({"CONFIG", "SET", "maxclients", "2000"}) ==
          Reply::Error("ERR CONFIG SET failed (possibly related to argument 'maxclients') - The "
                       "operating system is not able to handle the specified number of clients, "
                       "try with 992"));
    CHECK(client.Command({"CONFIG", "GET", "maxclients"}) == Reply::Bulks({"maxclients", "992"}));
  }
  // Let the server see that client go before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int i = 0; i < 1000; ++i) sockets.push_back(std::make_unique<RawSocket>(server.port()));
  CHECK(CountWorking(sockets, 992) == 992);
  REQUIRE(server.Alive());
  REQUIRE(sockets[0]->Send(EncodeCommand({"INFO", "stats"})));
  CHECK(sockets[0]
            ->ReadUntil("rejected_connections:8\r\n", seconds(5))
            .ends_with("rejected_connections:8\r\n"));
  // Lowering it needs nothing from the system.
  REQUIRE(sockets[1]->Send(EncodeCommand({"CONFIG", "SET", "maxclients", "500"})));
  CHECK(sockets[1]->ReadUntil("\r\n", seconds(5)) == "+OK\r\n");
}

TEST_CASE("out of descriptors below maxclients, a client is refused with the error, not dropped") {
  if (dynakv::itest::TestingRealRedis()) return;
  if (!CanRunUnderLimit()) return;
  RaiseOwnOpenFilesLimit();
  dynakv::itest::ServerProcess server;
  server.SetOpenFilesLimit(1024, 1024);
  server.Start();
  // The node's limit drops under it while it runs: accept() itself fails with EMFILE long
  // before maxclients (992) is reached.
  const rlimit lowered{100, 1024};
  REQUIRE(prlimit(server.pid(), RLIMIT_NOFILE, &lowered, nullptr) == 0);
  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int i = 0; i < 150; ++i) sockets.push_back(std::make_unique<RawSocket>(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // every one accepted by now
  int working = 0;
  int refused = 0;
  for (auto& socket : sockets) {
    REQUIRE(socket->connected());
    // A refused connection has its error waiting; a working one has nothing to say yet.
    const std::string first = socket->ReadUntil("\r\n", std::chrono::milliseconds(20));
    if (first.empty()) {
      REQUIRE(socket->Send(EncodeCommand({"PING"})));
      const std::string pong = socket->ReadUntil("\r\n", seconds(5));
      CHECK(pong == "+PONG\r\n");
      working += pong == "+PONG\r\n" ? 1 : 0;
    } else {
      CHECK(first == kMaxClientsError);
      ++refused;
    }
  }
  CAPTURE(working);
  CAPTURE(refused);
  CHECK(working > 50);
  CHECK(refused > 0);
  CHECK(working + refused == 150);
  REQUIRE(server.Alive());
  CHECK(server.LogTail(64 * 1024).find("Accepting client connection: Too many open files") !=
        std::string::npos);
}

TEST_CASE("maxclients stays as configured when the open-file limit can be raised") {
  if (dynakv::itest::TestingRealRedis()) return;
  const rlim_t hard = OwnHardLimit();
  if (hard != RLIM_INFINITY && hard < 4032) {
    MESSAGE("skipped: the hard open-file limit is below 4032");
    return;
  }
  const rlim_t server_hard = hard == RLIM_INFINITY ? 65536 : hard;
  dynakv::itest::ServerProcess server({"--maxclients", "3000"});
  server.SetOpenFilesLimit(1024, server_hard);
  server.Start();
  CHECK(server.LogTail().find("Increased maximum number of open files to 3032 (it was "
                              "originally set to 1024).") != std::string::npos);
  CHECK(OpenFilesLimitOf(server.pid()) == 3032);
  Client client(server.port());
  CHECK(client.Command({"CONFIG", "GET", "maxclients"}) == Reply::Bulks({"maxclients", "3000"}));
  CHECK(client.Command({"CONFIG", "SET", "maxclients", "4000"}) == Reply::Status("OK"));
  CHECK(client.Command({"CONFIG", "GET", "maxclients"}) == Reply::Bulks({"maxclients", "4000"}));
  CHECK(OpenFilesLimitOf(server.pid()) == 4032);
}

TEST_CASE("cluster mode: the bus's connections to peers count against maxclients, as in Redis") {
  if (dynakv::itest::TestingRealRedis()) return;
  // Three members: two bus connections per peer, four in all, leave room for two clients.
  dynakv::itest::LocalCluster cluster(3, 3, {"--maxclients", "6"});
  cluster.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the start's clients are gone
  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int i = 0; i < 3; ++i)
    sockets.push_back(std::make_unique<RawSocket>(cluster.node(0).port()));
  CHECK(CountWorking(sockets, 2) == 2);
}

TEST_CASE("cluster mode reserves descriptors for bus connections still in their handshake") {
  if (dynakv::itest::TestingRealRedis() || !CanRunUnderLimit()) return;
  dynakv::itest::LocalCluster cluster(1, 1, {"--maxclients", "10000"});
  cluster.node(0).SetOpenFilesLimit(1024, 1024);
  cluster.Start();
  Client client(cluster.node(0).port());
  // 1024 less the node's 32 and the bus's 128 handshakes.
  CHECK(client.Command({"CONFIG", "GET", "maxclients"}) == Reply::Bulks({"maxclients", "864"}));
  CHECK(cluster.node(0).LogTail().find("maxclients has been reduced to 864") != std::string::npos);
}
