#include "harness.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

namespace dynakv::itest {
namespace {

ServerProcess& Started(ServerProcess& server) {
  server.Start();
  return server;
}

}  // namespace

ServerFixture::ServerFixture(Flags flags)
    : server(std::move(flags)), client(Started(server).port()) {
  REQUIRE_MESSAGE(client.ok(), "cannot connect: ", client.error());
}

bool LoopbackPortFree(int port) {
  if (port < 1 || port > 65535) return false;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

std::string ReadInfoField(Client& client, const std::string& section, const std::string& field) {
  const std::string text = "\r\n" + client.Command({"INFO", section}).str;
  const std::string marker = "\r\n" + field + ":";
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t start = at + marker.size();
  return text.substr(start, text.find("\r\n", start) - start);
}

long long ReadInfoNumber(Client& client, const std::string& section, const std::string& field) {
  const std::string text = ReadInfoField(client, section, field);
  return text.empty() ? -1 : std::stoll(text);
}

Reply LocalDbSize(Client& client) {
  const Reply scoped = client.Command({"KEYSCOPE", "LOCAL"});
  if (scoped.IsError()) return scoped;
  Reply size = client.Command({"DBSIZE"});
  client.Command({"KEYSCOPE", "CLUSTER"});
  return size;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Reply UntilAvailable(Client& client, const std::vector<std::string>& argv) {
  Reply reply;
  WaitFor([&] {
    reply = client.Command(argv);
    return !(reply.IsError() && reply.str.starts_with("UNAVAILABLE"));
  });
  return reply;
}

void RunThroughNodeKill(LocalCluster& cluster, std::atomic<bool>& stop,
                        const std::function<void(int node)>& worker,
                        const std::function<void()>& before_kill) {
  std::vector<std::thread> threads;
  for (int i = 0; i < cluster.size(); ++i) threads.emplace_back(worker, i);
  before_kill();
  cluster.node(1).Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  cluster.node(1).Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (std::thread& t : threads) t.join();
  Client n1(cluster.node(0).port());
  REQUIRE(WaitFor(
      [&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == cluster.size(); },
      std::chrono::seconds(20)));
}

void PartitionOffNode3(Client& n1, Client& n2, Client& n3) {
  REQUIRE(n3.Command({"DEBUG", "PARTITION", "n1", "n2"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));
  REQUIRE(WaitFor([&] {
    return ReadInfoNumber(n3, "cluster", "cluster_members_reachable") == 1 &&
           ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 2;
  }));
}

void HealPartition(Client& n1, Client& n2, Client& n3) {
  for (Client* c : {&n1, &n2, &n3}) {
    REQUIRE(c->Command({"DEBUG", "PARTITION"}) == Reply::Status("OK"));
  }
  REQUIRE(WaitFor([&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 3; }));
}

bool ConvergeReplicas(LocalCluster& cluster, const std::string& key,
                      std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        std::string first;
        bool same = true;
        int holders = 0;
        for (int i = 0; i < cluster.size(); ++i) {
          Client c(cluster.node(i).port());
          const Reply raw = c.Command({"DEBUG", "LOCALRAW", key});
          if (raw.IsError()) continue;  // not a replica of this key
          ++holders;
          if (holders == 1) {
            first = raw.str;
          } else if (raw.str != first || raw.type != Reply::Type::kString) {
            same = false;
          }
        }
        if (same && holders > 0) return true;
        for (int i = 0; i < cluster.size(); ++i) {
          Client c(cluster.node(i).port());
          for (int j = 0; j < cluster.size(); ++j) {
            if (j != i) c.Command({"DEBUG", "ANTIENTROPY", cluster.id(j)});
          }
        }
        return false;
      },
      timeout);
}

void WipeDataDir(const ServerProcess& server) {
  const std::filesystem::path dir = server.dir();
  REQUIRE(std::filesystem::is_directory(dir));
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::filesystem::remove_all(entry.path());
  }
  REQUIRE(std::filesystem::is_empty(dir));
}

LocalCluster::LocalCluster(int nodes, int replication_factor, Flags extra,
                           Membership membership) {
  Setup(nodes, "replication-factor = " + std::to_string(replication_factor), extra, membership,
        {});
}

LocalCluster::LocalCluster(const std::vector<std::string>& dcs,
                           const std::string& replicas_per_dc, Flags extra) {
  Setup(static_cast<int>(dcs.size()), "replicas-per-dc = \"" + replicas_per_dc + "\"", extra,
        Membership::kListed, dcs);
}

// `placement` is the [cluster] line that sets the replicas (a factor or per-dc counts).
void LocalCluster::Setup(int nodes, const std::string& placement, const Flags& extra,
                         Membership membership, const std::vector<std::string>& dcs) {
  REQUIRE(nodes >= 1);
  std::string templ =
      (std::filesystem::temp_directory_path() / "dynakv-cluster-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  dir_ = templ;
  secret_file_ = dir_ + "/secret";
  secret_ = WriteRandomSecret(secret_file_);
  // Client ports come from the kernel's ephemeral range (32768-60999 on Linux). Buses go below
  // it, where no outgoing connection of a busy machine can be holding the port as its own.
  bus_offset_ = -30000;
  if (TlsClusterRequested()) {
    MakeTestCa(dir_, "ca");
    IssueTestCert(dir_, "ca", "node");
    tls_section_ = TlsClusterSection(dir_, "node", "ca");
  }
  std::set<int> taken;
  for (int i = 0; i < nodes; ++i) {
    configs_.push_back(dir_ + "/" + id(i) + ".toml");
    Flags flags = {"--config", configs_.back()};
    flags.insert(flags.end(), extra.begin(), extra.end());
    for (int attempt = 0;; ++attempt) {
      REQUIRE_MESSAGE(attempt < 50, "no free client/bus port pair found");
      auto process = std::make_unique<ServerProcess>(flags);
      const int port = process->port();
      const int bus = port + bus_offset_;
      if (taken.contains(port) || taken.contains(bus) || !LoopbackPortFree(bus)) continue;
      taken.insert(port);
      taken.insert(bus);
      nodes_.push_back(std::move(process));
      break;
    }
  }
  auto member = [&](int i) {
    const std::string dc = dcs.empty() ? "" : "/" + dcs.at(static_cast<std::size_t>(i));
    return "\"" + id(i) + "@127.0.0.1:" + std::to_string(node(i).port()) + dc + "\"";
  };
  std::string members;
  for (int i = 0; i < nodes; ++i) members += std::string(i == 0 ? "" : ", ") + member(i);
  for (int i = 0; i < nodes; ++i) {
    std::ofstream out(configs_[static_cast<std::size_t>(i)]);
    out << "[server]\nloglevel = \"verbose\"\n"
        << "[cluster]\nenabled = true\nnode-id = \"" << id(i) << "\"\n"
        << "port-offset = " << bus_offset_ << "\n"
        << "secret-file = \"" << secret_file_ << "\"\n"
        << placement << "\n";
    if (membership == Membership::kListed) {
      out << "nodes = [" << members << "]\n";
    } else {
      const int seed = (i + 1) % nodes;
      out << "nodes = [" << member(i) << "]\n"
          << "seeds = [\"127.0.0.1:" << node(seed).port() + bus_offset_ << "\"]\n";
    }
    out << tls_section_;
    REQUIRE(out.good());
  }
}

bool TlsClusterRequested() {
  const char* value = std::getenv("DYNAKV_TEST_TLS_CLUSTER");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

namespace {

void RunOpenssl(const std::string& args) {
  const std::string command = "openssl " + args + " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "failed: ", command);
}

}  // namespace

void MakeTestCa(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  RunOpenssl(
      "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" +
      name + " -keyout " + base + ".key -out " + base + ".crt");
}

void IssueTestCert(const std::string& dir, const std::string& ca, const std::string& name) {
  const std::string base = dir + "/" + name;
  const std::string ca_base = dir + "/" + ca;
  RunOpenssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
             " -keyout " + base + ".key -out " + base + ".csr");
  RunOpenssl("x509 -req -days 2 -in " + base + ".csr -CA " + ca_base + ".crt -CAkey " + ca_base +
             ".key -CAcreateserial -out " + base + ".crt");
}

std::string TlsClusterSection(const std::string& dir, const std::string& cert,
                              const std::string& ca) {
  return "[tls]\ncluster = true\ncert-file = \"" + dir + "/" + cert + ".crt\"\nkey-file = \"" +
         dir + "/" + cert + ".key\"\nca-cert-file = \"" + dir + "/" + ca + ".crt\"\n";
}

std::string WriteRandomSecret(const std::string& path) {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  for (int i = 0; i < 64; ++i) secret += kHex[random() % 16];
  std::ofstream out(path);
  out << secret << "\n";
  REQUIRE(out.good());
  return secret;
}

LocalCluster::~LocalCluster() {
  nodes_.clear();  // kills what still runs
  if (std::getenv("DYNAKV_ITEST_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void LocalCluster::StartProcesses() {
  for (auto& process : nodes_) process->Start();
}

void LocalCluster::Start() {
  StartProcesses();
  for (auto& process : nodes_) {
    Client client(process->port());
    const bool connected = WaitFor([&] {
      return ReadInfoNumber(client, "cluster", "cluster_members_reachable") == size();
    });
    REQUIRE_MESSAGE(connected, "cluster node on port ", process->port(),
                    " does not reach its peers; log tail:\n", process->LogTail());
    // What a TLS run claims to test: a bus that is TLS, and no handshake that failed.
    REQUIRE(ReadInfoField(client, "cluster", "cluster_bus_tls") == (tls() ? "yes" : "no"));
    if (tls()) REQUIRE(ReadInfoNumber(client, "cluster", "cluster_bus_tls_failures") == 0);
  }
}

std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  // splitmix64: fast, and different seeds give unrelated streams.
  std::string out(n, '\0');
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(out.data() + i, &z, std::min<std::size_t>(8, n - i));
  }
  return out;
}

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

Flags FastFailureFlags(int anti_entropy_interval_ms) {
  return {"--cluster-gossip-interval-ms", "200", "--cluster-down-after-ms", "1500",
          "--cluster-request-timeout-ms", "500", "--cluster-hint-handoff-interval-ms", "200",
          "--cluster-anti-entropy-interval-ms", std::to_string(anti_entropy_interval_ms)};
}

}  // namespace dynakv::itest
