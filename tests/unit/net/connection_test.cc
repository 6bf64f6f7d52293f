// net::Connection over loopback pairs on one uv loop: plain and TLS round trips, large payloads
// through partial writes and backpressure, handshake failures (wrong CA, missing client
// certificate, plaintext on a TLS port, a silent peer), and closing or destroying a connection
// with a write in flight.

#include "net/connection.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/listener.h"
#include "net/tls_context.h"
#include "test_certs.h"

namespace dynakv::net {
namespace {

// A test peer: collects what it reads, echoes it back when asked, and records every callback.
class Peer : public ConnectionHandler {
 public:
  explicit Peer(uv_loop_t* loop, bool echo = false) : conn(loop, this), echo_(echo) {}

  std::span<char> ReadBuffer() override {
    buffer_.resize(read_chunk);
    return {buffer_.data(), buffer_.size()};
  }
  void OnRead(std::size_t n) override {
    received.append(buffer_.data(), n);
    if (echo_) Send(std::string(buffer_.data(), n));
  }
  void OnEof() override { eof = true; }
  void OnReady() override {
    ready = true;
    if (read_on_ready) conn.ReadStart();
    if (!queued_.empty()) Pump();
  }
  void OnFailure(const ConnectionFailure& f) override {
    failure = f;
    if (close_on_failure) conn.Close();
  }
  void OnWriteDone() override {
    ++write_dones;
    sending_.clear();
    Pump();
  }

  void Send(std::string data) {
    queued_ += data;
    if (conn.ready()) Pump();
  }
  std::size_t unsent() const { return queued_.size() + sending_.size(); }

  Connection conn;
  std::string received;
  bool ready = false;
  bool eof = false;
  bool read_on_ready = true;
  bool close_on_failure = true;
  int write_dones = 0;
  int pending_writes = 0;
  std::size_t read_chunk = 16 * 1024;
  std::optional<ConnectionFailure> failure;

 private:
  void Pump() {
    while (!conn.writing() && !queued_.empty() && !conn.closed()) {
      sending_.swap(queued_);
      queued_.clear();
      const auto result = conn.Write(sending_);
      if (result == Connection::WriteResult::kPending) {
        ++pending_writes;
        return;
      }
      sending_.clear();
      if (result == Connection::WriteResult::kFailed) return;
    }
  }
  std::string buffer_;
  std::string sending_;
  std::string queued_;
  bool echo_;
};

// A loop, a listener on an ephemeral port, and the peers it accepted.
class Fixture {
 public:
  Fixture() {
    uv_loop_init(&loop_);
    listener_ = std::make_unique<Listener>(&loop_);
  }
  ~Fixture() {
    accepted.clear();
    listener_.reset();
    for (int i = 0; i < 100 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
    }
    uv_loop_close(&loop_);
  }
  uv_loop_t* loop() { return &loop_; }

  // Accepted connections are echo peers unless `echo` is false.
  void Listen(std::shared_ptr<TlsContext> tls = nullptr, TlsPeerAuth auth = TlsPeerAuth::kYes,
              bool echo = true, std::uint64_t handshake_timeout_ms = 0) {
    Listener::Callbacks callbacks;
    callbacks.accepted = [this, tls, auth, echo, handshake_timeout_ms](int fd) {
      auto peer = std::make_unique<Peer>(&loop_, echo);
      peer->conn.set_handshake_timeout(handshake_timeout_ms);
      Peer* raw = peer.get();
      accepted.push_back(std::move(peer));
      raw->conn.Accept(fd, tls, auth);
    };
    callbacks.failed = [](int, bool) {};
    const char* step = nullptr;
    REQUIRE(listener_->Listen("127.0.0.1", 0, 64, std::move(callbacks), &step) == 0);
  }
  sockaddr_in address() const {
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", listener_->port(), &addr);
    return addr;
  }
  // Runs the loop until `done` or `seconds` pass; false on timeout.
  bool RunUntil(const std::function<bool()>& done, double seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 10, 10);
    bool ok = false;
    while (!(ok = done()) && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ok;
  }

  std::vector<std::unique_ptr<Peer>> accepted;

 private:
  uv_loop_t loop_;
  std::unique_ptr<Listener> listener_;
};

std::string Payload(std::size_t size) {
  std::string s(size, '\0');
  std::uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

std::shared_ptr<TlsContext> ServerContext(const testing::TestCerts& certs) {
  TlsOptions options;
  options.cert_file = certs.crt("server");
  options.key_file = certs.key("server");
  options.ca_cert_file = certs.crt("ca");
  std::string error;
  auto ctx = TlsContext::Create(options, TlsContext::Side::kServer, &error);
  INFO(error);
  REQUIRE(ctx != nullptr);
  return ctx;
}

std::shared_ptr<TlsContext> ClientContext(const testing::TestCerts& certs, const std::string& ca,
                                          const std::string& cert = "") {
  TlsOptions options;
  if (!cert.empty()) {
    options.cert_file = certs.crt(cert);
    options.key_file = certs.key(cert);
  }
  options.ca_cert_file = certs.crt(ca);
  std::string error;
  auto ctx = TlsContext::Create(options, TlsContext::Side::kClient, &error);
  INFO(error);
  REQUIRE(ctx != nullptr);
  return ctx;
}

void RoundTrip(Fixture& f, std::shared_ptr<TlsContext> client_tls, std::size_t size) {
  Peer client(f.loop());
  const sockaddr_in addr = f.address();
  REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&addr), client_tls) == 0);
  const std::string payload = Payload(size);
  client.Send(payload);
  REQUIRE(f.RunUntil([&] { return client.received.size() >= payload.size() || client.failure; }));
  CHECK(!client.failure);
  CHECK(client.received == payload);
  CHECK(client.conn.is_tls() == (client_tls != nullptr));
  if (client_tls) CHECK(client.conn.tls_version() == "TLSv1.3");
  REQUIRE(f.accepted.size() == 1);
  CHECK(!f.accepted[0]->failure);
  CHECK(f.accepted[0]->received == payload);
  // A payload this large cannot go through loopback in one try: the kPending path ran.
  if (size >= 1024 * 1024) CHECK(client.write_dones > 0);
  // EOF reaches the other side through either transport.
  REQUIRE(client.conn.ShutdownWrite() == 0);
  REQUIRE(f.RunUntil([&] { return f.accepted[0]->eof; }));
}

TEST_CASE("plain round trip, small and large (partial writes, both directions)") {
  Fixture f;
  f.Listen();
  SUBCASE("small") { RoundTrip(f, nullptr, 5); }
  SUBCASE("large") { RoundTrip(f, nullptr, 16 * 1024 * 1024); }
}

TEST_CASE("TLS round trip, small and large") {
  testing::TestCerts certs;
  Fixture f;
  f.Listen(ServerContext(certs), TlsPeerAuth::kNo);
  SUBCASE("small") { RoundTrip(f, ClientContext(certs, "ca"), 5); }
  SUBCASE("large") { RoundTrip(f, ClientContext(certs, "ca"), 16 * 1024 * 1024); }
  SUBCASE("tiny read buffers") {
    // The owner's buffer is smaller than a record: decrypted bytes arrive in many reads.
    f.Listen(ServerContext(certs), TlsPeerAuth::kNo);
    Peer client(f.loop());
    client.read_chunk = 7;
    const sockaddr_in addr = f.address();
    REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                                ClientContext(certs, "ca")) == 0);
    const std::string payload = Payload(100000);
    client.Send(payload);
    REQUIRE(f.RunUntil([&] { return client.received.size() >= payload.size() || client.failure; }));
    CHECK(client.received == payload);
  }
}

TEST_CASE("TLS handshake fails against a server whose CA the client does not trust") {
  testing::TestCerts certs;
  Fixture f;
  f.Listen(ServerContext(certs), TlsPeerAuth::kNo);
  Peer client(f.loop());
  const sockaddr_in addr = f.address();
  REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                              ClientContext(certs, "other-ca")) == 0);
  client.Send("secret");
  REQUIRE(
      f.RunUntil([&] { return client.failure && !f.accepted.empty() && f.accepted[0]->failure; }));
  CHECK(client.failure->kind == ConnectionFailure::Kind::kTls);
  CHECK(client.failure->detail.find("certificate verify failed") != std::string::npos);
  CHECK(!client.ready);
  CHECK(f.accepted[0]->received.empty());
  CHECK(!f.accepted[0]->ready);
}

// Connects a TLS client (with `cert`, or none) to a server with `auth`; runs until both sides
// settle; returns the server side's peer.
Peer* ConnectWithAuth(Fixture& f, const testing::TestCerts& certs, TlsPeerAuth auth,
                      const std::string& cert, Peer& client) {
  f.Listen(ServerContext(certs), auth);
  const sockaddr_in addr = f.address();
  REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                              ClientContext(certs, "ca", cert)) == 0);
  client.Send("ping");
  // In TLS 1.3 the client finishes its handshake before the server checks its certificate:
  // a refusal shows as the server's failure and then an alert (or EOF) at the client.
  REQUIRE(f.RunUntil([&] { return client.failure || client.eof || client.received == "ping"; }));
  REQUIRE(f.accepted.size() == 1);
  return f.accepted[0].get();
}

TEST_CASE("tls-auth-clients yes: a certificate signed by the CA is required") {
  testing::TestCerts certs;
  SUBCASE("signed by the CA") {
    Fixture f;
    Peer client(f.loop());
    Peer* server = ConnectWithAuth(f, certs, TlsPeerAuth::kYes, "client", client);
    CHECK(client.received == "ping");
    CHECK(server->conn.peer_verified());
  }
  SUBCASE("none") {
    Fixture f;
    Peer client(f.loop());
    Peer* server = ConnectWithAuth(f, certs, TlsPeerAuth::kYes, "", client);
    CHECK(client.received.empty());
    REQUIRE(server->failure);
    CHECK(server->failure->kind == ConnectionFailure::Kind::kTls);
    CHECK(server->received.empty());
  }
  SUBCASE("signed by another CA") {
    Fixture f;
    Peer client(f.loop());
    Peer* server = ConnectWithAuth(f, certs, TlsPeerAuth::kYes, "rogue", client);
    CHECK(client.received.empty());
    REQUIRE(server->failure);
    CHECK(server->failure->detail.find("certificate") != std::string::npos);
    CHECK(server->received.empty());
  }
}

TEST_CASE("tls-auth-clients optional: no certificate is fine, a bad one is not") {
  testing::TestCerts certs;
  SUBCASE("none") {
    Fixture f;
    Peer client(f.loop());
    Peer* server = ConnectWithAuth(f, certs, TlsPeerAuth::kOptional, "", client);
    CHECK(client.received == "ping");
    CHECK(!server->conn.peer_verified());
  }
  SUBCASE("signed by another CA") {
    Fixture f;
    Peer client(f.loop());
    Peer* server = ConnectWithAuth(f, certs, TlsPeerAuth::kOptional, "rogue", client);
    CHECK(client.received.empty());
    CHECK(server->failure);
  }
}

// A raw socket client: what a peer that does not speak TLS does.
int RawConnect(const sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

TEST_CASE("plaintext on a TLS port fails the handshake; a silent peer times out") {
  testing::TestCerts certs;
  Fixture f;
  f.Listen(ServerContext(certs), TlsPeerAuth::kNo, true, /*handshake_timeout_ms=*/300);
  SUBCASE("plaintext") {
    const int fd = RawConnect(f.address());
    const char request[] = "*1\r\n$4\r\nPING\r\n";
    REQUIRE(write(fd, request, sizeof(request) - 1) > 0);
    REQUIRE(f.RunUntil([&] { return !f.accepted.empty() && f.accepted[0]->failure; }));
    CHECK(f.accepted[0]->failure->kind == ConnectionFailure::Kind::kTls);
    CHECK(f.accepted[0]->received.empty());
    close(fd);
  }
  SUBCASE("silent") {
    const int fd = RawConnect(f.address());
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(f.RunUntil([&] { return !f.accepted.empty() && f.accepted[0]->failure; }));
    CHECK(f.accepted[0]->failure->kind == ConnectionFailure::Kind::kHandshakeTimeout);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(250));
    close(fd);
  }
}

TEST_CASE("idle timeout: a connection that reads nothing fails, one that reads does not") {
  Fixture f;
  f.Listen();
  Peer client(f.loop());
  client.conn.set_idle_timeout(200);
  const sockaddr_in addr = f.address();
  REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&addr)) == 0);
  // Echoes every 50 ms keep it alive past several timeouts.
  for (int i = 0; i < 10; ++i) {
    client.Send("x");
    const std::size_t want = static_cast<std::size_t>(i + 1);
    REQUIRE(f.RunUntil([&] { return client.received.size() == want; }));
    f.RunUntil([] { return false; }, 0.05);
  }
  CHECK(!client.failure);
  REQUIRE(f.RunUntil([&] { return client.failure.has_value(); }, 2));
  CHECK(client.failure->kind == ConnectionFailure::Kind::kIdleTimeout);
}

// A server that never reads: the client's writes back up into libuv.
TEST_CASE("closing or destroying a connection with a write in flight") {
  testing::TestCerts certs;
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    Fixture f;
    f.Listen(tls ? ServerContext(certs) : nullptr, TlsPeerAuth::kNo, /*echo=*/false);
    for (bool destroy : {false, true}) {
      auto client = std::make_unique<Peer>(f.loop());
      const sockaddr_in addr = f.address();
      REQUIRE(client->conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                                   tls ? ClientContext(certs, "ca") : nullptr) == 0);
      REQUIRE(f.RunUntil([&] { return client->ready && f.accepted.size() >= 1; }));
      for (auto& peer : f.accepted) peer->conn.ReadStop();  // nobody reads on the server
      client->Send(Payload(64 * 1024 * 1024));
      REQUIRE(f.RunUntil([&] { return client->conn.writing(); }));
      CHECK(client->conn.unsent_bytes() > 0);
      if (destroy) {
        client.reset();  // without Close(): the destructor orphans the write
      } else {
        auto closed = std::make_shared<bool>(false);
        client->conn.Close(std::shared_ptr<void>(nullptr, [closed](void*) { *closed = true; }));
        REQUIRE(f.RunUntil([&] { return *closed; }));
        CHECK(client->write_dones == 0);  // no callback after Close
        CHECK(!client->failure);
      }
      // The loop runs on without the client; the server sees the connection go.
      REQUIRE(f.RunUntil([&] {
        for (auto& peer : f.accepted) {
          peer->conn.ReadStart();
        }
        return f.accepted.back()->eof || f.accepted.back()->failure;
      }));
    }
  }
}

TEST_CASE("exported keying material: the same at both ends, per connection, none when plain") {
  testing::TestCerts certs;
  Fixture f;
  f.Listen(ServerContext(certs), TlsPeerAuth::kNo);
  const sockaddr_in addr = f.address();
  Peer first(f.loop());
  Peer second(f.loop());
  REQUIRE(first.conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                             ClientContext(certs, "ca")) == 0);
  REQUIRE(second.conn.Connect(reinterpret_cast<const sockaddr*>(&addr),
                              ClientContext(certs, "ca")) == 0);
  CHECK(first.conn.ExportKeyingMaterial("EXPORTER-test", 32).empty());  // not up yet
  REQUIRE(f.RunUntil([&] {
    return first.ready && second.ready && f.accepted.size() == 2 && f.accepted[0]->ready &&
           f.accepted[1]->ready;
  }));
  const std::string a = first.conn.ExportKeyingMaterial("EXPORTER-test", 32);
  CHECK(a.size() == 32);
  // The accepted side of the same connection: which one is first is the order of accept.
  const std::string server0 = f.accepted[0]->conn.ExportKeyingMaterial("EXPORTER-test", 32);
  const std::string server1 = f.accepted[1]->conn.ExportKeyingMaterial("EXPORTER-test", 32);
  const std::string b = second.conn.ExportKeyingMaterial("EXPORTER-test", 32);
  CHECK(a != b);
  CHECK(((a == server0 && b == server1) || (a == server1 && b == server0)));
  CHECK(first.conn.ExportKeyingMaterial("EXPORTER-other", 32) != a);

  Fixture plain;
  plain.Listen();
  const sockaddr_in plain_addr = plain.address();
  Peer client(plain.loop());
  REQUIRE(client.conn.Connect(reinterpret_cast<const sockaddr*>(&plain_addr)) == 0);
  REQUIRE(plain.RunUntil([&] { return client.ready; }));
  CHECK(client.conn.ExportKeyingMaterial("EXPORTER-test", 32).empty());
}

TEST_CASE("TLS contexts: bad files are refused with Redis's messages") {
  testing::TestCerts certs;
  TlsOptions options;
  options.cert_file = certs.crt("server");
  options.key_file = certs.key("server");
  options.ca_cert_file = certs.crt("ca");
  std::string error;
  SUBCASE("missing key") {
    options.key_file = certs.dir() + "/nope.key";
    CHECK(TlsContext::Create(options, TlsContext::Side::kServer, &error) == nullptr);
    CHECK(error.rfind("Failed to load private key: " + options.key_file + ": ", 0) == 0);
  }
  SUBCASE("key of another certificate") {
    options.key_file = certs.key("client");
    CHECK(TlsContext::Create(options, TlsContext::Side::kServer, &error) == nullptr);
    CHECK(error.rfind("Failed to load private key", 0) == 0);
  }
  SUBCASE("no CA while clients are verified") {
    options.ca_cert_file.clear();
    CHECK(TlsContext::Create(options, TlsContext::Side::kServer, &error) == nullptr);
    CHECK(error.find("Either tls-ca-cert-file or tls-ca-cert-dir must be specified") == 0);
    options.ca_required = false;
    CHECK(TlsContext::Create(options, TlsContext::Side::kServer, &error) != nullptr);
  }
  SUBCASE("unknown cipher") {
    options.ciphers = "NOT-A-CIPHER";
    CHECK(TlsContext::Create(options, TlsContext::Side::kServer, &error) == nullptr);
    CHECK(error == "Failed to configure ciphers: NOT-A-CIPHER");
  }
  SUBCASE("protocols") {
    int bits = 0;
    CHECK(ParseTlsProtocols("TLSv1.2 tlsv1.3", &bits));
    CHECK(bits == (kTlsV1_2 | kTlsV1_3));
    CHECK(ParseTlsProtocols("", &bits));
    CHECK(bits == kTlsDefaultProtocols);
    CHECK(!ParseTlsProtocols("TLSv1.4", &bits));
  }
}

}  // namespace
}  // namespace dynakv::net
