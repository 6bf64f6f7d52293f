// How long the event loop stops while a checkpoint takes a 1,000,000-member hash and sorted set:
// writes make the commit log reach its checkpoint size, and the engine's own count of its time on
// the loop for the checkpoint (INFO persistence checkpoint_loop_max_us) must stay a few ms. The
// collections are serialized off the loop (engine_checkpoint.cc), not in the hundreds of ms a
// serialization on the loop took. A client pings back to back meanwhile (reported, not checked:
// on a shared machine a ping also waits for the CPU). Also: the checkpointed collections come
// back whole after kill -9, with the log replayed onto them.
//
// bench/RESULTS.md quotes the MESSAGE lines this prints (run the binary with DYNAKV_SERVER set).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::RunAcknowledged;
using dynakv::itest::ServerProcess;
using dynakv::itest::SkipUnlessDynakv;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMembers = 1000000;

// Builds a kMembers collection at `key` with `command` (HSET or ZADD), 1000 members a command.
void Load(Client& c, const std::string& command, const std::string& key) {
  std::vector<std::vector<std::string>> build;
  for (int start = 0; start < kMembers; start += 1000) {
    std::vector<std::string> argv = {command, key};
    for (int i = start; i < start + 1000; ++i) {
      if (command == "ZADD") {
        argv.push_back(std::to_string(i));
        argv.push_back("member:" + std::to_string(i));
      } else {
        argv.push_back("field:" + std::to_string(i));
        argv.push_back("value:" + std::to_string(i));
      }
    }
    build.push_back(std::move(argv));
  }
  RunAcknowledged(c, build, [](const Reply& r) { return r == Reply::Int(1000); });
}

// Writes filler (while another client pings) until a checkpoint has run, or `writes` of them
// when `writes` > 0: the longest ping (ms).
double LongestPing(ServerProcess& server, Client& c, int writes) {
  const long long checkpoints = ReadInfoNumber(c, "persistence", "checkpoints");
  std::atomic<bool> stop{false};
  double longest_ms = 0;
  long long pings = 0;
  std::thread pinger([&] {
    Client p(server.port());
    while (!stop) {
      const auto start = Clock::now();
      if (p.Command({"PING"}) != Reply::Status("PONG")) break;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      longest_ms = std::max(longest_ms, ms);
      ++pings;
    }
  });
  const std::string filler = dynakv::itest::RandomBytes(256 * 1024, 1);
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  for (int i = 0;
       writes > 0 ? i < writes : ReadInfoNumber(c, "persistence", "checkpoints") == checkpoints;
       ++i) {
    REQUIRE(Clock::now() < deadline);
    REQUIRE(c.Command({"SET", "filler:" + std::to_string(i % 64), filler}) == Reply::Status("OK"));
  }
  // The checkpoint was installed: its segment is written. A little more, for the pinger to see
  // the loop after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  pinger.join();
  CHECK(pings > 10);
  if (writes > 0) CHECK(ReadInfoNumber(c, "persistence", "checkpoints") == checkpoints);
  return longest_ms;
}

}  // namespace

TEST_CASE("a checkpoint of a 1,000,000-member hash and sorted set stalls the loop for ms only") {
  if (SkipUnlessDynakv()) return;
  // The log reaches its checkpoint size only once the collections are built (about 30 MB of
  // log each), then filler writes push it over.
  // everysec while measuring: under always a ping may wait for the fsync of a filler write.
  ServerProcess server({"--appendfsync", "everysec", "--log-checkpoint-bytes", "96mb"});
  server.Start();
  Client c(server.port());
  Load(c, "HSET", "hash");
  Load(c, "ZADD", "zset");
  REQUIRE(ReadInfoNumber(c, "persistence", "checkpoints") == 0);
  const double baseline_ms = LongestPing(server, c, 40);
  const double longest_ms = LongestPing(server, c, 0);
  // What the engine measured of its own time on the loop for the checkpoint: freezing the
  // memtable, installing the segment, and waits of writes for a collection's serialization.
  const double loop_ms = ReadInfoNumber(c, "persistence", "checkpoint_loop_max_us") / 1000.0;
  MESSAGE(
      "event loop time of a checkpoint of a 1,000,000-field hash and a 1,000,000-member "
      "sorted set: "
      << loop_ms << " ms");
  MESSAGE("longest ping: " << baseline_ms << " ms while filler writes ran, " << longest_ms
                           << " ms while the checkpoint ran");
  // Serializing the collections on the loop took hundreds of ms (bench/RESULTS.md); now about
  // 1 ms. The pings are only reported: on a machine shared with other work they wait for the CPU
  // too (20-30 ms on the 2-core test machine at load 12, against 270-460 ms before).
  CHECK(loop_ms < 20);

  REQUIRE(c.Command({"CONFIG", "SET", "appendfsync", "always"}) == Reply::Status("OK"));
  // Writes to the collections while (and after) the checkpoint ran are kept, and the segment's
  // whole collections come back after kill -9 with the log replayed onto them.
  REQUIRE(c.Command({"HSET", "hash", "late", "1"}) == Reply::Int(1));
  REQUIRE(c.Command({"ZADD", "zset", "-1", "late"}) == Reply::Int(1));
  server.Kill();
  server.Start();
  Client again(server.port());
  CHECK(again.Command({"HLEN", "hash"}) == Reply::Int(kMembers + 1));
  CHECK(again.Command({"ZCARD", "zset"}) == Reply::Int(kMembers + 1));
  CHECK(again.Command({"HGET", "hash", "field:999999"}) == Reply::Bulk("value:999999"));
  CHECK(again.Command({"ZRANGE", "zset", "0", "1"}) == Reply::Bulks({"late", "member:0"}));
}
