// Gossip membership with real processes: five nodes that each know only themselves and one seed
// converge to the full view; a node killed with SIGKILL is seen down by every other node within
// the configured bound; restarted, it is seen up again everywhere. RING and INFO cluster show it.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

constexpr int kNodes = 5;
constexpr int kGossipMs = 200;
constexpr int kDownAfterMs = 1500;
// Time for a heartbeat to travel a few gossip hops, and for the test's polling, on a loaded
// 2-core machine: the detection bound asserted is down-after plus this.
constexpr int kMarginMs = 2500;

const dynakv::itest::Flags kFastGossip = {
    "--cluster-gossip-interval-ms", std::to_string(kGossipMs),
    "--cluster-down-after-ms",      std::to_string(kDownAfterMs),
    "--cluster-request-timeout-ms", "400",
};

// RING as id -> state ("myself", "up", "suspect", "down", ...).
std::map<std::string, std::string> RingStates(Client& client) {
  std::map<std::string, std::string> states;
  const Reply ring = client.Command({"RING"});
  for (const Reply& line : ring.elements) {
    const std::string& text = line.str;
    const std::size_t at = text.find(" state=");
    if (at == std::string::npos) continue;
    const std::size_t start = at + 7;
    states[text.substr(0, text.find(' '))] = text.substr(start, text.find(' ', start) - start);
  }
  return states;
}

// Whether `client`'s node sees every member of `cluster`, `except` (if any) in `except_state`
// and the others up (itself as myself).
bool Sees(Client& client, LocalCluster& cluster, int self, int except = -1,
          const std::string& except_state = "") {
  const auto states = RingStates(client);
  if (states.size() != static_cast<std::size_t>(cluster.size())) return false;
  for (int i = 0; i < cluster.size(); ++i) {
    const auto found = states.find(cluster.id(i));
    if (found == states.end()) return false;
    const std::string want = i == self ? "myself" : i == except ? except_state : "up";
    if (found->second != want) return false;
  }
  return true;
}

long long ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace

TEST_CASE("gossip: one seed each converges, a killed node is seen down, a restart seen up") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(kNodes, 3, kFastGossip, LocalCluster::Membership::kOneSeed);
  cluster.StartProcesses();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kNodes; ++i) {
    clients.push_back(std::make_unique<Client>(cluster.node(i).port()));
    REQUIRE(clients.back()->ok());
  }

  // Each node starts knowing itself alone.
  auto all_see = [&](int except, const std::string& state, int skip = -1) {
    for (int i = 0; i < kNodes; ++i) {
      if (i != skip && !Sees(*clients[i], cluster, i, except, state)) return false;
    }
    return true;
  };
  const auto started = std::chrono::steady_clock::now();
  const bool converged = WaitFor([&] { return all_see(-1, ""); }, std::chrono::seconds(20));
  for (int i = 0; i < kNodes && !converged; ++i) {
    for (const Reply& line : clients[i]->Command({"RING"}).elements) {
      MESSAGE(cluster.id(i), " sees: ", line.str);
    }
  }
  REQUIRE(converged);
  MESSAGE("full view everywhere after ", ElapsedMs(started), " ms");
  for (int i = 0; i < kNodes; ++i) {
    CAPTURE(i);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members") == kNodes);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members_up") == kNodes);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members_down") == 0);
  }
  CHECK(ReadInfoNumber(*clients[0], "cluster", "cluster_gossip_interval_ms") == kGossipMs);
  CHECK(ReadInfoNumber(*clients[0], "cluster", "cluster_down_after_ms") == kDownAfterMs);
  CHECK(ReadInfoField(*clients[0], "cluster", "cluster_phi_threshold") == "8.00");
  CHECK(ReadInfoNumber(*clients[0], "cluster", "cluster_seeds") == 1);
  // The learned membership serves requests: N=3 needs members this node was never told about.
  CHECK(clients[0]->Command({"SET", "k", "v"}) == Reply::Status("OK"));
  CHECK(clients[3]->Command({"GET", "k"}) == Reply::Bulk("v"));

  // SIGKILL: no goodbye, only a heartbeat that stops advancing.
  constexpr int kVictim = 2;
  cluster.node(kVictim).Kill();
  const auto killed = std::chrono::steady_clock::now();
  const bool detected = WaitFor([&] { return all_see(kVictim, "down", kVictim); },
                                std::chrono::milliseconds(kDownAfterMs + kMarginMs));
  const long long detection_ms = ElapsedMs(killed);
  for (int i = 0; i < kNodes && !detected; ++i) {
    if (i == kVictim) continue;
    for (const Reply& line : clients[i]->Command({"RING"}).elements) {
      MESSAGE(cluster.id(i), " sees: ", line.str);
    }
  }
  CHECK_MESSAGE(detected, "not every node saw ", cluster.id(kVictim), " down within ",
                kDownAfterMs + kMarginMs, " ms");
  MESSAGE("down everywhere after ", detection_ms, " ms");
  for (int i = 0; i < kNodes; ++i) {
    if (i == kVictim) continue;
    CAPTURE(i);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members_down") == 1);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members_up") == kNodes - 1);
  }

  // Restarted (a new generation), it is heard of again and relearns the view from its seed.
  cluster.node(kVictim).Start();
  clients[kVictim] = std::make_unique<Client>(cluster.node(kVictim).port());
  REQUIRE(clients[kVictim]->ok());
  const auto restarted = std::chrono::steady_clock::now();
  CHECK(WaitFor([&] { return all_see(-1, ""); }, std::chrono::seconds(15)));
  MESSAGE("up everywhere after restart in ", ElapsedMs(restarted), " ms");
  for (int i = 0; i < kNodes; ++i) {
    CAPTURE(i);
    CHECK(ReadInfoNumber(*clients[i], "cluster", "cluster_members_down") == 0);
  }
}
