// The Prometheus endpoint (metrics-port): scraped over plain HTTP with a raw socket, every line
// checked against the text format (prometheus_parse.h), the values against INFO; HTTP keep-alive
// and refusals; authentication once the node has a secret (requirepass, ACL, metrics-token);
// the cluster's figures; and redis-server's own INFO through the same conversion.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "harness.h"
#include "prometheus_parse.h"
#include "prometheus_text.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoField;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

// A loopback port nothing listens on now, picked by the kernel as the harness picks its own.
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

struct HttpResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// Reads one response (Content-Length framed) from `socket`.
HttpResponse ReadResponse(RawSocket& socket) {
  HttpResponse response;
  response.head = socket.ReadUntil("\r\n\r\n", kTimeout);
  REQUIRE_MESSAGE(response.head.ends_with("\r\n\r\n"), "no response head: " << response.head);
  REQUIRE(response.head.starts_with("HTTP/1.1 "));
  response.status = std::stoi(response.head.substr(9, 3));
  const std::size_t at = response.head.find("\r\nContent-Length: ");
  REQUIRE(at != std::string::npos);
  const std::size_t length = std::stoul(response.head.substr(at + 18));
  response.body = socket.ReadBytes(length, kTimeout);
  REQUIRE(response.body.size() == length);
  return response;
}

HttpResponse Get(int port, const std::string& path = "/metrics", const std::string& headers = "") {
  RawSocket socket(port);
  REQUIRE(socket.connected());
  REQUIRE(socket.Send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers +
                      "Connection: close\r\n\r\n"));
  return ReadResponse(socket);
}

dynakv::prom::Exposition Scrape(int port, const std::string& headers = "") {
  const HttpResponse response = Get(port, "/metrics", headers);
  REQUIRE_MESSAGE(response.status == 200, response.head << response.body);
  CHECK(response.head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  dynakv::prom::Exposition parsed = dynakv::prom::Parse(response.body);
  for (const std::string& error : parsed.errors) FAIL_CHECK(error);
  return parsed;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) << 8 : 0) |
                       (i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string Basic(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + Base64(user + ":" + password) + "\r\n";
}

// The status of GET /metrics at ip:port, or 0 when nothing accepts a connection there.
int StatusAt(const std::string& ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  REQUIRE(inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) == 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  const std::string request = "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string head;
  char buf[4096];
  while (head.size() < 12) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return head.starts_with("HTTP/1.1 ") ? std::stoi(head.substr(9, 3)) : -1;
}

}  // namespace

TEST_CASE("GET /metrics: valid Prometheus text carrying INFO's counters") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  ServerProcess server({"--metrics-port", std::to_string(metrics_port)});
  server.Start();
  Client client(server.port());
  for (int i = 0; i < 20; ++i) {
    REQUIRE(client.Command({"SET", "k" + std::to_string(i), "v"}) == Reply::Status("OK"));
  }
  REQUIRE(client.Command({"SELECT", "2"}) == Reply::Status("OK"));
  REQUIRE(client.Command({"SET", "other", "v"}) == Reply::Status("OK"));
  client.Command({"GET", "missing"});
  client.Command({"GET", "other"});

  const long long processed =
      std::stoll(ReadInfoField(client, "stats", "total_commands_processed"));
  const dynakv::prom::Exposition e = Scrape(metrics_port);
  // The scrape came after INFO, and nothing else ran meanwhile.
  CHECK(e.Value("dynakv_commands_processed_total") == processed + 1);
  CHECK(e.types.at("dynakv_commands_processed_total") == "counter");
  CHECK(e.Value("dynakv_connected_clients") == 1);
  CHECK(e.Value("dynakv_keyspace_hits_total") == 1);
  CHECK(e.Value("dynakv_keyspace_misses_total") == 1);
  CHECK(e.Value("dynakv_db_keys", {{"db", "db0"}}) == 20);
  CHECK(e.Value("dynakv_db_keys", {{"db", "db2"}}) == 1);
  CHECK(e.Value("dynakv_tcp_port") == server.port());
  CHECK(e.Value("dynakv_cluster_enabled") == 0);
  CHECK(e.Value("dynakv_aof_last_write_status") == 1);
  CHECK(e.types.at("dynakv_cpu_user_seconds_total") == "counter");
  bool info = false;
  for (const dynakv::prom::Sample& s : e.samples) {
    if (s.name != "dynakv_instance_info") continue;
    info = true;
    CHECK(s.labels.at("redis_version") == ReadInfoField(client, "server", "redis_version"));
    CHECK(s.labels.at("run_id") == ReadInfoField(client, "server", "run_id"));
  }
  CHECK(info);

  // Per command (INFO commandstats and latencystats): calls, time, and the latency summary
  // whose count is the calls.
  CHECK(e.Value("dynakv_commands_total", {{"cmd", "set"}}) == 21);
  CHECK(e.Value("dynakv_commands_total", {{"cmd", "get"}}) == 2);
  CHECK(*e.Value("dynakv_commands_duration_seconds_total", {{"cmd", "set"}}) > 0);
  CHECK(e.types.at("dynakv_command_latency_seconds") == "summary");
  CHECK(e.Value("dynakv_command_latency_seconds_count", {{"cmd", "set"}}) == 21);
  CHECK(e.Value("dynakv_command_latency_seconds", {{"cmd", "set"}, {"quantile", "0.5"}}));
  // The same calls as a histogram (LATENCY HISTOGRAM's power-of-two buckets), which, unlike the
  // summary, adds up across nodes: cumulative buckets up to +Inf, the count of the calls.
  const std::string h = "dynakv_command_latency_histogram_seconds";
  CHECK(e.types.at(h) == "histogram");
  CHECK(e.Value(h + "_count", {{"cmd", "set"}}) == 21);
  CHECK(e.Value(h + "_bucket", {{"cmd", "set"}, {"le", "+Inf"}}) == 21);
  CHECK(e.Value(h + "_bucket", {{"cmd", "set"}, {"le", "1.048576"}}) == 21);  // all under 1 s
  CHECK(e.Value(h + "_bucket", {{"cmd", "get"}, {"le", "+Inf"}}) == 2);
  CHECK(*e.Value(h + "_sum", {{"cmd", "set"}}) > 0);
  CHECK(*e.Value(h + "_sum", {{"cmd", "set"}}) <
        *e.Value("dynakv_commands_duration_seconds_total", {{"cmd", "set"}}) + 0.001);
  double previous = 0;
  int buckets = 0;
  for (const dynakv::prom::Sample& s : e.samples) {
    if (s.name != h + "_bucket" || s.labels.at("cmd") != "set") continue;
    ++buckets;
    CHECK(s.value >= previous);
    previous = s.value;
  }
  CHECK(buckets == 22);

  // Counters only grow, scrape after scrape; an error reply shows in errorstats.
  for (int i = 0; i < 5; ++i) client.Command({"PING"});
  CHECK(client.Command({"HGET", "other", "x"}).IsError());
  const dynakv::prom::Exposition again = Scrape(metrics_port);
  CHECK(*again.Value("dynakv_commands_processed_total") >=
        *e.Value("dynakv_commands_processed_total") + 5);
  CHECK(again.Value("dynakv_errors_total", {{"err", "WRONGTYPE"}}) == 1);
  server.Stop();
}

TEST_CASE("keep-alive, HEAD, and the refusals of anything but GET /metrics") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  ServerProcess server({"--metrics-port", std::to_string(metrics_port)});
  server.Start();

  // Two requests pipelined on one connection: both answered, in order, the connection kept.
  RawSocket socket(metrics_port);
  REQUIRE(socket.connected());
  REQUIRE(socket.Send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\n"));
  const HttpResponse first = ReadResponse(socket);
  CHECK(first.status == 200);
  CHECK(first.head.find("Connection: close") == std::string::npos);
  // HEAD: the same headers, no body (ReadUntil would see the next bytes, if any).
  const std::string head = socket.ReadUntil("\r\n\r\n", kTimeout);
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  REQUIRE(socket.Send("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK(ReadResponse(socket).status == 200);
  bool closed = false;
  CHECK(socket.ReadUntilClosed(kTimeout, &closed).empty());
  CHECK(closed);

  CHECK(Get(metrics_port, "/").status == 404);
  CHECK(Get(metrics_port, "/metricsx").status == 404);
  CHECK(Get(metrics_port, "/metrics?name[]=x").status == 200);
  {
    RawSocket post(metrics_port);
    REQUIRE(post.Send("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
    const HttpResponse response = ReadResponse(post);
    CHECK(response.status == 405);
    CHECK(response.head.find("Allow: GET, HEAD") != std::string::npos);
  }
  for (const char* garbage : {"*1\r\n$4\r\nPING\r\n\r\n", "GET /metrics HTTP/9.9\r\n\r\n"}) {
    CAPTURE(garbage);
    RawSocket bad(metrics_port);
    REQUIRE(bad.Send(garbage));
    CHECK(ReadResponse(bad).status == 400);
    bool bad_closed = false;
    bad.ReadUntilClosed(kTimeout, &bad_closed);
    CHECK(bad_closed);
  }
  {
    // A head that never ends is cut off rather than buffered without bound.
    RawSocket big(metrics_port);
    REQUIRE(big.Send("GET /metrics HTTP/1.1\r\nX: " + std::string(64 * 1024, 'a')));
    CHECK(ReadResponse(big).status == 431);
  }
  // The node still serves its clients and metrics after all that.
  Client client(server.port());
  CHECK(client.Command({"PING"}) == Reply::Status("PONG"));
  Scrape(metrics_port);
  server.Stop();
}

// Found in review: a peer that half-closed while a response was still being written lost the
// answers to its later pipelined requests.
TEST_CASE("pipelined requests and a half-close: every request is answered") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  ServerProcess server({"--metrics-port", std::to_string(metrics_port)});
  server.Start();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  // A small receive window: the node's writes stall until the test reads, after its FIN.
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(metrics_port));
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  // More answers than the socket buffers hold: the node's writes wait for the test to read.
  constexpr int kRequests = 1000;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) requests += "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
  REQUIRE(send(fd, requests.data(), requests.size(), 0) == static_cast<ssize_t>(requests.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the node fills the window
  REQUIRE(shutdown(fd, SHUT_WR) == 0);
  std::string received;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) received.append(buf, n);
  close(fd);
  int answers = 0;
  for (std::size_t at = 0; (at = received.find("HTTP/1.1 200 OK\r\n", at)) != std::string::npos;
       ++at) {
    ++answers;
  }
  CHECK(answers == kRequests);
  server.Stop();
}

TEST_CASE("with requirepass, a scrape needs the default user's password over basic auth") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  ServerProcess server({"--metrics-port", std::to_string(metrics_port), "--requirepass", "s3cret"});
  server.Start();
  const HttpResponse refused = Get(metrics_port);
  CHECK(refused.status == 401);
  CHECK(refused.head.find("WWW-Authenticate: Basic realm=\"dynakv\"") != std::string::npos);
  CHECK(refused.body.find("dynakv_") == std::string::npos);
  CHECK(Get(metrics_port, "/metrics", Basic("default", "wrong")).status == 401);
  CHECK(Get(metrics_port, "/metrics", Basic("other", "s3cret")).status == 401);
  CHECK(Get(metrics_port, "/metrics", "Authorization: Bearer s3cret\r\n").status == 401);
  CHECK(Get(metrics_port, "/metrics", "Authorization: Basic !!!\r\n").status == 401);
  Scrape(metrics_port, Basic("default", "s3cret"));
  Scrape(metrics_port, Basic("", "s3cret"));

  // The password is read per request: CONFIG SET requirepass and ACL SETUSER apply at once.
  Client client(server.port());
  REQUIRE(client.Command({"AUTH", "s3cret"}) == Reply::Status("OK"));
  REQUIRE(client.Command({"CONFIG", "SET", "requirepass", "n3w"}) == Reply::Status("OK"));
  CHECK(Get(metrics_port, "/metrics", Basic("default", "s3cret")).status == 401);
  Scrape(metrics_port, Basic("default", "n3w"));
  REQUIRE(client.Command({"ACL", "SETUSER", "default", ">second"}) == Reply::Status("OK"));
  Scrape(metrics_port, Basic("default", "second"));
  REQUIRE(client.Command({"ACL", "SETUSER", "default", "off"}) == Reply::Status("OK"));
  CHECK(Get(metrics_port, "/metrics", Basic("default", "n3w")).status == 401);
  CHECK(Get(metrics_port, "/metrics").status == 401);  // off: a secret all the same
  server.Kill();
}

TEST_CASE("metrics-token: a bearer token (or basic auth with it), changeable at run time") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  ServerProcess server({"--metrics-port", std::to_string(metrics_port), "--metrics-token", "t0k"});
  server.Start();
  CHECK(Get(metrics_port).status == 401);
  CHECK(Get(metrics_port, "/metrics", "Authorization: Bearer wrong\r\n").status == 401);
  CHECK(Get(metrics_port, "/metrics", "Authorization: Bearer t0k2\r\n").status == 401);
  Scrape(metrics_port, "Authorization: Bearer t0k\r\n");
  Scrape(metrics_port, "authorization: bearer t0k\r\n");
  Scrape(metrics_port, Basic("prometheus", "t0k"));
  Client client(server.port());  // no requirepass: clients need nothing
  REQUIRE(client.Command({"CONFIG", "SET", "metrics-token", "other"}) == Reply::Status("OK"));
  CHECK(client.Command({"CONFIG", "GET", "metrics-token"}) ==
        Reply::Bulks({"metrics-token", "other"}));
  CHECK(Get(metrics_port, "/metrics", "Authorization: Bearer t0k\r\n").status == 401);
  Scrape(metrics_port, "Authorization: Bearer other\r\n");
  server.Stop();
}

TEST_CASE("metrics-port: on the node's bind address; a taken port stops the start; 0 is off") {
  if (TestingRealRedis()) return;
  // Off by default: nothing listens on a port the node did not ask for.
  {
    ServerProcess server;
    server.Start();
    Client client(server.port());
    CHECK(client.Command({"CONFIG", "GET", "metrics-port"}) == Reply::Bulks({"metrics-port", "0"}));
    CHECK(server.LogTail().find("Prometheus") == std::string::npos);
    server.Stop();
  }
  const int metrics_port = FreePort();
  ServerProcess holder({"--metrics-port", std::to_string(metrics_port)});
  holder.Start();
  ServerProcess second({"--metrics-port", std::to_string(metrics_port)});
  const int status = second.StartExpectingExit(std::chrono::seconds(10));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(second.LogTail().find("Could not create server metrics listening socket 127.0.0.1:" +
                              std::to_string(metrics_port) + ": bind") != std::string::npos);
  // The metrics listener closes with the node: SIGTERM ends it with exit status 0 (Stop
  // checks), and the next node can listen there.
  holder.Stop();
  ServerProcess third({"--metrics-port", std::to_string(metrics_port)});
  third.Start();
  Scrape(metrics_port);
  {
    // SHUTDOWN through the client port ends it too, even with a scraper's idle keep-alive
    // connection open (an open connection is a handle that would keep the loop running).
    RawSocket idle(metrics_port);
    REQUIRE(idle.connected());
    REQUIRE(idle.Send("GET /metrics HTTP/1.1\r\n\r\n"));
    CHECK(ReadResponse(idle).status == 200);
    Client client(third.port());
    client.Command({"SHUTDOWN"});
    CHECK(third.WaitExit(std::chrono::seconds(10)) == 0);
    bool closed = false;
    idle.ReadUntilClosed(kTimeout, &closed);
    CHECK(closed);
  }
  ServerProcess fourth({"--metrics-port", std::to_string(metrics_port)});
  fourth.Start();
  Scrape(metrics_port);
  fourth.Stop();
}

TEST_CASE("the metrics listener follows CONFIG SET bind, as the client port does") {
  if (TestingRealRedis()) return;
  const int metrics_port = FreePort();
  // Peers on 127.0.0.2 are not "loopback" to protected mode (Redis's exact 127.0.0.1 / ::1).
  ServerProcess server({"--metrics-port", std::to_string(metrics_port), "--protected-mode", "no"});
  server.Start();
  Client c(server.port());  // established: it stays across the rebinds
  const Reply ok = Reply::Status("OK");
  CHECK(StatusAt("127.0.0.1", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.2", metrics_port) == 0);

  REQUIRE(c.Command({"CONFIG", "SET", "bind", "127.0.0.2"}) == ok);
  CHECK(StatusAt("127.0.0.2", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.1", metrics_port) == 0);

  // Several addresses: served on each.
  REQUIRE(c.Command({"CONFIG", "SET", "bind", "127.0.0.2 127.0.0.3"}) == ok);
  CHECK(StatusAt("127.0.0.2", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.3", metrics_port) == 200);

  // The metrics port taken on the new address: the change fails as a whole, and both the
  // client port and the metrics endpoint stay on the old addresses.
  const int blocker = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(blocker >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(metrics_port));
  REQUIRE(inet_pton(AF_INET, "127.0.0.4", &addr.sin_addr) == 1);
  REQUIRE(bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(blocker, 1) == 0);
  CHECK(c.Command({"CONFIG", "SET", "bind", "127.0.0.4"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to "
                     "bind to specified addresses."));
  close(blocker);
  CHECK(c.Command({"CONFIG", "GET", "bind"}) == Reply::Bulks({"bind", "127.0.0.2 127.0.0.3"}));
  CHECK(StatusAt("127.0.0.2", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.3", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.4", metrics_port) == 0);
  CHECK(server.LogTail().find("Could not create server metrics listening socket 127.0.0.4:" +
                              std::to_string(metrics_port)) != std::string::npos);

  REQUIRE(c.Command({"CONFIG", "SET", "bind", "127.0.0.1"}) == ok);
  CHECK(StatusAt("127.0.0.1", metrics_port) == 200);
  CHECK(StatusAt("127.0.0.2", metrics_port) == 0);
  Scrape(metrics_port);
  server.Stop();
}

TEST_CASE("a cluster node's metrics: members by state, hints, repairs") {
  if (TestingRealRedis()) return;
  // Four members for N=3: with one down, another stands in for it and holds hints.
  LocalCluster cluster(4, 3, dynakv::itest::FastFailureFlags(1000));
  const int metrics_port = FreePort();
  {
    // The generated config of n1 gets the metrics port (flags would give every node the same).
    std::ifstream in(cluster.config_file(0));
    std::stringstream text;
    text << in.rdbuf();
    std::string config = text.str();
    REQUIRE(config.starts_with("[server]\n"));
    config.insert(9, "metrics-port = " + std::to_string(metrics_port) + "\n");
    std::ofstream(cluster.config_file(0)) << config;
  }
  cluster.Start();
  Client client(cluster.node(0).port());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(client.Command({"SET", "ck" + std::to_string(i), "v"}) == Reply::Status("OK"));
  }
  dynakv::prom::Exposition e;
  // Every member up once gossip has been heard from each.
  CHECK(WaitFor(
      [&] {
        e = Scrape(metrics_port);
        return e.Value("dynakv_cluster_members", {{"state", "up"}}) == 4;
      },
      std::chrono::seconds(20)));
  CHECK(e.Value("dynakv_cluster_members", {{"state", "suspect"}}) == 0);
  CHECK(e.Value("dynakv_cluster_members", {{"state", "down"}}) == 0);
  // INFO's Redis-facing cluster_enabled is 0 in cluster mode too (dynakv is not a Redis Cluster);
  // the members above are what shows a cluster.
  CHECK(e.Value("dynakv_cluster_enabled") == 0);
  CHECK(e.Value("dynakv_cluster_writes_total") >= 10);
  CHECK(e.types.at("dynakv_cluster_hints_pending") == "gauge");
  CHECK(e.types.at("dynakv_cluster_read_repairs_total") == "counter");
  CHECK(e.types.at("dynakv_cluster_anti_entropy_keys_repaired_total") == "counter");
  CHECK(e.Value("dynakv_cluster_hints_pending") ==
        std::stoll(ReadInfoField(client, "cluster", "cluster_hints_pending")));

  // A member stops: the scrape shows it down, and writes leave hints for it on stand-ins.
  cluster.node(3).Kill();
  CHECK(WaitFor(
      [&] {
        e = Scrape(metrics_port);
        return e.Value("dynakv_cluster_members", {{"state", "down"}}) == 1;
      },
      std::chrono::seconds(20)));
  CHECK(e.Value("dynakv_cluster_members", {{"state", "up"}}) == 3);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(client.Command({"SET", "hk" + std::to_string(i), "v"}) == Reply::Status("OK"));
  }
  e = Scrape(metrics_port);
  CHECK(*e.Value("dynakv_cluster_hinted_writes_total") > 0);
  CHECK(*e.Value("dynakv_cluster_hinted_writes_total") ==
        std::stoll(ReadInfoField(client, "cluster", "cluster_hinted_writes")));
}

TEST_CASE("redis-server 7's own INFO everything converts to valid Prometheus text") {
  if (TestingRealRedis() || dynakv::itest::ReferenceRedis().empty()) return;
  ServerProcess redis({}, dynakv::itest::ReferenceRedis());
  redis.Start();
  Client client(redis.port());
  client.Command({"SET", "a", "1"});
  client.Command({"GET", "a"});
  client.Command({"HGET", "a", "x"});  // WRONGTYPE: an errorstat
  const std::string text =
      dynakv::server::InfoToPrometheus(client.Command({"INFO", "everything"}).str);
  const dynakv::prom::Exposition e = dynakv::prom::Parse(text);
  for (const std::string& error : e.errors) FAIL_CHECK(error);
  CHECK(e.Value("dynakv_commands_total", {{"cmd", "get"}}) == 1);
  CHECK(e.Value("dynakv_errors_total", {{"err", "WRONGTYPE"}}) == 1);
  CHECK(e.Value("dynakv_command_latency_seconds_count", {{"cmd", "get"}}) == 1);
  CHECK(e.Value("dynakv_db_keys", {{"db", "db0"}}) == 1);
  CHECK(e.Value("dynakv_commands_processed_total") >= 3);
  redis.Stop();
}
