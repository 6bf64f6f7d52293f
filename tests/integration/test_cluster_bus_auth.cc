// The authenticated cluster bus against real processes: the attacks an open bus allowed, replayed
// against a 3-node cluster with a secret (open membership, so an announced member would join).
// An anonymous bus client (HELLO naming a member, then GOSSIP announcing a fake member and a
// REPLICA_PUT, encoded as a node encodes them) and a client with the wrong secret are refused:
// the ring and DBSIZE do not change, INFO cluster counts the failures and the log names the
// peer's address. A node in cluster mode without a secret refuses to start unless
// cluster-insecure is set, and then warns.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bus_handshake.h"
#include "cluster/bus_protocol.h"
#include "cluster/gossip_message.h"
#include "cluster/membership.h"
#include "cluster/versioned_value.h"
#include "harness.h"
#include "raw_socket.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
namespace cluster = dynakv::cluster;
namespace bus = dynakv::cluster::bus;

namespace {

using namespace std::chrono_literals;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The ids RING lists.
std::set<std::string> RingIds(Client& client) {
  std::set<std::string> ids;
  for (const Reply& line : client.Command({"RING"}).elements) {
    const std::string text = line.elements.empty() ? line.str : line.elements[0].str;
    ids.insert(text.substr(0, text.find(' ')));
  }
  return ids;
}

// What an attacker sends once its HELLO is in: gossip signed by the member it claims to be,
// announcing a member that does not exist, and a replica write of a key of its own.
std::string AttackFrames(const std::string& as, int fake_port) {
  cluster::MembershipView::Entries view;
  cluster::GossipEntry claimed;
  claimed.info.id = as;
  claimed.info.host = "127.0.0.1";
  claimed.info.port = fake_port;
  claimed.generation = NowMs() - 1000;
  claimed.heartbeat = 1000;
  cluster::GossipEntry fake;
  fake.info.id = "intruder";
  fake.info.host = "127.0.0.1";
  fake.info.port = fake_port;
  fake.generation = NowMs() - 1000;
  fake.heartbeat = 1;
  view.emplace(as, claimed);
  view.emplace("intruder", fake);
  cluster::SiblingSet set;
  cluster::Version version = set.NewVersion({}, as, NowMs() * 1000);
  version.value = "injected by the intruder";
  REQUIRE(set.Add(version));
  return bus::EncodeFrame(bus::FrameType::kGossip, 1, cluster::EncodeGossip(as, view)) +
         bus::EncodeFrame(bus::FrameType::kReplicaPut, 2,
                          bus::EncodeReplicaPut("intruder-key", set.Encode())) +
         bus::EncodeFrame(bus::FrameType::kPing, 3, "");
}

// A HELLO as protocol version 1 encoded it (no nonce field): what an open bus accepted.
std::string HelloVersion1(const std::string& id) {
  std::string payload(1, '\x01');  // varint 1
  payload.push_back(static_cast<char>(id.size()));
  payload += id;
  return bus::EncodeFrame(bus::FrameType::kHello, 0, payload);
}

// Sends `bytes` to the bus at `port` and reads until the node closes the connection; returns
// what it answered (nothing, for a refused peer).
std::string SendAndReadUntilClosed(int port, const std::string& bytes, bool* closed) {
  RawSocket socket(port);
  REQUIRE(socket.connected());
  socket.Send(bytes);  // may fail half-way once the node closed: that is the point
  return socket.ReadUntilClosed(5s, closed);
}

class AttackedCluster {
 public:
  AttackedCluster() : cluster_(3, 3, {}, LocalCluster::Membership::kOneSeed) {
    cluster_.Start();
    client_ = std::make_unique<Client>(cluster_.node(0).port());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(client_->Command({"SET", "key" + std::to_string(i), "v"}) == Reply::Status("OK"));
    }
    ring_ = RingIds(*client_);
    REQUIRE(ring_ == std::set<std::string>{"n1", "n2", "n3"});
    dbsize_ = client_->Command({"DBSIZE"}).integer;
    REQUIRE(dbsize_ == 20);
  }
  int bus_port() { return cluster_.node(0).port() + cluster_.bus_offset(); }
  LocalCluster& cluster() { return cluster_; }
  Client& client() { return *client_; }
  // Nothing the attacker sent took effect, even after a few gossip rounds.
  void CheckUnchanged() {
    std::this_thread::sleep_for(1500ms);
    CHECK(RingIds(*client_) == ring_);
    CHECK(client_->Command({"DBSIZE"}).integer == dbsize_);
    CHECK(client_->Command({"GET", "intruder-key"}) == Reply::Nil());
    for (int i = 1; i < 3; ++i) {
      Client other(cluster_.node(i).port());
      CHECK(RingIds(other) == ring_);
    }
  }
  long long Info(const std::string& field) { return ReadInfoNumber(*client_, "cluster", field); }

 private:
  LocalCluster cluster_;
  std::unique_ptr<Client> client_;
  std::set<std::string> ring_;
  long long dbsize_ = 0;
};

TEST_CASE("an anonymous bus client is refused: no fake member joins, no data is written") {
  if (TestingRealRedis()) return;
  AttackedCluster attacked;
  CHECK(attacked.client().Command({"CONFIG", "GET", "cluster-secret"}) ==
        Reply::Bulks({"cluster-secret", ""}));  // never shown
  CHECK(ReadInfoField(attacked.client(), "cluster", "cluster_bus_auth") == "hmac-sha256");
  const std::string frames = AttackFrames("n2", attacked.cluster().node(1).port());
  bool closed = false;
  // HELLO as the open bus took it, and as today's encoder writes it without a secret.
  CHECK(SendAndReadUntilClosed(attacked.bus_port(), HelloVersion1("n2") + frames, &closed).empty());
  CHECK(closed);
  CHECK(SendAndReadUntilClosed(
            attacked.bus_port(),
            bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("n2")) + frames, &closed)
            .empty());
  CHECK(closed);
  attacked.CheckUnchanged();
  CHECK(attacked.Info("cluster_bus_auth_failures") >= 1);
  const std::string log = attacked.cluster().node(0).LogTail(std::size_t{1} << 20);
  CHECK(log.find("Cluster bus: closing the connection from 127.0.0.1:") != std::string::npos);
  // The first refusal is logged; the second, within the rate limit's interval, is held back.
  CHECK(log.find("peer speaks bus protocol version 1") != std::string::npos);
  CHECK(log.find("peer has no cluster secret") == std::string::npos);
  // The members still talk to each other.
  CHECK(attacked.client().Command({"SET", "after", "ok"}) == Reply::Status("OK"));
}

TEST_CASE("a bus client with the wrong secret is refused") {
  if (TestingRealRedis()) return;
  AttackedCluster attacked;
  const long long failures = attacked.Info("cluster_bus_auth_failures");
  cluster::OutboundHandshake wrong("n2", "n1", "a wrong secret that is long enough");
  std::string error;
  const std::string hello = wrong.Start(&error);
  REQUIRE_FALSE(hello.empty());

  RawSocket socket(attacked.bus_port());
  REQUIRE(socket.connected());
  REQUIRE(socket.Send(hello));
  // The node answers with its challenge; its proof does not verify under the wrong secret.
  const std::string header = socket.ReadBytes(bus::kLengthBytes + bus::kFrameOverhead, 5s);
  REQUIRE(header.size() == bus::kLengthBytes + bus::kFrameOverhead);
  CHECK(static_cast<bus::FrameType>(header[bus::kLengthBytes]) == bus::FrameType::kAuthChallenge);
  std::size_t length = 0;
  for (std::size_t i = 0; i < bus::kLengthBytes; ++i) {
    length |= std::size_t{static_cast<unsigned char>(header[i])} << (8 * i);
  }
  const std::string payload = socket.ReadBytes(length - bus::kFrameOverhead, 5s);
  bus::Frame challenge{bus::FrameType::kAuthChallenge, 0, payload};
  std::string proof;
  CHECK_FALSE(wrong.OnFrame(challenge, &proof, &error));
  CHECK(error.find("wrong authentication proof from the listener") == 0);
  // The attacker goes on anyway with a proof under its secret, then the attack.
  bus::Transcript transcript;  // not the real one: it cannot know better
  const bus::Proof forged =
      bus::MakeProof("a wrong secret that is long enough", bus::Side::kClient, transcript);
  socket.Send(bus::EncodeFrame(bus::FrameType::kAuthProof, 0,
                               bus::EncodeAuthProof(std::string(
                                   reinterpret_cast<const char*>(forged.data()), forged.size()))) +
              AttackFrames("n2", attacked.cluster().node(1).port()));
  bool closed = false;
  CHECK(socket.ReadUntilClosed(5s, &closed).empty());
  CHECK(closed);
  attacked.CheckUnchanged();
  CHECK(attacked.Info("cluster_bus_auth_failures") == failures + 1);
  const std::string log = attacked.cluster().node(0).LogTail(std::size_t{1} << 20);
  CHECK(log.find("wrong authentication proof from 'n2'") != std::string::npos);
}

// A scratch dir removed at the end (the configs live there).
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "dynakv-busauth-XXXXXX").string();
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

// A single-member cluster config naming this process's own port.
std::string WriteConfig(const std::string& dir, int port, const std::string& extra) {
  const std::string path = dir + "/node.toml";
  std::ofstream out(path);
  out << "[cluster]\nenabled = true\nnode-id = \"solo\"\nreplication-factor = 1\n"
      << "port-offset = -30000\nnodes = [\"solo@127.0.0.1:" << port << "\"]\n"
      << extra;
  REQUIRE(out.good());
  return path;
}

TEST_CASE("cluster mode without a secret refuses to start unless cluster-insecure is set") {
  if (TestingRealRedis()) return;
  ScratchDir scratch;
  const std::string config = scratch.path() + "/node.toml";
  {
    ServerProcess node({"--config", config});
    WriteConfig(scratch.path(), node.port(), "");
    const int status = node.StartExpectingExit(10s);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(node.LogTail().find("cluster mode needs a cluster secret") != std::string::npos);
  }
  {
    ServerProcess node({"--config", config});
    WriteConfig(scratch.path(), node.port(), "secret = \"short\"\n");
    const int status = node.StartExpectingExit(10s);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(node.LogTail().find("cluster-secret must be at least 16 bytes") != std::string::npos);
  }
  {
    ServerProcess node({"--config", config});
    WriteConfig(scratch.path(), node.port(), "insecure = true\n");
    node.Start();
    CHECK(node.LogTail().find("the cluster bus (port " + std::to_string(node.port() - 30000) +
                              ") accepts anyone") != std::string::npos);
    Client client(node.port());
    CHECK(ReadInfoField(client, "cluster", "cluster_bus_auth") == "insecure");
    node.Stop();
  }
}

}  // namespace
