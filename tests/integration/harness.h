// Harness for the integration tests: real server processes on 127.0.0.1 driven over TCP by
// hiredis (Client) or raw bytes (RawSocket). Every wait is bounded: a hung server fails the test
// instead of hanging it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "raw_socket.h"
#include "reply.h"
#include "server_process.h"

namespace dynakv::itest {

// A started server and one client connected to it: the fixture most tests use.
struct ServerFixture {
  explicit ServerFixture(Flags flags = {});
  ServerProcess server;
  Client client;
};

// Cluster flags that make failures show quickly in tests: gossip every 200 ms, down after
// 1.5 s of silence, a replica silent 500 ms counts as failed, hints offered every 200 ms, and an
// anti-entropy exchange every `anti_entropy_interval_ms`.
Flags FastFailureFlags(int anti_entropy_interval_ms);

// A local dynakv cluster: `nodes` ServerProcesses in cluster mode on 127.0.0.1, with ids n1..nN,
// free client ports and free bus ports (client port + bus_offset()), each started on a config
// file generated here ([cluster] section) plus `extra` flags. Nothing runs until Start().
class LocalCluster {
 public:
  // kListed: every node's cluster-nodes lists every member. kOneSeed: each node lists only
  // itself and has one seed, the next node's bus (n1 -> n2 -> ... -> n1): the rest it must learn
  // by gossip.
  enum class Membership { kListed, kOneSeed };

  explicit LocalCluster(int nodes, int replication_factor = 3, Flags extra = {},
                        Membership membership = Membership::kListed);
  // Multi-dc placement: one node per entry of `dcs` (node i is "n<i+1>@...:port/<dcs[i]>" in
  // every member list) and cluster-replicas-per-dc = `replicas_per_dc` ("dc1:1,dc2:1").
  LocalCluster(const std::vector<std::string>& dcs, const std::string& replicas_per_dc,
               Flags extra = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts every node, each waited for until it answers PING, then waits (bounded) until every
  // node's bus reaches every other one, so no first request meets a reconnect backoff.
  void Start();
  // Starts every node, each waited for until it answers PING, and nothing more.
  void StartProcesses();
  int size() const { return static_cast<int>(nodes_.size()); }
  ServerProcess& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  std::string id(int i) const { return "n" + std::to_string(i + 1); }
  int bus_offset() const { return bus_offset_; }
  // Every cluster has a random secret of its own, in a file its configs name
  // (cluster-secret-file), so the bus is authenticated as in production.
  const std::string& secret() const { return secret_; }
  const std::string& secret_file() const { return secret_file_; }
  // With DYNAKV_TEST_TLS_CLUSTER set (TlsClusterRequested), the bus runs over mutual TLS: the
  // cluster has a CA of its own (tls_dir()/ca.crt) and every node a certificate from it, and
  // tls_section() is the [tls] block its configs carry (for a node a test adds by hand, with
  // the certificate tls_dir()/node.crt). Both empty otherwise.
  bool tls() const { return !tls_section_.empty(); }
  const std::string& tls_dir() const { return dir_; }
  const std::string& tls_section() const { return tls_section_; }
  // Node i's generated config file; a test may edit it before Start.
  const std::string& config_file(int i) const { return configs_.at(static_cast<std::size_t>(i)); }

 private:
  void Setup(int nodes, const std::string& placement, const Flags& extra, Membership membership,
             const std::vector<std::string>& dcs);

  std::string dir_;  // the generated configs
  std::vector<std::string> configs_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  int bus_offset_ = 0;
  std::string secret_;
  std::string secret_file_;
  std::string tls_section_;
};

// Starts `cluster` (LocalCluster::Start) and connects one client to each of its first N nodes,
// in node order: the set-up most cluster tests begin with,
//   LocalCluster cluster(3);
//   auto [n1, n2, n3] = StartWithClients<3>(cluster);
template <std::size_t N>
std::array<Client, N> StartWithClients(LocalCluster& cluster) {
  cluster.Start();
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<Client, N>{Client(cluster.node(static_cast<int>(I)).port())...};
  }(std::make_index_sequence<N>{});
}

// Whether DYNAKV_TEST_TLS_CLUSTER asks for clusters whose bus runs over TLS (ctest's
// integration_tls_* entries set it).
bool TlsClusterRequested();
// Test certificates, made with the openssl tool (EC P-256, valid two days): a self-signed CA
// `dir`/`name`.crt with its key `dir`/`name`.key ...
void MakeTestCa(const std::string& dir, const std::string& name);
// ... and a certificate `dir`/`name`.crt (key `dir`/`name`.key) signed by the CA `dir`/`ca`.
void IssueTestCert(const std::string& dir, const std::string& ca, const std::string& name);
// The [tls] section of a node with tls-cluster yes, its certificate `dir`/`cert`.crt and key,
// the CA `dir`/`ca`.crt.
std::string TlsClusterSection(const std::string& dir, const std::string& cert,
                              const std::string& ca);

// A fresh random cluster secret (hex), and the same written to `path` (one line).
std::string WriteRandomSecret(const std::string& path);

// Deletes everything in a stopped server's data dir (its hints too, which live in <dir>/hints):
// a node that lost its disk. The dir itself stays, empty, for the next Start.
void WipeDataDir(const ServerProcess& server);

// Whether nothing listens on 127.0.0.1:port (binding it succeeds).
bool LoopbackPortFree(int port);

// The value of `field` in the reply of INFO `section`: "" when absent; as a number, -1 then.
std::string ReadInfoField(Client& client, const std::string& section, const std::string& field);
long long ReadInfoNumber(Client& client, const std::string& section, const std::string& field);

// DBSIZE of the node's own replica in cluster mode (KEYSCOPE LOCAL for the one command; a
// plain DBSIZE covers the whole cluster).
Reply LocalDbSize(Client& client);

// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Cluster mode: repeats `argv` until its reply is not an UNAVAILABLE error (a peer connection
// coming back after a restart or a healed partition may be in its reconnect backoff), for at
// most 10 s; returns the last reply.
Reply UntilAvailable(Client& client, const std::vector<std::string>& argv);

// Anti-entropy between every pair of `cluster`'s nodes until every replica of `key` holds the
// same bytes (DEBUG LOCALRAW), for at most `timeout`; returns whether they did.
bool ConvergeReplicas(LocalCluster& cluster, const std::string& key,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A three-node cluster's clients n1..n3: cuts n3 off from n1 and n2 (DEBUG PARTITION on each
// side), until both sides see it; HealPartition lifts every cut, until n1 reaches all three.
void PartitionOffNode3(Client& n1, Client& n2, Client& n3);
void HealPartition(Client& n1, Client& n2, Client& n3);

// The kill -9 hammer of the cluster tests: runs `worker(i)` on a thread per node i of `cluster`,
// then `before_kill` on this thread (a pause, a partition...), kills node 1 (-9) mid-stream,
// restarts it 1.5 s later, lets the workers run 1.5 s more, sets `stop` (the workers' loop
// condition) and joins them, and waits until node 0 reaches every member again.
void RunThroughNodeKill(LocalCluster& cluster, std::atomic<bool>& stop,
                        const std::function<void(int node)>& worker,
                        const std::function<void()>& before_kill);

// `n` bytes from a seeded generator: incompressible test data.
std::string RandomBytes(std::size_t n, std::uint64_t seed);

// Encodes argv as a RESP multibulk request.
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace dynakv::itest
