// Incremental scale with real processes: three nodes (N=3, W=2, R=2) hold 10,000 keys; a fourth
// joins with nothing but a seed while a writer keeps writing, and takes its share by streaming;
// then one of the original nodes leaves with LEAVE while the writer goes on. After each move
// every acknowledged write (with its latest acknowledged value) is readable at quorum through
// the remaining nodes, the new node holds about its share, RING shows its ownership, and the
// node that left is shown as left and holds nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::LocalDbSize;
using dynakv::itest::LoopbackPortFree;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

constexpr int kKeys = 10000;
constexpr int kWriterKeys = 1500;  // the writer's own keys, besides overwriting loaded ones
constexpr int kGossipMs = 200;

const Flags kFlags = {
    "--cluster-gossip-interval-ms", std::to_string(kGossipMs),
    "--cluster-down-after-ms",      "4000",
    "--cluster-request-timeout-ms", "1500",
};

std::string Key(int i) { return "key:" + std::to_string(i); }

// A scratch dir removed at the end (the joining node's config lives there).
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "dynakv-joinleave-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The fourth node: its own id, no member but itself, and the bus of `seed_port` as its seed,
// so it learns the cluster (and the cluster learns it) by gossip alone. Its bus port must be
// free like the harness's: client port + bus_offset.
std::unique_ptr<ServerProcess> JoiningNode(const ScratchDir& dir, int bus_offset, int seed_port,
                                           const std::string& secret_file,
                                           const std::string& tls_section) {
  const std::string config = dir.path() + "/n4.toml";
  Flags flags = {"--config", config};
  flags.insert(flags.end(), kFlags.begin(), kFlags.end());
  std::unique_ptr<ServerProcess> node;
  for (int attempt = 0; attempt < 50 && !node; ++attempt) {
    auto candidate = std::make_unique<ServerProcess>(flags);
    if (LoopbackPortFree(candidate->port() + bus_offset)) node = std::move(candidate);
  }
  REQUIRE_MESSAGE(node != nullptr, "no free client/bus port pair for the joining node");
  std::ofstream out(config);
  out << "[server]\nloglevel = \"verbose\"\n"
      << "[cluster]\nenabled = true\nnode-id = \"n4\"\n"
      << "port-offset = " << bus_offset << "\n"
      << "secret-file = \"" << secret_file << "\"\n"
      << "replication-factor = 3\n"
      << "nodes = [\"n4@127.0.0.1:" << node->port() << "\"]\n"
      << "seeds = [\"127.0.0.1:" << seed_port + bus_offset << "\"]\n"
      << tls_section;  // the cluster's own CA and certificate, under DYNAKV_TEST_TLS_CLUSTER
  REQUIRE(out.good());
  return node;
}

struct RingEntry {
  std::string state;
  double owns = 0;
};

// RING as id -> (state, owns %).
std::map<std::string, RingEntry> Ring(Client& client) {
  std::map<std::string, RingEntry> entries;
  for (const Reply& line : client.Command({"RING"}).elements) {
    const std::string& text = line.str;
    auto field = [&](const std::string& name) {
      const std::size_t at = text.find(" " + name + "=");
      if (at == std::string::npos) return std::string();
      const std::size_t start = at + name.size() + 2;
      return text.substr(start, text.find(' ', start) - start);
    };
    RingEntry entry;
    entry.state = field("state");
    const std::string owns = field("owns");
    entry.owns = owns.empty() ? -1 : std::atof(owns.c_str());
    entries[text.substr(0, text.find(' '))] = entry;
  }
  return entries;
}

// Whether every client's node has a ring of exactly `members` (all up, each itself as myself),
// every id in `left` shown as left (or not at all), and has nothing left to stream.
bool Converged(std::vector<Client*> clients, const std::vector<std::string>& self_ids,
               const std::set<std::string>& members, const std::set<std::string>& left) {
  for (std::size_t i = 0; i < clients.size(); ++i) {
    Client& client = *clients[i];
    if (ReadInfoNumber(client, "cluster", "cluster_members") !=
            static_cast<long long>(members.size()) ||
        ReadInfoField(client, "cluster", "cluster_rebalance_state") != "idle") {
      return false;
    }
    for (const auto& [id, entry] : Ring(client)) {
      if (left.contains(id)) {
        if (entry.state != "left") return false;
      } else if (!members.contains(id) ||
                 entry.state != (id == self_ids[i] ? std::string("myself") : "up")) {
        return false;
      }
    }
  }
  return true;
}

// What a writer was told: per key, the value of its last acknowledged write, plus the values of
// writes attempted after it that failed (a failed quorum write may still have reached a
// replica, so reading one of those is no loss either).
struct Outcome {
  std::string acked;
  std::set<std::string> maybe;
};
using Expected = std::map<std::string, Outcome>;

// Writes through two nodes in turn (neither of which leaves) until stopped: new keys and
// overwrites of the loaded ones, recording what was acknowledged. Joined on destruction, so a
// failing REQUIRE does not leave it running.
class Writer {
 public:
  Writer(int port_a, int port_b, Expected* expected, int seed)
      : expected_(expected), thread_([this, port_a, port_b, seed] { Run(port_a, port_b, seed); }) {}
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int acked() const { return acked_; }
  int failed() const { return failed_; }

 private:
  void Run(int port_a, int port_b, int seed) {
    Client a(port_a), b(port_b);
    for (int i = 0; !stop_; ++i) {
      const int n = seed + i;
      const std::string key =
          n % 3 == 0 ? Key((n * 37) % kKeys) : "w:" + std::to_string(n % kWriterKeys);
      const std::string value = "w" + std::to_string(n);
      const Reply reply = (i % 2 == 0 ? a : b).Command({"SET", key, value});
      Outcome& outcome = (*expected_)[key];
      if (reply == Reply::Status("OK")) {
        outcome.acked = value;
        outcome.maybe.clear();
        ++acked_;
      } else {
        outcome.maybe.insert(value);
        ++failed_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  Expected* expected_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

// Reads every expected key at quorum (GET, R=2 by default) through the given nodes in turn, in
// pipelined batches; returns how many did not read back as acknowledged.
int Unreadable(std::vector<Client*> clients, const Expected& expected) {
  int bad = 0, reported = 0;
  std::vector<std::pair<std::string, const Outcome*>> batch;
  auto flush = [&](Client& client) {
    for (const auto& [key, outcome] : batch) client.Append({"GET", key});
    for (const auto& [key, outcome] : batch) {
      const Reply reply = client.GetReply();
      const bool ok = reply.type == Reply::Type::kString &&
                      (reply.str == outcome->acked || outcome->maybe.contains(reply.str));
      if (!ok) {
        ++bad;
        if (++reported <= 10) MESSAGE("key ", key, " read ", reply, ", expected ", outcome->acked);
      }
    }
    batch.clear();
  };
  std::size_t turn = 0;
  for (const auto& [key, outcome] : expected) {
    if (outcome.acked.empty()) continue;  // never acknowledged: nothing was promised
    batch.emplace_back(key, &outcome);
    if (batch.size() == 500) flush(*clients[turn++ % clients.size()]);
  }
  if (!batch.empty()) flush(*clients[turn % clients.size()]);
  return bad;
}

// Keys with an acknowledged write (the others may or may not exist).
long long AckedKeys(const Expected& expected) {
  long long n = 0;
  for (const auto& [key, outcome] : expected) n += outcome.acked.empty() ? 0 : 1;
  return n;
}

long long Sum(std::vector<Client*> clients, const std::string& field) {
  long long total = 0;
  for (Client* client : clients) total += ReadInfoNumber(*client, "cluster", field);
  return total;
}

long long ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace

TEST_CASE("join and leave: ranges stream to the new node and away from the leaving one") {
  if (TestingRealRedis()) return;
  const auto test_start = std::chrono::steady_clock::now();
  LocalCluster cluster(3, 3, kFlags, LocalCluster::Membership::kOneSeed);
  cluster.StartProcesses();
  std::vector<std::unique_ptr<Client>> owned;
  for (int i = 0; i < 3; ++i) {
    owned.push_back(std::make_unique<Client>(cluster.node(i).port()));
    REQUIRE(owned.back()->ok());
  }
  std::vector<Client*> three = {owned[0].get(), owned[1].get(), owned[2].get()};
  REQUIRE(WaitFor(
      [&] {
        return Converged(three, {"n1", "n2", "n3"}, {"n1", "n2", "n3"}, {});
      },
      std::chrono::seconds(15)));

  // 10,000 keys through all three nodes, pipelined.
  Expected expected;
  for (int start = 0; start < kKeys; start += 500) {
    Client& client = *three[static_cast<std::size_t>(start / 500) % 3];
    for (int i = start; i < start + 500; ++i)
      client.Append({"SET", Key(i), "v" + std::to_string(i)});
    for (int i = start; i < start + 500; ++i) {
      REQUIRE(client.GetReply() == Reply::Status("OK"));
      expected[Key(i)].acked = "v" + std::to_string(i);
    }
  }
  for (Client* client : three) CHECK(LocalDbSize(*client) == Reply::Int(kKeys));

  // --- a fourth node joins while a writer writes through n1 and n3 ---------------------------
  ScratchDir scratch;
  std::unique_ptr<ServerProcess> n4 =
      JoiningNode(scratch, cluster.bus_offset(), cluster.node(0).port(), cluster.secret_file(),
                  cluster.tls_section());
  auto writer =
      std::make_unique<Writer>(cluster.node(0).port(), cluster.node(2).port(), &expected, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto join_start = std::chrono::steady_clock::now();
  n4->Start();
  owned.push_back(std::make_unique<Client>(n4->port()));
  Client& new_node = *owned.back();
  REQUIRE(new_node.ok());
  std::vector<Client*> four = {owned[0].get(), owned[1].get(), owned[2].get(), &new_node};
  const std::vector<std::string> four_ids = {"n1", "n2", "n3", "n4"};
  const bool joined = WaitFor(
      [&] {
        return Converged(four, four_ids, {"n1", "n2", "n3", "n4"}, {});
      },
      std::chrono::seconds(20));
  if (!joined) {
    for (std::size_t i = 0; i < four.size(); ++i) {
      MESSAGE(four_ids[i], " state ", ReadInfoField(*four[i], "cluster", "cluster_rebalance_state"),
              " queued ", ReadInfoField(*four[i], "cluster", "cluster_rebalance_keys_queued"));
      for (const Reply& line : four[i]->Command({"RING"}).elements) MESSAGE("  ", line.str);
    }
  }
  REQUIRE(joined);
  MESSAGE("n4 joined and the data settled in ", ElapsedMs(join_start), " ms");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // writes against the new ring
  writer->Stop();
  MESSAGE("writer during the join: ", writer->acked(), " acked, ", writer->failed(), " failed");
  CHECK(writer->acked() > 200);
  CHECK(writer->failed() * 20 <= writer->acked());  // no node failed: nearly all succeed
  REQUIRE(WaitFor(
      [&] {
        return Converged(four, four_ids, {"n1", "n2", "n3", "n4"}, {});
      },
      std::chrono::seconds(10)));

  const long long total_keys = static_cast<long long>(expected.size());
  const long long acked_keys = AckedKeys(expected);
  CHECK(Unreadable(four, expected) == 0);
  // N=3 of 4 nodes: each replicates about 3/4 of the keys; the newcomer got its share by
  // streaming, and the old nodes let go of what they no longer replicate.
  long long copies = 0;
  for (std::size_t i = 0; i < four.size(); ++i) {
    const long long size = LocalDbSize(*four[i]).integer;
    CAPTURE(four_ids[i]);
    CAPTURE(size);
    CHECK(size > total_keys * 6 / 10);
    CHECK(size < total_keys * 9 / 10);
    copies += size;
  }
  CHECK(copies >= 3 * acked_keys);
  CHECK(copies <= 3 * total_keys + total_keys / 50);  // hardly anything left behind
  const auto ring = Ring(new_node);
  REQUIRE(ring.contains("n4"));
  MESSAGE("n4 owns ", ring.at("n4").owns, "% of the ring as primary");
  CHECK(ring.at("n4").owns > 17);
  CHECK(ring.at("n4").owns < 33);
  CHECK(ring.at("n4").state == "myself");
  CHECK(Sum(four, "cluster_rebalance_keys_streamed") >= LocalDbSize(new_node).integer);
  CHECK(Sum(four, "cluster_rebalance_bytes_streamed") > 0);
  CHECK(Sum(four, "cluster_rebalance_keys_dropped") > 0);

  // --- n2 leaves while the writer goes on -----------------------------------------------------
  writer =
      std::make_unique<Writer>(cluster.node(0).port(), cluster.node(2).port(), &expected, 1000000);
  Client leaver(cluster.node(1).port(), std::chrono::seconds(40));
  REQUIRE(leaver.ok());
  const auto leave_start = std::chrono::steady_clock::now();
  const Reply left = leaver.Command({"LEAVE"});
  MESSAGE("LEAVE took ", ElapsedMs(leave_start), " ms");
  REQUIRE(left == Reply::Status("OK"));
  CHECK(ReadInfoField(leaver, "cluster", "cluster_rebalance_state") == "left");
  // Everything handed over (a write from a coordinator that had not heard yet would be
  // forwarded and dropped in a moment).
  CHECK(WaitFor([&] { return LocalDbSize(leaver) == Reply::Int(0); },
                std::chrono::seconds(5)));
  CHECK(Ring(leaver).at("n2").state == "myself,left");
  CHECK(leaver.Command({"LEAVE"}).str.find("already left") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer->Stop();
  MESSAGE("writer during the leave: ", writer->acked(), " acked, ", writer->failed(), " failed");
  CHECK(writer->acked() > 200);
  CHECK(writer->failed() * 20 <= writer->acked());

  std::vector<Client*> remaining = {owned[0].get(), owned[2].get(), &new_node};
  const std::vector<std::string> remaining_ids = {"n1", "n3", "n4"};
  const bool settled = WaitFor(
      [&] {
        return Converged(remaining, remaining_ids, {"n1", "n3", "n4"}, {"n2"});
      },
      std::chrono::seconds(15));
  if (!settled) {
    for (std::size_t i = 0; i < remaining.size(); ++i) {
      for (const Reply& line : remaining[i]->Command({"RING"}).elements) {
        MESSAGE(remaining_ids[i], " sees ", line.str);
      }
    }
  }
  REQUIRE(settled);
  CHECK(Unreadable(remaining, expected) == 0);
  // Three nodes, N=3: each holds every key again.
  for (Client* client : remaining) {
    const long long size = LocalDbSize(*client).integer;
    CHECK(size >= AckedKeys(expected));
    CHECK(size <= static_cast<long long>(expected.size()));
  }
  // With three members left, N=3 cannot lose another: refused at once.
  const Reply refused = owned[0]->Command({"LEAVE"});
  CHECK(refused.IsError());
  CHECK(refused.str.find("cannot hold") != std::string::npos);
  MESSAGE("whole test took ", ElapsedMs(test_start), " ms");
}

TEST_CASE("LEAVE needs cluster mode") {
  if (TestingRealRedis()) return;
  dynakv::itest::ServerFixture fixture;
  const Reply reply = fixture.client.Command({"LEAVE"});
  CHECK(reply == Reply::Error("ERR cluster mode is not enabled"));
  CHECK(fixture.client.Command({"LEAVE", "now"}).IsError());
}
