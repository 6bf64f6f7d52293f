// TLS on the client port, against a real server process: redis-cli --tls round trips, pipelined
// SET/GET of large values through an OpenSSL client, tls-auth-clients yes/optional/no with
// valid, missing and foreign client certificates, plaintext on the TLS port, a server with only
// a TLS port (port 0), and certificates reloaded by CONFIG SET. Certificates are made by the
// test with the openssl CLI. Runs against redis-server as well (DYNAKV_ITEST_REDIS).

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "raw_socket.h"
#include "server_process.h"
#include "tls_client.h"

namespace dynakv::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  pclose(pipe);
  return out;
}

// Two CAs and certificates they signed, made with the openssl CLI (RSA 2048).
class Certs {
 public:
  Certs() {
    std::string templ = (std::filesystem::temp_directory_path() / "dynakv-tls-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    dir_ = templ;
    MakeCa("ca");
    MakeCa("ca2");
    Issue("server", "ca");
    Issue("client", "ca");
    Issue("server2", "ca2");  // the reloaded server certificate
    Issue("rogue", "ca2");    // a client certificate from a CA the server does not trust
  }
  ~Certs() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string crt(const std::string& name) const { return dir_ + "/" + name + ".crt"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  void Openssl(const std::string& args) {
    const std::string command = "openssl " + args + " >/dev/null 2>&1";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
  }
  void MakeCa(const std::string& name) {
    Openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name + " -keyout " +
            key(name) + " -out " + crt(name));
  }
  void Issue(const std::string& name, const std::string& ca) {
    Openssl("req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + key(name) + " -out " +
            dir_ + "/" + name + ".csr");
    Openssl("x509 -req -days 2 -in " + dir_ + "/" + name + ".csr -CA " + crt(ca) + " -CAkey " +
            key(ca) + " -CAcreateserial -out " + crt(name));
  }
  std::string dir_;
};

// Made once per test binary: generating RSA keys is the slow part of these tests.
const Certs& TestCerts() {
  static Certs certs;
  return certs;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// A server with a plain port (from the harness) and a TLS port.
struct TlsServer {
  TlsServer(const Certs& certs, Flags extra = {}, bool start = true)
      : tls_port(FreePort()), process(MakeFlags(certs, tls_port, std::move(extra))) {
    if (start) process.Start();
  }
  static Flags MakeFlags(const Certs& certs, int tls_port, Flags extra) {
    Flags flags = {"--tls-port",         std::to_string(tls_port), "--tls-cert-file",
                   certs.crt("server"),  "--tls-key-file",         certs.key("server"),
                   "--tls-ca-cert-file", certs.crt("ca")};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return flags;
  }
  int tls_port;
  ServerProcess process;
};

TlsClientOptions Trusting(const Certs& certs, const std::string& ca,
                          const std::string& client = "") {
  TlsClientOptions options;
  options.ca_file = certs.crt(ca);
  if (!client.empty()) {
    options.cert_file = certs.crt(client);
    options.key_file = certs.key(client);
  }
  return options;
}

// PING over TLS: "PONG", or why not.
std::string TlsPing(int port, const TlsClientOptions& options) {
  TlsClient client(port, options, seconds(5));
  if (!client.connected()) return "handshake failed: " + client.error();
  const Reply reply = client.Command({"PING"});
  return reply.type == Reply::Type::kStatus ? reply.str : "failed: " + reply.str;
}

TEST_CASE("redis-cli --tls round trips") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  const std::string cli = "timeout 10 redis-cli -p " + std::to_string(server.tls_port) +
                          " --tls --cacert " + certs.crt("ca") + " --cert " + certs.crt("client") +
                          " --key " + certs.key("client") + " ";
  CHECK(Run(cli + "SET greeting hello") == "OK\n");
  CHECK(Run(cli + "GET greeting") == "hello\n");
  CHECK(Run(cli + "INCRBY counter 41") == "41\n");
  // The plain port serves the same data.
  Client plain(server.process.port());
  CHECK(plain.Command({"GET", "greeting"}) == Reply::Bulk("hello"));
  CHECK(plain.Command({"INCR", "counter"}) == Reply::Int(42));
  CHECK(Run(cli + "GET counter") == "42\n");
}

TEST_CASE("pipelined SET and GET of large values over TLS") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  TlsClient client(server.tls_port, Trusting(certs, "ca", "client"), seconds(30));
  REQUIRE_MESSAGE(client.connected(), client.error());
  constexpr int kKeys = 24;
  auto value = [](int i) {
    std::string v(700 * 1024 + i * 4099, '\0');
    std::uint32_t x = static_cast<std::uint32_t>(i) * 2654435761u + 1;
    for (char& c : v) {
      x = x * 1664525 + 1013904223;
      c = static_cast<char>(x >> 24);
    }
    return v;
  };
  // All the SETs in one write (~19 MB), then all the GETs: the replies come back through
  // partial TLS writes.
  for (int i = 0; i < kKeys; ++i) client.Append({"SET", "big:" + std::to_string(i), value(i)});
  REQUIRE(client.Flush());
  for (const Reply& reply : client.ReadReplies(kKeys)) CHECK(reply == Reply::Status("OK"));
  for (int i = 0; i < kKeys; ++i) client.Append({"GET", "big:" + std::to_string(i)});
  REQUIRE(client.Flush());
  const std::vector<Reply> replies = client.ReadReplies(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    CAPTURE(i);
    REQUIRE(replies[i].type == Reply::Type::kString);
    CHECK(replies[i].str.size() == value(i).size());
    CHECK(replies[i].str == value(i));
  }
  // Many small pipelined commands in one TLS record stream.
  for (int i = 0; i < 1000; ++i) client.Append({"SET", "k" + std::to_string(i), std::to_string(i)});
  for (int i = 0; i < 1000; ++i) client.Append({"GET", "k" + std::to_string(i)});
  REQUIRE(client.Flush());
  const std::vector<Reply> small = client.ReadReplies(2000);
  for (int i = 0; i < 1000; ++i) {
    CHECK(small[i] == Reply::Status("OK"));
    CHECK(small[1000 + i] == Reply::Bulk(std::to_string(i)));
  }
}

TEST_CASE("tls-auth-clients yes (the default): a certificate from the CA is required") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")) == "PONG");
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca")) != "PONG");           // none
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "rogue")) != "PONG");  // wrong CA
  // The client checks the server too: a server certificate from an unknown CA is refused.
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca2", "client")).starts_with("handshake failed"));
  // The refused handshakes left the server serving.
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")) == "PONG");
}

TEST_CASE("tls-auth-clients optional and no") {
  const Certs& certs = TestCerts();
  SUBCASE("optional: none is fine, a foreign one is refused") {
    TlsServer server(certs, {"--tls-auth-clients", "optional"});
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca")) == "PONG");
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")) == "PONG");
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "rogue")) != "PONG");
  }
  SUBCASE("no: certificates are not asked for") {
    TlsServer server(certs, {"--tls-auth-clients", "no"});
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca")) == "PONG");
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "rogue")) == "PONG");
  }
  SUBCASE("CONFIG SET tls-auth-clients applies to new connections") {
    TlsServer server(certs);
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca")) != "PONG");
    Client plain(server.process.port());
    CHECK(plain.Command({"CONFIG", "SET", "tls-auth-clients", "optional"}) == Reply::Status("OK"));
    CHECK(plain.Command({"CONFIG", "GET", "tls-auth-clients"}) ==
          Reply::Bulks({"tls-auth-clients", "optional"}));
    CHECK(TlsPing(server.tls_port, Trusting(certs, "ca")) == "PONG");
    CHECK(plain.Command({"CONFIG", "SET", "tls-auth-clients", "maybe"}) ==
          Reply::Error("ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - "
                       "argument(s) must be one of the following: no, yes, optional"));
  }
}

TEST_CASE("past maxclients a TLS client reads Redis's refusal after its handshake") {
  if (TestingRealRedis()) return;  // Redis 7.0 tries to send it before the handshake: lost
  const Certs& certs = TestCerts();
  TlsServer server(certs, {"--maxclients", "1"});
  // The harness's readiness check may still hold the one slot for a moment.
  std::unique_ptr<Client> first;
  for (int i = 0; i < 100; ++i) {
    first = std::make_unique<Client>(server.process.port());
    if (first->Command({"PING"}) == Reply::Status("PONG")) break;
    first.reset();
    std::this_thread::sleep_for(milliseconds(50));
  }
  REQUIRE(first != nullptr);
  TlsClient refused(server.tls_port, Trusting(certs, "ca", "client"));
  REQUIRE_MESSAGE(refused.connected(), refused.error());
  const std::vector<Reply> replies = refused.ReadReplies(1);
  CHECK(replies[0] == Reply::Error("ERR max number of clients reached"));
}

TEST_CASE("a plaintext client on the TLS port is closed") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  RawSocket raw(server.tls_port);
  REQUIRE(raw.connected());
  REQUIRE(raw.Send("PING\r\n*1\r\n$4\r\nPING\r\n"));
  bool closed = false;
  const std::string got = raw.ReadUntilClosed(seconds(10), &closed);
  CHECK(closed);
  CHECK(got.find("PONG") == std::string::npos);  // nothing ran
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")) == "PONG");
}

TEST_CASE("port 0: only the TLS port is open") {
  const Certs& certs = TestCerts();
  TlsServer server(certs, {"--port", "0"}, /*start=*/false);
  server.process.Launch();
  std::string pong;
  for (int i = 0; i < 200 && pong != "PONG"; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    pong = TlsPing(server.tls_port, Trusting(certs, "ca", "client"));
  }
  REQUIRE(pong == "PONG");
  // The harness's port is not listened on.
  RawSocket raw(server.process.port());
  CHECK(!raw.connected());
  TlsClient client(server.tls_port, Trusting(certs, "ca", "client"));
  CHECK(client.Command({"CONFIG", "GET", "port"}) == Reply::Bulks({"port", "0"}));
}

TEST_CASE("no port at all: the server refuses to start") {
  if (TestingRealRedis()) return;  // redis-server exits with the same words, status 1
  ServerProcess process({"--port", "0"});
  const int status = process.StartExpectingExit(seconds(10));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(process.LogTail().find("Configured to not listen anywhere") != std::string::npos);
}

TEST_CASE("CONFIG SET of the certificate files reloads them; a bad file keeps the old ones") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  Client plain(server.process.port());
  // A file that does not exist: refused with Redis's error, the running context stays.
  CHECK(plain.Command({"CONFIG", "SET", "tls-cert-file", certs.crt("nonexistent")}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
                     "Unable to update TLS configuration. Check server logs."));
  CHECK(plain.Command({"CONFIG", "GET", "tls-cert-file"}) ==
        Reply::Bulks({"tls-cert-file", certs.crt("server")}));
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")) == "PONG");
  // A key that does not match the certificate: refused too.
  CHECK(plain.Command({"CONFIG", "SET", "tls-cert-file", certs.crt("server2")}).IsError());
  // A connection open before the reload keeps working on the old context.
  TlsClient before(server.tls_port, Trusting(certs, "ca", "client"));
  REQUIRE(before.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  // The new pair, signed by ca2: clients must now trust ca2 to connect.
  CHECK(plain.Command({"CONFIG", "SET", "tls-cert-file", certs.crt("server2"), "tls-key-file",
                       certs.key("server2")}) == Reply::Status("OK"));
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca2", "client")) == "PONG");
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca", "client")).starts_with("handshake failed"));
  CHECK(before.Command({"GET", "k"}) == Reply::Bulk("v"));
  // A protocol list Redis does not know is refused the same way.
  CHECK(plain.Command({"CONFIG", "SET", "tls-protocols", "TLSv9"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - "
                     "Unable to update TLS configuration. Check server logs."));
  CHECK(plain.Command({"CONFIG", "SET", "tls-protocols", "TLSv1.2"}) == Reply::Status("OK"));
  CHECK(TlsPing(server.tls_port, Trusting(certs, "ca2", "client")) == "PONG");
}

TEST_CASE("CONFIG SET tls-port moves, closes and opens the TLS port") {
  const Certs& certs = TestCerts();
  TlsServer server(certs);
  Client plain(server.process.port());
  const TlsClientOptions options = Trusting(certs, "ca", "client");
  // A connection on the old port outlives the move.
  TlsClient before(server.tls_port, options);
  REQUIRE(before.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  const int moved = FreePort();
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", std::to_string(moved)}) == Reply::Status("OK"));
  CHECK(TlsPing(moved, options) == "PONG");
  CHECK(!RawSocket(server.tls_port).connected());
  CHECK(before.Command({"GET", "k"}) == Reply::Bulk("v"));
  // A port another socket holds: refused, the current one stays.
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", std::to_string(server.process.port())}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to "
                     "listen on this port. Check server logs."));
  CHECK(TlsPing(moved, options) == "PONG");
  // 0 closes it; opening it again rebuilds the context from files changed meanwhile.
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", "0"}) == Reply::Status("OK"));
  CHECK(!RawSocket(moved).connected());
  CHECK(plain.Command({"CONFIG", "SET", "tls-cert-file", certs.crt("server2"), "tls-key-file",
                       certs.key("server2")}) == Reply::Status("OK"));
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", std::to_string(moved)}) == Reply::Status("OK"));
  // Redis 7.0 reopens the port with the context it had before (the old certificate), ignoring
  // the files set while it was closed; dynakv serves what CONFIG GET shows.
  if (!TestingRealRedis()) CHECK(TlsPing(moved, Trusting(certs, "ca2", "client")) == "PONG");
}

TEST_CASE("a node without TLS gets it by CONFIG SET") {
  const Certs& certs = TestCerts();
  ServerProcess process;
  process.Start();
  Client plain(process.port());
  const int tls_port = FreePort();
  // Without certificates the port cannot open.
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", std::to_string(tls_port)}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to "
                     "update TLS configuration. Check server logs."));
  CHECK(plain.Command({"CONFIG", "SET", "tls-cert-file", certs.crt("server"), "tls-key-file",
                       certs.key("server"), "tls-ca-cert-file", certs.crt("ca")}) ==
        Reply::Status("OK"));
  CHECK(plain.Command({"CONFIG", "SET", "tls-port", std::to_string(tls_port)}) ==
        Reply::Status("OK"));
  CHECK(TlsPing(tls_port, Trusting(certs, "ca", "client")) == "PONG");
}

TEST_CASE("a bad certificate file at start stops the server") {
  const Certs& certs = TestCerts();
  TlsServer server(certs, {"--tls-key-file", certs.key("missing")}, /*start=*/false);
  const int status = server.process.StartExpectingExit(seconds(10));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(server.process.LogTail().find("Failed to load private key") != std::string::npos);
  CHECK(server.process.LogTail().find("Failed to configure TLS") != std::string::npos);
}

}  // namespace
}  // namespace dynakv::itest
