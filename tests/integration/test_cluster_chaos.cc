// kill -9 chaos with real processes: four nodes, N=3, W=2. A writer thread sets keys at W=2
// through random nodes, each key's values numbered in order, and records every write the
// cluster acknowledged; meanwhile the test kills a random node with SIGKILL every second or two
// and restarts it on the same data dir. Afterwards every node is killed at once and restarted,
// the hints drain, and every acknowledged write must be readable at R=2: the value read is the
// last acknowledged one or a later one (a write that failed may still have landed on some
// replicas, as in Dynamo), never an older one and never nothing.
//
// Seeded (the writer's choices and the chaos schedule), with generous bounds on every wait; the
// timing of the kills relative to the writes still varies from run to run, which is the point.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

constexpr int kNodes = 4;
constexpr int kKeys = 200;
constexpr auto kChaosFor = std::chrono::seconds(16);
constexpr std::uint64_t kSeed = 20240607;

std::string Key(int k) { return "chaos:" + std::to_string(k); }
std::string Value(int k, long long seq) { return Key(k) + "#" + std::to_string(seq); }
// The sequence number in a value of key `k`; -1 when it is not one of Value(k, ...).
long long SeqOf(int k, const std::string& value) {
  const std::string prefix = Key(k) + "#";
  if (!value.starts_with(prefix)) return -1;
  try {
    return std::stoll(value.substr(prefix.size()));
  } catch (...) {
    return -1;
  }
}

// What the writer did. Written by the writer thread only, read after it has been joined.
struct WriterLog {
  std::vector<long long> acked = std::vector<long long>(kKeys, 0);      // last acked seq
  std::vector<long long> attempted = std::vector<long long>(kKeys, 0);  // last seq sent
  long long ok = 0;
  long long unavailable = 0;  // -UNAVAILABLE: the quorum was not met (may have partly landed)
  long long io_errors = 0;    // the coordinator died under the request (outcome unknown)
  long long loading = 0;      // a restarted node still loading its data
  long long other = 0;        // anything else: a bug
  std::vector<std::string> other_samples;
};

// Writes keys round-robin (so writes to one key are a few hundred ms apart), each through a
// random node, until `stop`. Uses no doctest macros: it runs on its own thread.
void RunWriter(const std::vector<int>& ports, const std::atomic<bool>& stop, WriterLog* log) {
  std::mt19937_64 rng(kSeed);
  std::vector<std::unique_ptr<Client>> clients(ports.size());
  for (long long n = 0; !stop.load(); ++n) {
    const int k = static_cast<int>(n % kKeys);
    const std::size_t node = rng() % ports.size();
    std::unique_ptr<Client>& client = clients[node];
    if (client == nullptr || !client->ok()) {
      client = std::make_unique<Client>(ports[node], std::chrono::seconds(3));
      if (!client->ok()) {  // down right now: nothing was sent, try another node
        client.reset();
        --n;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
    }
    const long long seq = ++log->attempted[static_cast<std::size_t>(k)];
    const Reply reply = client->Command({"SET", Key(k), Value(k, seq), "W", "2"});
    if (reply == Reply::Status("OK")) {
      ++log->ok;
      log->acked[static_cast<std::size_t>(k)] = seq;
    } else if (reply.type == Reply::Type::kIoError) {
      ++log->io_errors;
      client.reset();
    } else if (reply.IsError() && reply.str.starts_with("UNAVAILABLE")) {
      ++log->unavailable;
    } else if (reply.IsError() && reply.str.starts_with("LOADING")) {
      ++log->loading;
    } else {
      ++log->other;
      if (log->other_samples.size() < 5) log->other_samples.push_back(reply.str);
    }
    // No pause: as fast as the cluster acks. The hybrid clocks tick in microseconds, so even
    // at full speed they stay at wall time and a restarted node's new writes still sort after
    // the ones it missed (with millisecond ticks this lost acked writes under load).
  }
}

// Stops and joins the writer however the test leaves its scope (a failed REQUIRE throws).
class WriterThread {
 public:
  WriterThread(const std::vector<int>& ports, WriterLog* log)
      : thread_([this, ports, log] { RunWriter(ports, stop_, log); }) {}
  ~WriterThread() { Join(); }
  void Join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

long long SumInfo(LocalCluster& cluster, const std::string& field) {
  long long total = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    Client client(cluster.node(i).port());
    const long long n = ReadInfoNumber(client, "cluster", field);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

}  // namespace

TEST_CASE("kill -9 chaos at N=3, W=2: every acknowledged write survives and is read at R=2") {
  if (TestingRealRedis()) return;
  const Flags flags = FastFailureFlags(1000);
  LocalCluster cluster(kNodes, 3, flags);
  cluster.Start();
  std::vector<int> ports;
  for (int i = 0; i < kNodes; ++i) ports.push_back(cluster.node(i).port());

  WriterLog log;
  int kills = 0;
  {
    WriterThread writer(ports, &log);
    std::mt19937_64 rng(kSeed + 1);
    auto pause = [&](int min_ms, int max_ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(
          min_ms + static_cast<int>(rng() % static_cast<std::uint64_t>(max_ms - min_ms + 1))));
    };
    const auto deadline = std::chrono::steady_clock::now() + kChaosFor;
    while (std::chrono::steady_clock::now() < deadline) {
      pause(700, 1300);
      const int victim = static_cast<int>(rng() % kNodes);
      cluster.node(victim).Kill();
      ++kills;
      pause(300, 900);
      cluster.node(victim).Start();  // same port, same data dir
    }
    writer.Join();
  }
  MESSAGE(kills, " kills; writes: ", log.ok, " acked, ", log.unavailable, " unavailable, ",
          log.io_errors, " cut off by a kill, ", log.loading, " loading, ", log.other, " other");
  for (const std::string& sample : log.other_samples) MESSAGE("unexpected reply: ", sample);
  CHECK(log.other == 0);
  CHECK(kills >= 8);
  // The writes kept going through the chaos: one node down of four leaves W=2 reachable.
  CHECK(log.ok > 2000);
  CHECK(log.ok > 5 * (log.unavailable + log.io_errors + log.loading));

  // Everything crashes at once, then comes back on the same data dirs.
  for (int i = 0; i < kNodes; ++i) cluster.node(i).Kill();
  cluster.Start();
  const bool drained = WaitFor([&] { return SumInfo(cluster, "cluster_hints_pending") == 0; },
                               std::chrono::seconds(30));
  CHECK_MESSAGE(drained, SumInfo(cluster, "cluster_hints_pending"), " hints still pending");

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kNodes; ++i) clients.push_back(std::make_unique<Client>(ports[i]));
  int lost = 0;
  int stale = 0;
  int bogus = 0;
  int acked_keys = 0;
  for (int k = 0; k < kKeys; ++k) {
    const auto index = static_cast<std::size_t>(k);
    Client& via = *clients[index % clients.size()];
    const Reply reply = UntilAvailable(via, {"GET", Key(k), "R", "2"});
    const long long acked = log.acked[index];
    const long long read = reply.type == Reply::Type::kString ? SeqOf(k, reply.str) : 0;
    acked_keys += acked > 0 ? 1 : 0;
    bool bad = false;
    if (reply.type != Reply::Type::kString && reply.type != Reply::Type::kNil) {
      ++bogus;  // an error or a non-string
      bad = true;
    } else if (read < 0 || read > log.attempted[index]) {
      ++bogus;  // a value nobody wrote
      bad = true;
    } else if (acked > 0 && reply.type == Reply::Type::kNil) {
      ++lost;
      bad = true;
    } else if (read < acked) {
      ++stale;
      bad = true;
    }
    if (bad && lost + stale + bogus <= 10) {
      MESSAGE(Key(k), ": acked #", acked, ", attempted #", log.attempted[index], ", read ", reply,
              "; VGET R ALL: ", via.Command({"VGET", Key(k), "R", "ALL"}));
    }
  }
  CHECK(acked_keys == kKeys);
  CHECK(lost == 0);
  CHECK(stale == 0);
  CHECK(bogus == 0);
}
