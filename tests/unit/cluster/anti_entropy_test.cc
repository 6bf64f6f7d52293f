// Anti-entropy end to end: real nodes on one loop compare Merkle trees over the bus and repair
// each other. The rounds are started by hand (RunAntiEntropy) unless a test is about the timer.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::Level;
using testing::TestCluster;
using testing::Values;

constexpr int kA = 0, kB = 1, kC = 2, kD = 3;

void ManualRounds(ClusterOptions& options) {
  options.anti_entropy_interval_ms = 0;
  options.request_timeout_ms = 2000;
}

std::string Key(int i) { return "key:" + std::to_string(i); }
// Keys in groups of ten sharing a hash tag: placed by the tag, kept in the trees by the key.
std::string TaggedKey(int i) { return "{tag" + std::to_string(i % 10) + "}:" + std::to_string(i); }

// Writes keys [0, n) (named by `key`) through `via` at `level`, 100 at a time in flight.
void WriteKeys(TestCluster& cluster, int via, int n, const ConsistencyLevel& level,
               std::string (*key)(int) = Key) {
  for (int start = 0; start < n; start += 100) {
    int pending = 0;
    for (int i = start; i < std::min(n, start + 100); ++i) {
      SiblingSet set;
      Version version = set.NewVersion({}, cluster.node(via).self_id(),
                                       cluster.node(via).NextTimestamp());
      version.value = "value-" + std::to_string(i) + std::string(80, 'x');
      REQUIRE(set.Add(version));
      ++pending;
      cluster.node(via).Write(key(i), set, level, [&pending](WriteResult result) {
        CHECK_MESSAGE(result.ok, result.error);
        --pending;
      });
    }
    REQUIRE(testing::RunUntil(cluster.loop(), [&] { return pending == 0; }));
  }
}

// One exchange started by node `i`; retried while its trees are still being built.
AntiEntropyRound Round(TestCluster& cluster, int i, const std::string& peer) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::optional<AntiEntropyRound> round;
    cluster.node(i).RunAntiEntropy(peer, [&](AntiEntropyRound r) { round = std::move(r); });
    CHECK_FALSE(round.has_value());  // never inside the call
    REQUIRE_MESSAGE(testing::RunUntil(cluster.loop(), [&] { return round.has_value(); }, 10000),
                    "anti-entropy round never finished");
    if (round->ok || round->error != "the Merkle trees are still being built") return *round;
    testing::RunFor(cluster.loop(), 5);
  }
  FAIL("the Merkle trees were never built");
  return {};
}

std::uint64_t BytesMoved(TestCluster& cluster, const std::vector<int>& nodes) {
  std::uint64_t bytes = 0;
  for (int i : nodes) bytes += cluster.node(i).stats().anti_entropy_bytes_sent;
  return bytes;
}

// Keys [0, n) whose copies on `a` and `b` differ.
int Differing(TestCluster& cluster, int a, int b, int n) {
  int differing = 0;
  for (int i = 0; i < n; ++i) {
    if (cluster.node(a).LocalSiblings(Key(i)).Encode() !=
        cluster.node(b).LocalSiblings(Key(i)).Encode()) {
      ++differing;
    }
  }
  return differing;
}

TEST_CASE("anti-entropy: a wiped node is restored from a peer; a few changed keys move few bytes") {
  constexpr int kKeys = 2000;
  TestCluster cluster(3, ManualRounds);
  cluster.StartAll();
  WriteKeys(cluster, kA, kKeys, Level(3));
  std::uint64_t data_bytes = 0;
  for (int i = 0; i < kKeys; ++i) {
    data_bytes += Key(i).size() + cluster.node(kA).LocalSiblings(Key(i)).Encode().size();
  }

  // Replicas that agree: one hash each way and nothing else.
  const AntiEntropyRound agreed = Round(cluster, kA, "C");
  REQUIRE_MESSAGE(agreed.ok, agreed.error);
  CHECK(agreed.differing_leaves == 0);
  CHECK(agreed.bytes_sent + agreed.bytes_received < 64);

  // C loses its disk and comes back empty under the same id and port.
  cluster.Stop(kC);
  cluster.Wipe(kC);
  cluster.Start(kC);
  REQUIRE(cluster.engine(kC).KeyCount() == 0);
  CHECK(Differing(cluster, kA, kC, kKeys) == kKeys);

  const AntiEntropyRound restore = Round(cluster, kC, "A");
  REQUIRE_MESSAGE(restore.ok, restore.error);
  CHECK(restore.peer == "A");
  CHECK(restore.keys_pulled == kKeys);
  CHECK(restore.keys_pushed == 0);
  CHECK(restore.differing_leaves > 0);
  CHECK(cluster.engine(kC).KeyCount() == kKeys);
  CHECK(Differing(cluster, kA, kC, kKeys) == 0);
  CHECK(cluster.node(kC).stats().anti_entropy_keys_repaired == kKeys);
  CHECK(cluster.node(kA).stats().anti_entropy_keys_sent == kKeys);
  CHECK(cluster.node(kC).stats().anti_entropy_rounds == 1);
  // B agrees with the restored C, and the restored trees (built by writes) equal B's.
  const AntiEntropyRound with_b = Round(cluster, kC, "B");
  REQUIRE_MESSAGE(with_b.ok, with_b.error);
  CHECK(with_b.differing_leaves == 0);

  // C misses five writes while partitioned from A and B.
  cluster.Partition(kC, {kA, kB});
  for (int i : {7, 70, 700}) REQUIRE(cluster.Set(kA, Key(i), "changed on A", Level(2)).ok);
  for (int i : {17, 1700}) REQUIRE(cluster.Set(kB, Key(i), "changed on B", Level(2)).ok);
  cluster.Heal();
  CHECK(Differing(cluster, kA, kC, kKeys) == 5);
  CHECK(Differing(cluster, kA, kB, kKeys) == 0);

  const std::uint64_t before = BytesMoved(cluster, {kA, kB, kC});
  const AntiEntropyRound repair = Round(cluster, kC, "A");
  REQUIRE_MESSAGE(repair.ok, repair.error);
  CHECK(repair.keys_pulled == 5);
  CHECK(repair.differing_leaves >= 1);
  CHECK(repair.differing_leaves <= 5);
  CHECK(Differing(cluster, kA, kC, kKeys) == 0);
  CHECK(Values(cluster.node(kC).LocalSiblings(Key(1700))) ==
        std::vector<std::string>{"changed on B"});
  const std::uint64_t moved = BytesMoved(cluster, {kA, kB, kC}) - before;
  CHECK(moved == repair.bytes_sent + repair.bytes_received);
  // A full copy is ~200 KB; five keys with the hashes that find them are a few KB.
  MESSAGE("repair of 5 keys moved " << moved << " bytes; the data is " << data_bytes << " bytes");
  CHECK(moved < data_bytes / 10);
  CHECK(moved < 8192);
  CHECK(cluster.node(kC).stats().anti_entropy_last_round_keys == repair.keys_pulled +
                                                                     repair.keys_pushed);
}

TEST_CASE("anti-entropy: versions written on both sides of a partition merge into siblings") {
  TestCluster cluster(3, ManualRounds);
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "base", Level(3)).ok);
  cluster.Partition(kC, {kA, kB});
  REQUIRE(cluster.Set(kA, "k", "from A", Level(2)).ok);
  REQUIRE(cluster.Set(kC, "k", "from C", Level(1)).ok);
  cluster.Heal();

  const AntiEntropyRound round = Round(cluster, kA, "C");
  REQUIRE_MESSAGE(round.ok, round.error);
  CHECK(round.differing_leaves == 1);
  CHECK(round.keys_pulled == 1);  // A merged C's version into its copy...
  CHECK(round.keys_pushed == 1);  // ...and sent the merged set back
  const std::vector<std::string> both{"from A", "from C"};
  CHECK(Values(cluster.node(kA).LocalSiblings("k")) == both);
  CHECK(Values(cluster.node(kC).LocalSiblings("k")) == both);
  CHECK(cluster.node(kA).LocalSiblings("k").Encode() ==
        cluster.node(kC).LocalSiblings("k").Encode());
  // B still has only A's version; the next round brings it along.
  CHECK(Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"from A"});
  REQUIRE(Round(cluster, kB, "C").ok);
  CHECK(Values(cluster.node(kB).LocalSiblings("k")) == both);
}

TEST_CASE("anti-entropy: only keys both nodes replicate are compared and restored") {
  constexpr int kKeys = 400;
  TestCluster cluster(4, [](ClusterOptions& o) {
    ManualRounds(o);
    o.replication_factor = 2;
  });
  cluster.StartAll();
  WriteKeys(cluster, kA, kKeys, Level(2));
  cluster.Stop(kD);
  cluster.Wipe(kD);
  cluster.Start(kD);

  for (const char* peer : {"A", "B", "C"}) {
    const AntiEntropyRound round = Round(cluster, kD, peer);
    REQUIRE_MESSAGE(round.ok, round.error);
  }
  const Ring& ring = cluster.node(kD).ring();
  int owned = 0;
  for (int i = 0; i < kKeys; ++i) {
    bool replica = false;
    for (const NodeInfo* node : ring.PreferenceList(Key(i), 2)) replica |= node->id == "D";
    owned += replica ? 1 : 0;
    CHECK(cluster.node(kD).LocalSiblings(Key(i)).empty() == !replica);
  }
  CHECK(owned > kKeys / 8);  // D does own a share
  CHECK(cluster.engine(kD).KeyCount() == static_cast<std::uint64_t>(owned));
  // Every pair now agrees on what it shares.
  for (int i : {kA, kB, kC}) {
    for (int j : {kA, kB, kC, kD}) {
      if (i == j) continue;
      const AntiEntropyRound round = Round(cluster, i, cluster.node(j).self_id());
      REQUIRE_MESSAGE(round.ok, round.error);
      CHECK(round.differing_leaves == 0);
    }
  }
}

TEST_CASE("anti-entropy: keys sharing a hash tag are restored together to the tag's replicas") {
  constexpr int kKeys = 400;
  TestCluster cluster(4, [](ClusterOptions& o) {
    ManualRounds(o);
    o.replication_factor = 2;
  });
  cluster.StartAll();
  WriteKeys(cluster, kA, kKeys, Level(2), TaggedKey);
  cluster.Stop(kD);
  cluster.Wipe(kD);
  cluster.Start(kD);
  for (const char* peer : {"A", "B", "C"}) {
    const AntiEntropyRound round = Round(cluster, kD, peer);
    REQUIRE_MESSAGE(round.ok, round.error);
  }
  // D holds all ten keys of a tag or none of them, exactly where the tag places them.
  const Ring& ring = cluster.node(kD).ring();
  int owned = 0;
  for (int tag = 0; tag < 10; ++tag) {
    bool replica = false;
    for (const NodeInfo* node : ring.PreferenceList("tag" + std::to_string(tag), 2)) {
      replica |= node->id == "D";
    }
    for (int i = tag; i < kKeys; i += 10) {
      CHECK(cluster.node(kD).LocalSiblings(TaggedKey(i)).empty() == !replica);
      owned += replica ? 1 : 0;
    }
  }
  CHECK(owned > 0);
  CHECK(cluster.engine(kD).KeyCount() == static_cast<std::uint64_t>(owned));
  for (int i : {kA, kB, kC}) {
    const AntiEntropyRound round = Round(cluster, kD, cluster.node(i).self_id());
    REQUIRE_MESSAGE(round.ok, round.error);
    CHECK(round.differing_leaves == 0);
  }
}

TEST_CASE("anti-entropy: rounds on a timer repair a replica that missed writes, unasked") {
  TestCluster cluster(3, [](ClusterOptions& o) { o.anti_entropy_interval_ms = 30; });
  cluster.StartAll();
  cluster.Partition(kC, {kA, kB});
  WriteKeys(cluster, kA, 50, Level(2));
  CHECK(Differing(cluster, kA, kC, 50) == 50);
  cluster.Heal();
  CHECK(testing::RunUntil(
      cluster.loop(), [&] { return Differing(cluster, kA, kC, 50) == 0; }, 10000));
  std::uint64_t rounds = 0;
  for (int i : {kA, kB, kC}) rounds += cluster.node(i).stats().anti_entropy_rounds;
  CHECK(rounds >= 1);
  CHECK(cluster.node(kC).stats().anti_entropy_keys_repaired == 50);
}

TEST_CASE("anti-entropy: data lost behind the trees' back is found after a rebuild") {
  TestCluster cluster(3, ManualRounds);
  cluster.StartAll();
  WriteKeys(cluster, kA, 100, Level(3));
  // As a node-local FLUSHALL does: the engine empties without a write the trees see.
  cluster.engine(kC).Clear();
  const AntiEntropyRound stale = Round(cluster, kC, "A");
  REQUIRE(stale.ok);
  CHECK(stale.differing_leaves == 0);  // the trees still describe the lost data

  const std::uint64_t builds = cluster.node(kC).stats().anti_entropy_tree_builds;
  cluster.node(kC).RebuildAntiEntropyTrees();
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(kC).stats().anti_entropy_tree_builds > builds;
  }));
  const AntiEntropyRound repaired = Round(cluster, kC, "A");
  REQUIRE_MESSAGE(repaired.ok, repaired.error);
  CHECK(repaired.keys_pulled == 100);
  CHECK(Differing(cluster, kA, kC, 100) == 0);
}

TEST_CASE("anti-entropy: refused requests fail cleanly") {
  TestCluster cluster(3, ManualRounds);
  cluster.StartAll();
  CHECK(Round(cluster, kA, "nobody").error == "no peer 'nobody' to exchange with");
  CHECK(Round(cluster, kA, "A").error == "no peer 'A' to exchange with");

  // One at a time: a second request while one runs is refused, the first completes.
  std::optional<AntiEntropyRound> first, second;
  cluster.node(kA).RunAntiEntropy("B", [&](AntiEntropyRound r) { first = std::move(r); });
  cluster.node(kA).RunAntiEntropy("C", [&](AntiEntropyRound r) { second = std::move(r); });
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return first && second; }));
  CHECK(first->ok);
  CHECK(second->error == "an anti-entropy exchange is already running");

  // A peer that is down fails the round (counted), it does not hang it.
  cluster.Stop(kC);
  const AntiEntropyRound down = Round(cluster, kA, "C");
  CHECK_FALSE(down.ok);
  CHECK_FALSE(down.error.empty());
  CHECK(cluster.node(kA).stats().anti_entropy_round_failures == 1);
  // With no peer named, rounds go to each peer in turn.
  CHECK(Round(cluster, kB, "").peer != Round(cluster, kB, "").peer);
}

TEST_CASE("anti-entropy: stopping a node mid-exchange fails the exchange before Stop is done") {
  TestCluster cluster(3, ManualRounds);
  cluster.StartAll();
  WriteKeys(cluster, kA, 500, Level(3));
  cluster.Stop(kC);
  cluster.Wipe(kC);
  cluster.Start(kC);
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(kC).stats().anti_entropy_tree_builds > 0;
  }));
  std::optional<AntiEntropyRound> round;
  cluster.node(kC).RunAntiEntropy("A", [&](AntiEntropyRound r) { round = std::move(r); });
  // Let the exchange get going (past the root hash), then stop C under it.
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(kC).stats().anti_entropy_bytes_received > 100;
  }));
  REQUIRE_FALSE(round.has_value());
  bool stopped = false;
  cluster.node(kC).Stop([&] {
    CHECK(round.has_value());  // the exchange's callback ran first
    stopped = true;
  });
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return stopped; }));
  REQUIRE(round.has_value());
  CHECK_FALSE(round->ok);
  // A and B are unaffected.
  CHECK(Round(cluster, kA, "B").ok);
}

// Reads the next frame from `client`; false when none arrives in time.
bool NextFrame(TestCluster& cluster, testing::RawClient& client, bus::Frame* frame,
               std::string* payload) {
  bus::FrameReader reader;
  bool got = false;
  testing::RunUntil(
      cluster.loop(),
      [&] {
        client.Poll();
        std::size_t available = 0;
        std::string& bytes = client.received();
        char* area = reader.WritableArea(bytes.size() + 1, &available);
        std::copy(bytes.begin(), bytes.end(), area);
        reader.Commit(bytes.size());
        bytes.clear();
        if (reader.Next(frame) != bus::FrameReader::Status::kFrame) return false;
        payload->assign(frame->payload);
        got = true;
        return true;
      },
      3000);
  return got;
}

TEST_CASE("anti-entropy: malformed requests get an ERROR reply, never a crash") {
  TestCluster cluster(3, [](ClusterOptions& o) {
    ManualRounds(o);
    o.secret.clear();  // B is played by a raw socket: no authentication
  });
  cluster.StartAll();
  testing::RawClient client(cluster.node(kA).bus_port());
  client.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("B")));

  struct Case {
    bus::FrameType type;
    std::string payload;
    std::string error;
  };
  const std::vector<Case> cases = {
      {bus::FrameType::kAeHashes, "", "malformed AE_HASHES"},
      {bus::FrameType::kAeHashes, std::string("\x03\x00\x01\x00", 4),
       "malformed AE_HASHES trailing"},
      {bus::FrameType::kAeHashes, std::string("\x03\x05\x01\x00", 4), "malformed AE_HASHES"},
      {bus::FrameType::kAeHashes, std::string("\x03\x01\x01\x10", 4), "malformed AE_HASHES"},
      {bus::FrameType::kAeHashes, std::string("\x02\x00\x01\x00", 4),
       "Merkle tree depth 2 differs from this node's 3"},
      {bus::FrameType::kAeHashes, std::string("\x03\x00\x7f", 3), "malformed AE_HASHES"},
      {bus::FrameType::kAeKeys, std::string("\x03\x01\x80\x40", 4), "malformed AE_KEYS"},
      {bus::FrameType::kAeFetch, std::string("\x01\x05" "ab", 4), "malformed AE_FETCH"},
      {bus::FrameType::kAePush, std::string("\x01\x01k\x03xyz", 7), "malformed AE_PUSH"},
  };
  std::uint64_t id = 1;
  for (const Case& c : cases) {
    CAPTURE(c.error);
    std::string payload = c.payload;
    std::string expected = c.error;
    if (expected == "malformed AE_HASHES trailing") {
      payload += "!";
      expected = "malformed AE_HASHES";
    }
    client.Send(bus::EncodeFrame(c.type, id, payload));
    bus::Frame frame;
    std::string reply;
    REQUIRE(NextFrame(cluster, client, &frame, &reply));
    CHECK(frame.id == id);
    CHECK(frame.type == bus::FrameType::kError);
    std::string_view message;
    REQUIRE(bus::DecodeError(reply, &message));
    CHECK(message == expected);
    ++id;
  }
  // A well-formed request on the same connection is still answered: the root hash.
  client.Send(bus::EncodeFrame(bus::FrameType::kAeHashes, id, std::string("\x03\x00\x01\x00", 4)));
  bus::Frame frame;
  std::string reply;
  REQUIRE(NextFrame(cluster, client, &frame, &reply));
  CHECK(frame.type == bus::FrameType::kReply);
  CHECK(reply.size() == 1 + 8);
  CHECK(cluster.node(kA).stats().bus_protocol_errors >= 7);
  CHECK(cluster.Set(kA, "still", "working", Level(3)).ok);
}

}  // namespace
}  // namespace dynakv::cluster
