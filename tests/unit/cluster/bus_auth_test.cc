// The authenticated bus: the handshake refuses a wrong secret on either side, a reflected or
// replayed proof and an impostor listener; after it, a frame that is replayed, modified or sent
// without its MAC closes the connection and is counted.
#include "bus_auth.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bus_handshake.h"
#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::RawClient;
using testing::TestCluster;

const ConsistencyLevel kAll{ConsistencyLevel::Kind::kAll};
const std::string kSecret = "the right secret, 32 bytes long!";
const std::string kWrong = "the wrong secret, 32 bytes long!";

bool AlwaysPeer(std::string_view) { return true; }

// Splits the first whole frame off `bytes` into *storage; *frame points into *storage. False
// when no frame is complete yet.
bool TakeFrame(std::string* bytes, bus::Frame* frame, std::string* storage) {
  if (bytes->size() < bus::kLengthBytes) return false;
  std::size_t length = 0;
  for (std::size_t i = 0; i < bus::kLengthBytes; ++i) {
    length |= std::size_t{static_cast<unsigned char>((*bytes)[i])} << (8 * i);
  }
  if (bytes->size() < bus::kLengthBytes + length) return false;
  REQUIRE(length >= bus::kFrameOverhead);
  storage->assign(*bytes, 0, bus::kLengthBytes + length);
  bytes->erase(0, bus::kLengthBytes + length);
  frame->type = static_cast<bus::FrameType>((*storage)[bus::kLengthBytes]);
  frame->id = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    frame->id |= std::uint64_t{static_cast<unsigned char>((*storage)[bus::kLengthBytes + 1 + i])}
                 << (8 * i);
  }
  frame->payload = std::string_view(*storage).substr(bus::kLengthBytes + bus::kFrameOverhead);
  return true;
}

// Runs a client handshake and a server handshake against each other in memory, keeping what
// an eavesdropper sees (the transcript's nonces and ids, the listener's proof).
struct Pair {
  OutboundHandshake client;
  InboundHandshake server;
  std::string server_secret;
  std::string server_binding;  // the listener's TLS channel binding (empty: plain)
  bus::Transcript seen;
  std::string server_proof;
  std::string error;

  Pair(const std::string& client_secret, const std::string& server_secret_in,
       const std::string& expected = "A")
      : client("B", expected, client_secret), server_secret(server_secret_in) {}

  InboundHandshake::Context Context() const {
    return {"A", server_secret, AlwaysPeer, server_binding};
  }

  // HELLO -> CHALLENGE: returns the challenge frame (the server must not have failed).
  std::string Hello() {
    std::string hello = client.Start(&error);
    REQUIRE_FALSE(hello.empty());
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&hello, &frame, &storage));
    std::uint32_t version;
    std::string_view id, nonce;
    REQUIRE(bus::DecodeHello(frame.payload, &version, &id, &nonce));
    REQUIRE(nonce.size() == bus::kNonceBytes);
    seen.client_id.assign(id);
    std::copy(nonce.begin(), nonce.end(), seen.client_nonce.begin());
    std::string reply;
    REQUIRE(server.OnFrame(frame, Context(), &reply, &error) ==
            InboundHandshake::State::kAwaitingProof);
    std::string copy = reply;
    REQUIRE(TakeFrame(&copy, &frame, &storage));
    std::string_view server_id, server_nonce, proof;
    REQUIRE(bus::DecodeAuthChallenge(frame.payload, &server_id, &server_nonce, &proof));
    seen.server_id.assign(server_id);
    std::copy(server_nonce.begin(), server_nonce.end(), seen.server_nonce.begin());
    server_proof.assign(proof);
    return reply;
  }

  // Feeds the client the challenge; returns its AUTH_PROOF frame (empty if it refused).
  std::string Answer(std::string challenge) {
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&challenge, &frame, &storage));
    std::string proof;
    if (!client.OnFrame(frame, &proof, &error)) return {};
    return proof;
  }

  InboundHandshake::State Prove(const std::string& proof_payload) {
    const std::string frame_bytes = bus::EncodeFrame(bus::FrameType::kAuthProof, 0, proof_payload);
    std::string bytes = frame_bytes;
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&bytes, &frame, &storage));
    std::string reply;
    return server.OnFrame(frame, Context(), &reply, &error);
  }
};

std::string ProofPayload(const std::string& frame_bytes) {
  std::string bytes = frame_bytes;
  bus::Frame frame;
  std::string storage;
  REQUIRE(TakeFrame(&bytes, &frame, &storage));
  return std::string(frame.payload);
}

std::string AsString(const bus::Proof& proof) {
  return std::string(reinterpret_cast<const char*>(proof.data()), proof.size());
}

TEST_CASE("handshake: the same secret authenticates both sides and agrees on the keys") {
  Pair pair(kSecret, kSecret);
  const std::string proof = pair.Answer(pair.Hello());
  REQUIRE_MESSAGE(!proof.empty(), pair.error);
  CHECK(pair.client.done());
  CHECK(pair.Prove(ProofPayload(proof)) == InboundHandshake::State::kIdentified);
  CHECK(pair.server.node() == "B");
  CHECK(pair.client.send_key() == pair.server.receive_key());
  CHECK(pair.client.receive_key() == pair.server.send_key());
  CHECK(pair.client.send_key() != pair.client.receive_key());  // one key per direction

  // Another connection has keys of its own (fresh nonces).
  Pair again(kSecret, kSecret);
  REQUIRE_FALSE(again.Answer(again.Hello()).empty());
  CHECK(again.client.send_key() != pair.client.send_key());
}

TEST_CASE("handshake: over TLS the proofs hold on one TLS session only (channel binding)") {
  // Both ends see the same exporter output: authenticated, and the keys agree.
  Pair same(kSecret, kSecret);
  same.server_binding = std::string(32, 'a');
  same.client.set_channel_binding(std::string(32, 'a'));
  const std::string proof = same.Answer(same.Hello());
  REQUIRE_MESSAGE(!proof.empty(), same.error);
  CHECK(same.Prove(ProofPayload(proof)) == InboundHandshake::State::kIdentified);
  CHECK(same.client.send_key() == same.server.receive_key());

  // A relay holding a valid certificate terminates two TLS sessions (different exporter
  // outputs) and passes the handshake through: the listener's proof does not verify for the
  // dialling node...
  Pair relayed(kSecret, kSecret);
  relayed.server_binding = std::string(32, 'a');
  relayed.client.set_channel_binding(std::string(32, 'b'));
  CHECK(relayed.Answer(relayed.Hello()).empty());
  CHECK(relayed.error.find("wrong authentication proof from the listener") == 0);

  // ... nor does the dialling node's proof for the listener.
  Pair other(kSecret, kSecret);
  other.server_binding = std::string(32, 'a');
  const std::string challenge = other.Hello();
  bus::Transcript client_view = other.seen;
  client_view.channel_binding = std::string(32, 'b');
  CHECK(other.Prove(bus::EncodeAuthProof(AsString(bus::MakeProof(
            kSecret, bus::Side::kClient, client_view)))) == InboundHandshake::State::kFailed);
}

TEST_CASE("handshake: a wrong secret is refused by both sides") {
  SUBCASE("the dialling node checks the listener's proof") {
    Pair pair(kWrong, kSecret);
    CHECK(pair.Answer(pair.Hello()).empty());
    CHECK(pair.error.find("wrong authentication proof from the listener") == 0);
    CHECK_FALSE(pair.client.done());
  }
  SUBCASE("the listener checks the dialling node's proof") {
    Pair pair(kSecret, kSecret);
    pair.Hello();
    // What a node with the wrong secret would compute over this very transcript.
    CHECK(pair.Prove(bus::EncodeAuthProof(AsString(bus::MakeProof(
              kWrong, bus::Side::kClient, pair.seen)))) == InboundHandshake::State::kFailed);
    CHECK(pair.server.auth_failed());
    CHECK(pair.error.find("wrong authentication proof from 'B'") == 0);
  }
}

TEST_CASE("handshake: a reflected or replayed proof fails") {
  SUBCASE("the listener's own proof sent back to it") {
    Pair pair(kSecret, kSecret);
    pair.Hello();
    CHECK(pair.Prove(bus::EncodeAuthProof(pair.server_proof)) == InboundHandshake::State::kFailed);
    CHECK(pair.server.auth_failed());
  }
  SUBCASE("a valid proof replayed on another connection") {
    Pair first(kSecret, kSecret);
    const std::string proof = first.Answer(first.Hello());
    REQUIRE_FALSE(proof.empty());
    Pair second(kSecret, kSecret);
    second.Hello();
    CHECK(second.Prove(ProofPayload(proof)) == InboundHandshake::State::kFailed);
    CHECK(second.server.auth_failed());
    // It was valid where it came from.
    CHECK(first.Prove(ProofPayload(proof)) == InboundHandshake::State::kIdentified);
  }
  SUBCASE("no proof at all: a request instead") {
    Pair pair(kSecret, kSecret);
    pair.Hello();
    const std::string ping = bus::EncodeFrame(bus::FrameType::kPing, 1, "");
    std::string bytes = ping;
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&bytes, &frame, &storage));
    std::string reply;
    CHECK(pair.server.OnFrame(frame, pair.Context(), &reply, &pair.error) ==
          InboundHandshake::State::kFailed);
    CHECK(pair.error == "expected AUTH_PROOF, got PING");
  }
}

TEST_CASE("handshake: the listener must prove the id the dialling node expects") {
  Pair pair(kSecret, kSecret, "C");  // dialling C, but A answers (with the secret)
  CHECK(pair.Answer(pair.Hello()).empty());
  CHECK(pair.error == "the listener says it is 'A', not 'C'");
}

TEST_CASE("handshake: a node with a secret and one without refuse each other") {
  SUBCASE("secret dials insecure") {
    OutboundHandshake client("B", "A", kSecret);
    InboundHandshake server;
    std::string error;
    std::string hello = client.Start(&error);
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&hello, &frame, &storage));
    std::string reply;
    CHECK(server.OnFrame(frame, {"A", "", AlwaysPeer}, &reply, &error) ==
          InboundHandshake::State::kFailed);
    CHECK(server.auth_failed());
    CHECK(error.find("this node has none") != std::string::npos);
  }
  SUBCASE("insecure dials secret") {
    OutboundHandshake client("B", "A", "");
    InboundHandshake server;
    std::string error;
    std::string hello = client.Start(&error);
    CHECK(client.done());  // nothing to wait for without a secret
    bus::Frame frame;
    std::string storage;
    REQUIRE(TakeFrame(&hello, &frame, &storage));
    std::string reply;
    CHECK(server.OnFrame(frame, {"A", kSecret, AlwaysPeer}, &reply, &error) ==
          InboundHandshake::State::kFailed);
    CHECK(server.auth_failed());
    CHECK(error == "peer has no cluster secret (this node requires one)");
  }
}

TEST_CASE("frame MAC: keyed once, bound to the sequence number and every byte") {
  bus::Key key{};
  key[0] = 1;
  bus::FrameMac a, b;
  REQUIRE(a.Init(key));
  REQUIRE(b.Init(key));
  const std::string header = bus::EncodeFrameHeader(bus::FrameType::kPing, 1, 16);
  const bus::FrameTag first = a.Next(header, "payload");
  const bus::FrameTag second = a.Next(header, "payload");
  CHECK(first != second);  // the same frame again is a different tag: no replay
  CHECK(bus::TagsEqual(first, std::string_view(b.Next(header, "payload").data(), 16)));
  bus::FrameMac c;
  REQUIRE(c.Init(key));
  CHECK(c.Next(header, "paylOad") != first);
  bus::Key other = key;
  other[1] = 1;
  bus::FrameMac d;
  REQUIRE(d.Init(other));
  CHECK(d.Next(header, "payload") != first);
  CHECK_FALSE(bus::TagsEqual(first, "short"));

  // It is HMAC-SHA256 over sequence number (u64 little endian), header and payload, truncated.
  std::string message(8, '\0');
  message[0] = 1;  // the second frame of `a`
  message += header + "payload";
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(message.data()), message.size(), full,
               &length) != nullptr);
  CHECK(std::string(second.data(), 16) == std::string(reinterpret_cast<char*>(full), 16));
}

// A member played by hand over a real socket: the handshake and the frame MACs as a node does
// them, and ways to break them.
class HandPeer {
 public:
  HandPeer(TestCluster& cluster, int port, const std::string& secret)
      : cluster_(cluster), client_(port), handshake_("B", "A", secret) {}

  // Runs the handshake; false if the node refused (or its proof did not verify).
  bool Authenticate(std::string* error) {
    client_.Send(handshake_.Start(error));
    bus::Frame frame;
    std::string storage;
    if (!Read(&frame, &storage)) {
      *error = "no challenge";
      return false;
    }
    std::string proof;
    if (!handshake_.OnFrame(frame, &proof, error)) return false;
    client_.Send(proof);
    REQUIRE(send_.Init(handshake_.send_key()));
    REQUIRE(receive_.Init(handshake_.receive_key()));
    return true;
  }
  // A frame as a node sends it after the handshake: length counting the tag, tag appended.
  std::string Seal(bus::FrameType type, std::uint64_t id, const std::string& payload) {
    std::string header = bus::EncodeFrameHeader(type, id, payload.size() + bus::kFrameMacBytes);
    const bus::FrameTag tag = send_.Next(header, payload);
    return header + payload + std::string(tag.data(), tag.size());
  }
  void Send(const std::string& bytes) { client_.Send(bytes); }
  // Reads one frame, checking its MAC once authenticated.
  bool ReadVerified(bus::Frame* frame, std::string* storage) {
    if (!Read(frame, storage)) return false;
    REQUIRE(frame->payload.size() >= bus::kFrameMacBytes);
    const std::size_t body = frame->payload.size() - bus::kFrameMacBytes;
    const std::string header =
        bus::EncodeFrameHeader(frame->type, frame->id, frame->payload.size());
    const bus::FrameTag expected = receive_.Next(header, frame->payload.substr(0, body));
    CHECK(bus::TagsEqual(expected, frame->payload.substr(body)));
    frame->payload = frame->payload.substr(0, body);
    return true;
  }
  bool ClosedByNode() {
    return testing::RunUntil(
        cluster_.loop(), [&] { return !client_.Poll(); }, 3000);
  }

 private:
  bool Read(bus::Frame* frame, std::string* storage) {
    bool got = false;
    testing::RunUntil(
        cluster_.loop(),
        [&] {
          const bool open = client_.Poll();
          // RunUntil calls this once more at the end: a frame is taken once.
          if (!got) got = TakeFrame(&client_.received(), frame, storage);
          return got || !open;
        },
        3000);
    return got;
  }

  TestCluster& cluster_;
  RawClient client_;
  OutboundHandshake handshake_;
  bus::FrameMac send_;
  bus::FrameMac receive_;
};

TEST_CASE("bus: after the handshake a replayed, modified or unsigned frame closes the connection") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.secret = kSecret; });
  cluster.Start(0);  // B is played by this test
  const int port = cluster.node(0).bus_port();
  HandPeer peer(cluster, port, kSecret);
  std::string error;
  REQUIRE_MESSAGE(peer.Authenticate(&error), error);

  // Signed frames are served, and the replies are signed.
  const std::string ping = peer.Seal(bus::FrameType::kPing, 41, "");
  peer.Send(ping);
  bus::Frame frame;
  std::string storage;
  REQUIRE(peer.ReadVerified(&frame, &storage));
  CHECK(frame.type == bus::FrameType::kPong);
  CHECK(frame.id == 41);
  CHECK(cluster.node(0).stats().bus_frame_mac_failures == 0);

  SUBCASE("replayed") { peer.Send(ping); }
  SUBCASE("modified") {
    std::string get = peer.Seal(bus::FrameType::kReplicaGet, 42, bus::EncodeReplicaGet("key"));
    get[bus::kLengthBytes + bus::kFrameOverhead + 2] ^= 1;  // "key" -> "jey"
    peer.Send(get);
  }
  SUBCASE("without a MAC") { peer.Send(bus::EncodeFrame(bus::FrameType::kPing, 43, "")); }
  SUBCASE("skipping one (a dropped frame)") {
    peer.Seal(bus::FrameType::kPing, 44, "");  // never sent
    peer.Send(peer.Seal(bus::FrameType::kPing, 45, ""));
  }
  CHECK(peer.ClosedByNode());
  CHECK(cluster.node(0).stats().bus_frame_mac_failures == 1);
  CHECK(cluster.node(0).stats().replica_requests_served == 0);
}

TEST_CASE("bus: a peer with the wrong secret is refused and counted") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.secret = kSecret; });
  cluster.Start(0);
  const int port = cluster.node(0).bus_port();
  HandPeer wrong(cluster, port, kWrong);
  std::string error;
  CHECK_FALSE(wrong.Authenticate(&error));  // the node's proof does not verify under kWrong
  CHECK(error.find("wrong authentication proof from the listener") == 0);
  // Whatever it sends next is not a proof the node accepts.
  wrong.Send(bus::EncodeFrame(bus::FrameType::kAuthProof, 0,
                              bus::EncodeAuthProof(std::string(bus::kProofBytes, 'x'))));
  CHECK(wrong.ClosedByNode());
  CHECK(cluster.node(0).stats().bus_auth_failures == 1);

  // An anonymous member (HELLO without a nonce, as before authentication) is refused too.
  RawClient anonymous(port);
  anonymous.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("B")));
  CHECK(testing::RunUntil(
      cluster.loop(), [&] { return !anonymous.Poll(); }, 3000));
  CHECK(cluster.node(0).stats().bus_auth_failures == 2);
}

TEST_CASE("bus: nodes with different secrets refuse each other, count it and log it") {
  auto logs = std::make_shared<std::vector<std::string>>();
  TestCluster cluster(2, [logs](ClusterOptions& o) {
    o.secret = o.self_id == "A" ? kSecret : kWrong;
    o.log_warning = [logs, self = o.self_id](const std::string& message) {
      logs->push_back(self + ": " + message);
    };
  });
  cluster.StartAll();
  CHECK_FALSE(cluster.Set(1, "k", "v", kAll).ok);
  CHECK_FALSE(cluster.Set(0, "k", "v", kAll).ok);
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(0).stats().bus_auth_failures >= 1 &&
           cluster.node(1).stats().bus_auth_failures >= 1;
  }));
  auto logged = [&](const std::string& what) {
    return std::any_of(logs->begin(), logs->end(), [&](const std::string& line) {
      return line.find(what) != std::string::npos;
    });
  };
  CHECK(logged("authentication failed: wrong authentication proof from the listener"));
  CHECK(logged("127.0.0.1"));  // the peer's address is in the lines
}

}  // namespace
}  // namespace dynakv::cluster
