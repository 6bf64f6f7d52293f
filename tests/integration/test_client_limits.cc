// Limits on what one client can make the node hold: its output buffer (a small request must not
// build a huge reply) and the number of connections (maxclients within the file-descriptor limit).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
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
const char kOutputLimitLog[] = "scheduled to be closed ASAP for overcoming of output buffer limits.";

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
  CHECK(other.Command({"MGET", "big", "big"}) == Reply::Array({Reply::Bulk(value), Reply::Bulk(value)}));
  // The whole reply would have been 1 GB; it stopped growing at the 8 MB limit.
  const std::uint64_t peak = f.server.PeakRssBytes();
  CAPTURE(peak);
  CHECK(peak > 0);
  CHECK(peak < 100 * kMiB);
  CHECK(f.server.LogTail(64 * 1024).find(kOutputLimitLog) != std::string::npos);
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
