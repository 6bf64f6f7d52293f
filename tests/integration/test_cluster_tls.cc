// The cluster bus over mutual TLS (tls-cluster yes) against real processes: whoever cannot show a
// certificate from the cluster's CA gets no bus frame at all, even holding the cluster secret:
// a plaintext bus client, an anonymous TLS client (no client certificate), and a node whose
// certificate comes from another CA. Each refusal is logged with the peer's address and counted
// in INFO cluster (cluster_bus_tls_failures, within cluster_bus_auth_failures). The positive
// controls show the same client getting through once it has a good certificate. A node with
// tls-cluster yes but no certificate refuses to start and says why.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "bus_auth.h"
#include "cluster/bus_protocol.h"
#include "harness.h"
#include "raw_socket.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::IssueTestCert;
using dynakv::itest::LocalCluster;
using dynakv::itest::MakeTestCa;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::TlsClusterSection;
using dynakv::itest::WaitFor;
namespace bus = dynakv::cluster::bus;

namespace {

using namespace std::chrono_literals;

// The ids RING lists.
std::set<std::string> RingIds(Client& client) {
  std::set<std::string> ids;
  for (const Reply& line : client.Command({"RING"}).elements) {
    const std::string text = line.elements.empty() ? line.str : line.elements[0].str;
    ids.insert(text.substr(0, text.find(' ')));
  }
  return ids;
}

// A cluster of three whose bus runs over TLS whatever the environment says, with open
// membership (seeds), so that a stranger that got through would join.
class TlsCluster {
 public:
  TlsCluster() : cluster_(ForceTls()) {
    REQUIRE(cluster_.tls());
    cluster_.Start();
    client_ = std::make_unique<Client>(cluster_.node(0).port());
    REQUIRE(client_->Command({"SET", "k", "v"}) == Reply::Status("OK"));
    REQUIRE(RingIds(*client_) == std::set<std::string>{"n1", "n2", "n3"});
  }
  LocalCluster& cluster() { return cluster_; }
  Client& client() { return *client_; }
  int bus_port() { return cluster_.node(0).port() + cluster_.bus_offset(); }
  long long Info(const std::string& field) { return ReadInfoNumber(*client_, "cluster", field); }
  std::string Log() { return cluster_.node(0).LogTail(std::size_t{1} << 20); }

 private:
  static int ForceTls() {
    setenv("DYNAKV_TEST_TLS_CLUSTER", "1", 1);
    return 3;
  }
  LocalCluster cluster_;
  std::unique_ptr<Client> client_;
};

// A blocking TLS client on 127.0.0.1:port with OpenSSL, every socket call bounded by a timeout.
class BusTlsClient {
 public:
  // Trusts `ca_file`; shows `cert`/`key` when given.
  BusTlsClient(int port, const std::string& ca_file, const std::string& cert = "",
            const std::string& key = "") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    REQUIRE(ctx_ != nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    REQUIRE(SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) == 1);
    if (!cert.empty()) {
      REQUIRE(SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) == 1);
      REQUIRE(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1);
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    handshake_ok_ = SSL_connect(ssl_) == 1;
  }
  ~BusTlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  BusTlsClient(const BusTlsClient&) = delete;
  BusTlsClient& operator=(const BusTlsClient&) = delete;

  // Whether this side finished the handshake: under TLS 1.3 a client does so before the server
  // has checked the client's certificate, so a refusal shows only on the next read.
  bool handshake_ok() const { return handshake_ok_; }
  bool Send(const std::string& bytes) {
    return handshake_ok_ && SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) > 0;
  }
  // The common name of the certificate the server showed ("" if none).
  std::string PeerCommonName() const {
    if (!handshake_ok_) return "";
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    char name[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof(name));
    X509_free(cert);
    return name;
  }
  // Up to `count` bytes of plaintext: fewer when the server closed, failed the session or the
  // timeout passed.
  std::string Read(std::size_t count) {
    std::string out;
    char buf[4096];
    while (handshake_ok_ && out.size() < count) {
      const int n =
          SSL_read(ssl_, buf, static_cast<int>(std::min(sizeof(buf), count - out.size())));
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ERR_clear_error();
    return out;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool handshake_ok_ = false;
};

std::string Hello(const std::string& id) {
  return bus::EncodeFrame(bus::FrameType::kHello, 0,
                          bus::EncodeHello(id, std::string(bus::kNonceBytes, 'x')));
}

TEST_CASE("values of every size travel over the TLS bus intact") {
  if (TestingRealRedis()) return;
  TlsCluster tls;
  // Small batches go out as one TLS write, a batch above 4 MB buffer by buffer: both ways.
  const std::string large = dynakv::itest::RandomBytes(6 << 20, 7);
  REQUIRE(tls.client().Command({"SET", "large", large}) == Reply::Status("OK"));
  for (int i = 0; i < 300; ++i) {
    REQUIRE(tls.client().Command({"SET", "k" + std::to_string(i),
                                  dynakv::itest::RandomBytes(100 + i * 37, i)}) ==
            Reply::Status("OK"));
  }
  for (int node = 1; node < 3; ++node) {
    Client other(tls.cluster().node(node).port());
    CHECK(other.Command({"GET", "large"}) == Reply::Bulk(large));
    for (int i = 0; i < 300; i += 29) {
      CHECK(other.Command({"GET", "k" + std::to_string(i)}) ==
            Reply::Bulk(dynakv::itest::RandomBytes(100 + i * 37, i)));
    }
  }
  CHECK(tls.Info("cluster_bus_tls_failures") == 0);
  CHECK(tls.Info("cluster_bus_frame_mac_failures") == 0);
}

TEST_CASE("a TLS bus refuses a plaintext bus client, logs its address and counts it") {
  if (TestingRealRedis()) return;
  TlsCluster tls;
  CHECK(ReadInfoField(tls.client(), "cluster", "cluster_bus_tls") == "yes");
  const long long failures = tls.Info("cluster_bus_tls_failures");
  const long long auth_failures = tls.Info("cluster_bus_auth_failures");
  RawSocket socket(tls.bus_port());
  REQUIRE(socket.connected());
  socket.Send(Hello("n2"));
  bool closed = false;
  const std::string answer = socket.ReadUntilClosed(5s, &closed);
  CHECK(closed);
  // Nothing but perhaps a TLS alert record (content type 21): never a bus frame.
  CHECK((answer.empty() || answer[0] == '\x15'));
  CHECK(WaitFor([&] { return tls.Info("cluster_bus_tls_failures") == failures + 1; }, 5s));
  CHECK(tls.Info("cluster_bus_auth_failures") == auth_failures + 1);
  CHECK(tls.Log().find("Cluster bus: refusing the connection from 127.0.0.1:") !=
        std::string::npos);
  CHECK(tls.client().Command({"SET", "after", "ok"}) == Reply::Status("OK"));
}

TEST_CASE("a TLS bus refuses an anonymous TLS client without a client certificate") {
  if (TestingRealRedis()) return;
  TlsCluster tls;
  const std::string dir = tls.cluster().tls_dir();
  const long long failures = tls.Info("cluster_bus_tls_failures");
  const std::size_t challenge_header = bus::kLengthBytes + bus::kFrameOverhead;
  {
    BusTlsClient anonymous(tls.bus_port(), dir + "/ca.crt");
    anonymous.Send(Hello("n2"));
    CHECK(anonymous.Read(challenge_header).empty());  // no AUTH_CHALLENGE, no byte at all
  }
  CHECK(WaitFor([&] { return tls.Info("cluster_bus_tls_failures") == failures + 1; }, 5s));
  CHECK(tls.Log().find("Cluster bus: refusing the connection from 127.0.0.1:") !=
        std::string::npos);
  {
    // The control: with the cluster's certificate the same client reaches the bus handshake
    // (it still has to prove the cluster secret, which it does not know).
    BusTlsClient member(tls.bus_port(), dir + "/ca.crt", dir + "/node.crt", dir + "/node.key");
    REQUIRE(member.handshake_ok());
    REQUIRE(member.Send(Hello("n2")));
    const std::string header = member.Read(challenge_header);
    REQUIRE(header.size() == challenge_header);
    CHECK(static_cast<bus::FrameType>(header[bus::kLengthBytes]) == bus::FrameType::kAuthChallenge);
  }
  CHECK(tls.Info("cluster_bus_tls_failures") == failures + 1);
}

TEST_CASE("a node whose certificate comes from another CA cannot join a TLS cluster") {
  if (TestingRealRedis()) return;
  TlsCluster tls;
  LocalCluster& cluster = tls.cluster();
  const std::string dir = cluster.tls_dir();
  MakeTestCa(dir, "other-ca");
  IssueTestCert(dir, "other-ca", "intruder");
  const long long failures = tls.Info("cluster_bus_tls_failures");
  // It has everything else: the cluster secret, the CA to check the members by, a seed.
  const std::string config = dir + "/n4.toml";
  std::unique_ptr<ServerProcess> intruder;
  for (int attempt = 0; attempt < 50 && !intruder; ++attempt) {
    auto candidate = std::make_unique<ServerProcess>(Flags{"--config", config});
    if (dynakv::itest::LoopbackPortFree(candidate->port() + cluster.bus_offset())) {
      intruder = std::move(candidate);
    }
  }
  REQUIRE(intruder != nullptr);
  {
    std::ofstream out(config);
    out << "[server]\nloglevel = \"verbose\"\n"
        << "[cluster]\nenabled = true\nnode-id = \"n4\"\n"
        << "port-offset = " << cluster.bus_offset() << "\n"
        << "secret-file = \"" << cluster.secret_file() << "\"\n"
        << "replication-factor = 3\n"
        << "nodes = [\"n4@127.0.0.1:" << intruder->port() << "\"]\n"
        << "seeds = [\"127.0.0.1:" << tls.bus_port() << "\"]\n"
        << "[tls]\ncluster = true\ncert-file = \"" << dir << "/intruder.crt\"\n"
        << "key-file = \"" << dir << "/intruder.key\"\n"
        << "ca-cert-file = \"" << dir << "/ca.crt\"\n";
    REQUIRE(out.good());
  }
  intruder->Start();
  CHECK(WaitFor([&] { return tls.Info("cluster_bus_tls_failures") > failures; }, 10s));
  std::this_thread::sleep_for(2s);  // a few gossip rounds it would have joined in
  for (int i = 0; i < 3; ++i) {
    Client member(cluster.node(i).port());
    CHECK(RingIds(member) == std::set<std::string>{"n1", "n2", "n3"});
  }
  Client intruder_client(intruder->port());
  CHECK(RingIds(intruder_client) == std::set<std::string>{"n4"});
  CHECK(ReadInfoNumber(intruder_client, "cluster", "cluster_bus_tls_failures") >= 1);
  CHECK(intruder->LogTail(1 << 20).find("tls-cluster: the peers must show certificates") !=
        std::string::npos);
  CHECK(tls.Log().find("Cluster bus: refusing the connection from 127.0.0.1:") !=
        std::string::npos);
  CHECK(tls.client().Command({"SET", "after", "ok"}) == Reply::Status("OK"));
}

TEST_CASE("CONFIG SET of the certificate reaches the bus; a file that does not load is refused") {
  if (TestingRealRedis()) return;
  TlsCluster tls;
  const std::string dir = tls.cluster().tls_dir();
  auto shown = [&] {
    BusTlsClient client(tls.bus_port(), dir + "/ca.crt", dir + "/node.crt", dir + "/node.key");
    return client.PeerCommonName();
  };
  REQUIRE(shown() == "node");
  // No tls-port here: the bus alone uses the certificate, and still a bad one is refused.
  const Reply refused =
      tls.client().Command({"CONFIG", "SET", "tls-cert-file", dir + "/missing.crt"});
  CHECK(refused.type == Reply::Type::kError);
  CHECK(refused.str.find("Unable to update TLS configuration") != std::string::npos);
  CHECK(tls.Log().find("tls-cluster: Failed to load certificate: " + dir + "/missing.crt") !=
        std::string::npos);
  CHECK(shown() == "node");
  IssueTestCert(dir, "ca", "renewed");
  CHECK(tls.client().Command({"CONFIG", "SET", "tls-cert-file", dir + "/renewed.crt",
                              "tls-key-file", dir + "/renewed.key"}) == Reply::Status("OK"));
  CHECK(shown() == "renewed");  // new connections get the new certificate
  CHECK(tls.client().Command({"SET", "after", "ok"}) == Reply::Status("OK"));
}

TEST_CASE("tls-cluster yes without a certificate refuses to start, saying why") {
  if (TestingRealRedis()) return;
  std::string templ = (std::filesystem::temp_directory_path() / "dynakv-bustls-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  const std::string dir = templ;
  const std::string secret_file = dir + "/secret";
  dynakv::itest::WriteRandomSecret(secret_file);
  MakeTestCa(dir, "ca");
  IssueTestCert(dir, "ca", "node");
  const std::string config = dir + "/node.toml";
  auto expect_refusal = [&](const std::string& tls_section, const std::string& message) {
    ServerProcess node({"--config", config});
    std::ofstream out(config);
    out << "[cluster]\nenabled = true\nnode-id = \"solo\"\nreplication-factor = 1\n"
        << "port-offset = -30000\nnodes = [\"solo@127.0.0.1:" << node.port() << "\"]\n"
        << "secret-file = \"" << secret_file << "\"\n"
        << tls_section;
    out.close();
    const int status = node.StartExpectingExit(10s);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK_MESSAGE(node.LogTail().find(message) != std::string::npos, node.LogTail());
  };
  expect_refusal("[tls]\ncluster = true\n",
                 "tls-cluster yes needs this node's certificate and key (tls-cert-file and "
                 "tls-key-file)");
  expect_refusal("[tls]\ncluster = true\ncert-file = \"" + dir + "/node.crt\"\nkey-file = \"" +
                     dir + "/node.key\"\n",
                 "tls-cluster yes needs the CA that signs the members' certificates");
  expect_refusal("[tls]\ncluster = true\ncert-file = \"" + dir + "/missing.crt\"\nkey-file = \"" +
                     dir + "/node.key\"\nca-cert-file = \"" + dir + "/ca.crt\"\n",
                 "tls-cluster: Failed to load certificate: " + dir + "/missing.crt");
  // The control: the same node with its certificate starts.
  {
    ServerProcess node({"--config", config});
    std::ofstream out(config);
    out << "[cluster]\nenabled = true\nnode-id = \"solo\"\nreplication-factor = 1\n"
        << "port-offset = -30000\nnodes = [\"solo@127.0.0.1:" << node.port() << "\"]\n"
        << "secret-file = \"" << secret_file << "\"\n"
        << TlsClusterSection(dir, "node", "ca");
    out.close();
    node.Start();
    Client client(node.port());
    CHECK(ReadInfoField(client, "cluster", "cluster_bus_tls") == "yes");
    node.Stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
