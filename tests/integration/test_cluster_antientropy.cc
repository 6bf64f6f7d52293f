// Anti-entropy with real processes (3 nodes, N=3). A replica that lost its disk gets nothing from
// hinted handoff (it missed no write while down: the hints are for writes, there were none), so
// only the Merkle-tree exchange can refill it: after one exchange every key is in its own copy
// (DEBUG LOCALGET). Then the cost bound: with the replicas in sync but for a few keys, an
// exchange moves a small fraction of the data, not a copy of it. Finally the periodic exchanges
// (cluster-anti-entropy-interval-ms) repair a wiped or FLUSHALLed replica unasked.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::RandomBytes;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;
using dynakv::itest::WipeDataDir;

namespace {

const Reply kOk = Reply::Status("OK");

std::string Key(int i) { return "ae:key:" + std::to_string(i); }

// ~200 incompressible (hex) bytes per value, different for every key and generation, so the
// data is what it looks like on the wire and a repaired copy cannot match by accident.
std::string Value(int i, int generation) {
  const std::string bytes = RandomBytes(96, static_cast<std::uint64_t>(i) * 131 + generation);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "g" + std::to_string(generation) + ":";
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Writes keys [0, count) at `level` through `client`, pipelined; every write must succeed.
void WriteAll(Client& client, int count, int generation, const std::string& level) {
  constexpr int kBatch = 200;
  for (int start = 0; start < count; start += kBatch) {
    const int end = std::min(count, start + kBatch);
    for (int i = start; i < end; ++i) {
      client.Append({"SET", Key(i), Value(i, generation), "W", level});
    }
    for (int i = start; i < end; ++i) {
      const Reply reply = client.GetReply();
      REQUIRE_MESSAGE(reply == kOk, "SET ", Key(i), " W ", level, " -> ", reply);
    }
  }
}

// The keys of [0, count) whose copy on the node behind `client` (DEBUG LOCALGET: its own
// replica, no other node asked) is not generation `generation` of the value; the first few are
// logged when `log`.
std::vector<int> LocallyWrong(Client& client, int count, int generation, bool log = true) {
  std::vector<int> wrong;
  constexpr int kBatch = 500;
  for (int start = 0; start < count; start += kBatch) {
    const int end = std::min(count, start + kBatch);
    for (int i = start; i < end; ++i) client.Append({"DEBUG", "LOCALGET", Key(i)});
    for (int i = start; i < end; ++i) {
      const Reply reply = client.GetReply();
      if (reply != Reply::Bulk(Value(i, generation))) {
        if (log && wrong.size() < 5) MESSAGE("own copy of ", Key(i), ": ", reply);
        wrong.push_back(i);
      }
    }
  }
  return wrong;
}

// DEBUG ANTIENTROPY's reply as name -> number (the peer's id under "peer" is dropped).
std::map<std::string, long long> Fields(const Reply& round) {
  std::map<std::string, long long> fields;
  for (std::size_t i = 0; i + 1 < round.elements.size(); i += 2) {
    const Reply& value = round.elements[i + 1];
    if (value.type == Reply::Type::kInteger) fields[round.elements[i].str] = value.integer;
  }
  return fields;
}

// One exchange from the node behind `client` with `peer`, retried while it cannot start (a
// restarted node builds its trees, a healed peer connection may be in its reconnect backoff).
std::map<std::string, long long> Exchange(Client& client, const std::string& peer) {
  Reply round;
  const bool ran = WaitFor(
      [&] {
        round = client.Command({"DEBUG", "ANTIENTROPY", peer});
        return !round.IsError() && round.type != Reply::Type::kIoError;
      },
      std::chrono::seconds(15));
  REQUIRE_MESSAGE(ran, "DEBUG ANTIENTROPY ", peer, " keeps failing: ", round);
  REQUIRE(round.elements.size() == 12);
  CHECK(round.elements[1] == Reply::Bulk(peer));
  return Fields(round);
}

long long Info(Client& client, const std::string& field) {
  const long long value = ReadInfoNumber(client, "cluster", field);
  REQUIRE_MESSAGE(value >= 0, "INFO cluster lacks ", field);
  return value;
}

long long AntiEntropyBytes(Client& client) {
  return Info(client, "cluster_anti_entropy_bytes_sent") +
         Info(client, "cluster_anti_entropy_bytes_received");
}

}  // namespace

TEST_CASE("anti-entropy refills a replica that lost its disk, then moves only what differs") {
  if (TestingRealRedis()) return;
  constexpr int kKeys = 2000;
  constexpr int kVictim = 2;  // n3
  // No periodic exchanges: every exchange below is one the test starts, so the counters it
  // reads are that exchange's alone.
  const Flags flags = {"--cluster-anti-entropy-interval-ms", "0", "--cluster-request-timeout-ms",
                       "500"};
  LocalCluster cluster(3, 3, flags);
  cluster.Start();
  Client a(cluster.node(0).port());
  Client b(cluster.node(1).port());
  CHECK(a.Command({"CONFIG", "GET", "cluster-anti-entropy-interval-ms"}) ==
        Reply::Bulks({"cluster-anti-entropy-interval-ms", "0"}));

  WriteAll(a, kKeys, 1, "ALL");
  long long data_bytes = 0;  // what a full copy of the data is, keys and values
  for (int i = 0; i < kKeys; ++i) data_bytes += Key(i).size() + Value(i, 1).size();
  {
    Client victim(cluster.node(kVictim).port());
    REQUIRE(victim.Command({"KEYSCOPE", "LOCAL"}) == kOk);  // the node's own copy
    REQUIRE(victim.Command({"DBSIZE"}) == Reply::Int(kKeys));
  }

  // The disk is gone: data and hints. Nothing was written while it was down, so no node holds
  // hints for it: handoff cannot help.
  cluster.node(kVictim).Kill();
  WipeDataDir(cluster.node(kVictim));
  cluster.node(kVictim).Start();
  Client c(cluster.node(kVictim).port());
  REQUIRE(c.Command({"KEYSCOPE", "LOCAL"}) == kOk);
  REQUIRE(c.Command({"DBSIZE"}) == Reply::Int(0));
  CHECK(Info(a, "cluster_hints_pending") == 0);
  CHECK(Info(b, "cluster_hints_pending") == 0);
  CHECK(Info(c, "cluster_hints_pending") == 0);
  CHECK(LocallyWrong(c, 20, 1, false).size() == 20);

  SUBCASE("one exchange copies every key back") {
    const auto round = Exchange(c, "n1");
    MESSAGE("full repair: ", round.at("keys_pulled"), " keys pulled, ", round.at("bytes_received"),
            " bytes received, ", data_bytes, " bytes of data");
    CHECK(round.at("differing_leaves") > 0);
    CHECK(round.at("keys_pulled") == kKeys);
    CHECK(round.at("keys_pushed") == 0);
    // A full copy costs at least the data itself: the bound below is not vacuous.
    CHECK(round.at("bytes_received") >= data_bytes);
    CHECK(Info(c, "cluster_anti_entropy_keys_repaired") == kKeys);
    CHECK(Info(c, "cluster_anti_entropy_last_round_keys") == kKeys);
    CHECK(Info(c, "cluster_anti_entropy_rounds") == 1);
    CHECK(Info(a, "cluster_anti_entropy_keys_sent") == kKeys);
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(kKeys));
    CHECK(LocallyWrong(c, kKeys, 1).empty());
    // No handoff was involved (and no read ran): the copies came from the exchange.
    CHECK(Info(a, "cluster_hints_delivered") + Info(b, "cluster_hints_delivered") == 0);
    // n3 is now in sync with n2 too, which it never exchanged with: nothing differs.
    const auto again = Exchange(c, "n2");
    CHECK(again.at("differing_leaves") == 0);
    CHECK(again.at("keys_pulled") + again.at("keys_pushed") == 0);

    // The bytes bound. With the three replicas equal, 10 keys change while n3 is cut off
    // (W=2: n1 and n2 take them; 3 nodes, N=3, so there is no stand-in to hold a hint).
    constexpr int kChanged = 10;
    REQUIRE(c.Command({"DEBUG", "PARTITION", "n1", "n2"}) == kOk);
    for (int i = 0; i < kChanged; ++i) {
      const int key = i * (kKeys / kChanged);
      REQUIRE(a.Command({"SET", Key(key), Value(key, 2), "W", "2"}) == kOk);
    }
    REQUIRE(c.Command({"DEBUG", "PARTITION"}) == kOk);
    REQUIRE(Info(a, "cluster_hints_pending") + Info(b, "cluster_hints_pending") == 0);
    for (int i = 0; i < kChanged; ++i) {
      const int key = i * (kKeys / kChanged);
      CHECK(c.Command({"DEBUG", "LOCALGET", Key(key)}) == Reply::Bulk(Value(key, 1)));
    }

    const long long bytes_before = AntiEntropyBytes(c);
    const long long repaired_before = Info(c, "cluster_anti_entropy_keys_repaired");
    const long long peer_repaired_before = Info(a, "cluster_anti_entropy_keys_repaired");
    const auto delta = Exchange(c, "n1");
    const long long moved = AntiEntropyBytes(c) - bytes_before;
    MESSAGE("incremental repair of ", kChanged, " keys: ", moved, " bytes (",
            100.0 * static_cast<double>(moved) / static_cast<double>(data_bytes),
            "% of the data), ", delta.at("differing_leaves"), " differing leaves");
    CHECK(delta.at("keys_pulled") == kChanged);
    // n1 had the newer versions: once merged here the copies are equal, nothing goes back.
    CHECK(delta.at("keys_pushed") == 0);
    CHECK(delta.at("differing_leaves") >= 1);
    CHECK(delta.at("differing_leaves") <= kChanged);
    CHECK(Info(c, "cluster_anti_entropy_keys_repaired") - repaired_before == kChanged);
    CHECK(Info(a, "cluster_anti_entropy_keys_repaired") == peer_repaired_before);
    CHECK(Info(c, "cluster_anti_entropy_last_round_keys") ==
          delta.at("keys_pulled") + delta.at("keys_pushed"));
    // INFO's counters saw exactly what the exchange reports (no other exchange ran).
    CHECK(moved == delta.at("bytes_sent") + delta.at("bytes_received"));
    CHECK(moved > 0);
    CHECK(moved * 10 < data_bytes);  // far less than a full copy: under 10%
    // ... while the changed keys did come over.
    CHECK(moved >= kChanged * static_cast<long long>(Value(0, 2).size()));
    std::vector<int> wrong;
    for (int i = 0; i < kChanged; ++i) {
      const int key = i * (kKeys / kChanged);
      if (c.Command({"DEBUG", "LOCALGET", Key(key)}) != Reply::Bulk(Value(key, 2))) {
        wrong.push_back(key);
      }
    }
    CHECK(wrong.empty());
    CHECK(Exchange(c, "n2").at("differing_leaves") == 0);
  }

  SUBCASE("the wiped replica also repairs itself when a peer starts the exchange") {
    // n1 pushes: the exchange works from either end.
    const auto round = Exchange(a, "n3");
    CHECK(round.at("keys_pushed") == kKeys);
    CHECK(round.at("keys_pulled") == 0);
    CHECK(Info(c, "cluster_anti_entropy_keys_repaired") == kKeys);
    CHECK(LocallyWrong(c, kKeys, 1).empty());
  }
}

TEST_CASE("periodic anti-entropy repairs a wiped replica and a FLUSHALL unasked") {
  if (TestingRealRedis()) return;
  constexpr int kKeys = 500;
  constexpr int kVictim = 1;  // n2
  const Flags flags = {"--cluster-anti-entropy-interval-ms", "200", "--cluster-request-timeout-ms",
                       "500"};
  LocalCluster cluster(3, 3, flags);
  cluster.Start();
  Client a(cluster.node(0).port());
  CHECK(ReadInfoField(a, "cluster", "cluster_anti_entropy_rounds") != "");
  CHECK(a.Command({"CONFIG", "GET", "cluster-anti-entropy-interval-ms"}) ==
        Reply::Bulks({"cluster-anti-entropy-interval-ms", "200"}));
  WriteAll(a, kKeys, 1, "ALL");

  cluster.node(kVictim).Kill();
  WipeDataDir(cluster.node(kVictim));
  cluster.node(kVictim).Start();
  Client b(cluster.node(kVictim).port());
  REQUIRE(b.Command({"KEYSCOPE", "LOCAL"}) == kOk);  // DBSIZE and FLUSHALL of this replica
  // Nobody asks: the exchanges every 200 ms bring the keys back.
  const bool refilled =
      WaitFor([&] { return b.Command({"DBSIZE"}) == Reply::Int(kKeys); }, std::chrono::seconds(20));
  CHECK_MESSAGE(refilled, "DBSIZE on the wiped node: ", b.Command({"DBSIZE"}));
  CHECK(LocallyWrong(b, kKeys, 1).empty());
  CHECK(Info(b, "cluster_anti_entropy_rounds") + Info(a, "cluster_anti_entropy_rounds") > 0);
  CHECK(Info(b, "cluster_anti_entropy_keys_repaired") >= kKeys);

  // FLUSHALL empties this replica only; it must rebuild the Merkle trees (otherwise they would
  // still describe the keys, match the peers' and nothing would ever be repaired).
  const long long builds_before = Info(b, "cluster_anti_entropy_tree_builds");
  const long long repaired_before = Info(b, "cluster_anti_entropy_keys_repaired");
  REQUIRE(b.Command({"FLUSHALL"}) == kOk);
  CHECK(WaitFor([&] { return Info(b, "cluster_anti_entropy_tree_builds") > builds_before; }));
  const bool refilled_after_flush =
      WaitFor([&] { return b.Command({"DBSIZE"}) == Reply::Int(kKeys); }, std::chrono::seconds(20));
  CHECK_MESSAGE(refilled_after_flush, "DBSIZE after FLUSHALL: ", b.Command({"DBSIZE"}));
  CHECK(LocallyWrong(b, kKeys, 1).empty());
  CHECK(Info(b, "cluster_anti_entropy_keys_repaired") - repaired_before >= kKeys);
}
