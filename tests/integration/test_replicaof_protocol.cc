// REPLICAOF against a master played by the test on a loopback socket (issue 17): every byte the
// replica sends is checked and every byte it gets is chosen, so the handshake, the -LOADING
// window, MULTI/EXEC offsets, GETACK, the periodic ACK and the PSYNC after a broken link are
// seen exactly; REPLICAOF's errors, `replicaof` at start, and cluster mode's refusal.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "harness.h"
#include "reference_pair.h"
#include "replica_util.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

using namespace std::chrono_literals;

class FakeMaster {
 public:
  FakeMaster() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listen_fd_, 4) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~FakeMaster() {
    Drop();
    close(listen_fd_);
  }
  int port() const { return port_; }

  void Accept() {
    Drop();
    pollfd p{listen_fd_, POLLIN, 0};
    REQUIRE(poll(&p, 1, 10000) == 1);
    fd_ = accept(listen_fd_, nullptr, nullptr);
    REQUIRE(fd_ >= 0);
    buffer_.clear();
  }
  void Drop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // The next `expected.size()` bytes the replica sends must be `expected`.
  void Expect(const std::string& expected) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (buffer_.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      REQUIRE(n > 0);
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    REQUIRE(buffer_.substr(0, expected.size()) == expected);
    buffer_.erase(0, expected.size());
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string buffer_;
};

TEST_CASE("against a master played by the test: handshake, LOADING, MULTI/EXEC, GETACK, PSYNC") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  // An RDB as Redis 7 writes it: one key in database 0, one with an expiry in database 2.
  std::string rdb;
  {
    ServerProcess redis({"--appendonly", "no"}, ReferenceRedis());
    redis.Start();
    Client c(redis.port());
    Ok(c, {"SET", "loaded", "yes"});
    Ok(c, {"SELECT", "2"});
    Ok(c, {"SET", "expiring", "v", "PXAT", "4102444800000"});
    Ok(c, {"SAVE"});
    std::ifstream in(redis.dir() + "/dump.rdb", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    rdb = ss.str();
  }
  REQUIRE(rdb.size() > 40);
  FakeMaster master;
  ServerProcess node;
  node.Start();
  Client ours(node.port());
  Ok(ours, {"SET", "stale", "old"});
  Ok(ours, {"CONFIG", "SET", "masteruser", "repl"});
  Ok(ours, {"CONFIG", "SET", "masterauth", "pw"});
  Ok(ours, {"REPLICAOF", "127.0.0.1", std::to_string(master.port())});

  master.Accept();
  master.Expect(EncodeCommand({"PING"}));
  master.Send("+PONG\r\n");
  master.Expect(EncodeCommand({"AUTH", "repl", "pw"}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"REPLCONF", "listening-port", std::to_string(node.port())}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"REPLCONF", "capa", "eof", "capa", "psync2"}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"PSYNC", "?", "-1"}));
  const std::string replid(40, 'a');
  const std::string mark(40, 'z');
  master.Send("\n\n+FULLRESYNC " + replid + " 1000\r\n");
  master.Send("\n$EOF:" + mark + "\r\n" + rdb.substr(0, rdb.size() / 2));
  // Loading: clients wait, as Redis's replica answers them while it loads.
  CHECK(WaitFor([&] { return Repl(ours, "master_sync_in_progress") == "1"; }, 10s));
  CHECK(ours.Command({"GET", "loaded"}) ==
        Reply::Error("LOADING Redis is loading the dataset in memory"));
  CHECK(ours.Command({"ROLE"}).elements[3].str == "sync");

  std::string stream = EncodeCommand({"SELECT", "2"}) + EncodeCommand({"SET", "s", "1"}) +
                       EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "tx", "1"}) +
                       EncodeCommand({"INCR", "txcount"});
  master.Send(rdb.substr(rdb.size() / 2) + mark + stream);
  // The first ACK at once, for the RDB (a Redis master streams only after it).
  master.Expect(EncodeCommand({"REPLCONF", "ACK", "1000"}));
  long long offset = 1000 + static_cast<long long>(stream.size());
  CHECK(WaitFor([&] { return Repl(ours, "master_link_status") == "up"; }, 10s));
  Ok(ours, {"SELECT", "2"});
  CHECK(WaitFor([&] { return ours.Command({"GET", "s"}) == Reply::Bulk("1"); }, 5s));
  CHECK(ours.Command({"GET", "expiring"}) == Reply::Bulk("v"));
  CHECK(ours.Command({"PEXPIRETIME", "expiring"}).integer == 4102444800000);
  CHECK(ours.Command({"EXISTS", "stale"}).integer == 0);
  // Inside the master's MULTI: nothing applied, and the offset stays before the MULTI.
  CHECK(ours.Command({"EXISTS", "tx"}).integer == 0);
  const long long before_multi =
      offset -
      static_cast<long long>((EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "tx", "1"}) +
                              EncodeCommand({"INCR", "txcount"}))
                                 .size());
  CHECK(Repl(ours, "slave_repl_offset") == std::to_string(before_multi));
  const std::string tail = EncodeCommand({"EXEC"}) +
                           EncodeCommand({"PEXPIREAT", "tx", "4102444800000"}) +
                           EncodeCommand({"XADD", "unsupported", "*", "a", "1"}) +
                           EncodeCommand({"REPLICAOF", "NO", "ONE"}) +
                           EncodeCommand({"SELECT", "0"}) + EncodeCommand({"PING"});
  master.Send(tail);
  offset += static_cast<long long>(tail.size());
  master.Send(EncodeCommand({"REPLCONF", "GETACK", "*"}));
  // ACK the offset before GETACK itself, as Redis's replica does.
  master.Expect(EncodeCommand({"REPLCONF", "ACK", std::to_string(offset)}));
  offset += static_cast<long long>(EncodeCommand({"REPLCONF", "GETACK", "*"}).size());
  CHECK(ours.Command({"GET", "tx"}) == Reply::Bulk("1"));
  CHECK(ours.Command({"GET", "txcount"}) == Reply::Bulk("1"));
  CHECK(ours.Command({"PEXPIRETIME", "tx"}).integer == 4102444800000);
  CHECK(Repl(ours, "slave_repl_offset") == std::to_string(offset));
  CHECK(Repl(ours, "master_replid") == replid);
  CHECK(Repl(ours, "master_command_errors") == "2");  // the XADD and the REPLICAOF
  CHECK(ours.Command({"ROLE"}).elements[4].integer == offset);
  // Once a second, unasked.
  master.Expect(EncodeCommand({"REPLCONF", "ACK", std::to_string(offset)}));
  Ok(ours, {"SELECT", "0"});
  CHECK(ours.Command({"GET", "loaded"}) == Reply::Bulk("yes"));

  // The link breaks in the middle of a MULTI: the replica asks to continue after the last
  // command it applied (before the MULTI, which the master sends again). The database the
  // stream selected last stays selected: a master does not select it again after +CONTINUE.
  master.Send(EncodeCommand({"SELECT", "2"}) + EncodeCommand({"MULTI"}) +
              EncodeCommand({"SET", "half", "1"}));
  offset += static_cast<long long>(EncodeCommand({"SELECT", "2"}).size());
  std::this_thread::sleep_for(200ms);
  master.Drop();
  master.Accept();
  master.Expect(EncodeCommand({"PING"}));
  master.Send("+PONG\r\n");
  master.Expect(EncodeCommand({"AUTH", "repl", "pw"}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"REPLCONF", "listening-port", std::to_string(node.port())}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"REPLCONF", "capa", "eof", "capa", "psync2"}));
  master.Send("+OK\r\n");
  master.Expect(EncodeCommand({"PSYNC", replid, std::to_string(offset + 1)}));
  master.Send("+CONTINUE\r\n" + EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "half", "2"}) +
              EncodeCommand({"EXEC"}));
  CHECK(WaitFor([&] { return Repl(ours, "slave_repl_offset") != std::to_string(offset); }, 10s));
  CHECK(ours.Command({"GET", "half"}) == Reply::Nil());  // database 0
  Ok(ours, {"SELECT", "2"});
  CHECK(ours.Command({"GET", "half"}) == Reply::Bulk("2"));
  CHECK(Repl(ours, "master_partial_syncs") == "1");
  CHECK(Repl(ours, "master_full_syncs") == "1");
  CHECK(ours.Command({"SET", "k", "v"}) ==
        Reply::Error("READONLY You can't write against a read only replica."));
  // A transaction or a script that would write is refused too.
  CHECK(ours.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(ours.Command({"SET", "k", "v"}) ==
        Reply::Error("READONLY You can't write against a read only replica."));
  CHECK(ours.Command({"EXEC"}).str.starts_with("EXECABORT"));
  CHECK(ours.Command({"EVAL", "return redis.call('SET', 'k', 'v')", "0"})
            .str.starts_with("READONLY"));
  CHECK(ours.Command({"EVAL", "return redis.call('GET', 'half')", "0"}) == Reply::Bulk("2"));
  CHECK(ours.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(ours.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  CHECK(ours.Command({"GET", "half"}) == Reply::Bulk("2"));
}

TEST_CASE("REPLICAOF's errors, and replicaof in the config file") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync-delay", "0"}, ReferenceRedis());
  master.Start();
  Client redis(master.port());
  Ok(redis, {"SET", "from-master", "1"});
  {
    ServerProcess node;
    node.Start();
    Client ours(node.port());
    CHECK(ours.Command({"REPLICAOF", "127.0.0.1", "notaport"}) ==
          Reply::Error("ERR Invalid master port"));
    CHECK(ours.Command({"REPLICAOF", "127.0.0.1", "70000"}) ==
          Reply::Error("ERR Invalid master port"));
    CHECK(ours.Command({"REPLICAOF", "a"}).IsError());
    CHECK(ours.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));  // not a replica: OK
    CHECK(ours.Command({"CONFIG", "SET", "replicaof", "127.0.0.1 1"}).IsError());  // fixed at start
  }
  ServerProcess node({"--replicaof", "127.0.0.1 " + std::to_string(master.port())});
  node.Start();
  Client ours(node.port());
  WaitLinkUp(ours, node);
  WaitOffsetsMatch(redis, ours, node);
  CHECK(ours.Command({"GET", "from-master"}) == Reply::Bulk("1"));
  CHECK(ours.Command({"CONFIG", "GET", "slaveof"}).elements.back().str ==
        "127.0.0.1 " + std::to_string(master.port()));
}
TEST_CASE("cluster mode takes REPLICAOF, and replicaof at start (test_replicaof_cluster.cc)") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(1, 1);
  cluster.Start();
  Client n1(cluster.node(0).port());
  // No master listens there: the node is a replica whose link stays down.
  CHECK(n1.Command({"REPLICAOF", "127.0.0.1", "1"}) == Reply::Status("OK"));
  CHECK(ReadInfoField(n1, "replication", "role") == "slave");
  CHECK(ReadInfoField(n1, "replication", "master_link_status") == "down");
  CHECK(n1.Command({"SET", "k", "v"}) ==
        Reply::Error("READONLY You can't write against a read only replica."));
  CHECK(n1.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  CHECK(ReadInfoField(n1, "replication", "role") == "master");
  LocalCluster at_start(1, 1, {"--replicaof", "127.0.0.1 1"});
  at_start.Start();
  Client n2(at_start.node(0).port());
  CHECK(ReadInfoField(n2, "replication", "role") == "slave");
  CHECK(ReadInfoField(n2, "replication", "master_port") == "1");
}

}  // namespace
}  // namespace dynakv::itest
