// CONFIG as a running node has it: every parameter CONFIG GET shows can be set back to its own
// value, CONFIG REWRITE writes the running values into the TOML file (comments kept) and a restart
// reads them back, port/bind rebind the listener, run-time changes reach the parts that use them,
// and the error texts and RESETSTAT behave as redis-server's.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

namespace dynakv::itest {
namespace {

const Reply kOk = Reply::Status("OK");

// CONFIG GET * as name -> value.
std::map<std::string, std::string> AllParameters(Client& c) {
  const Reply reply = c.Command({"CONFIG", "GET", "*"});
  REQUIRE(reply.type == Reply::Type::kArray);
  REQUIRE(reply.elements.size() % 2 == 0);
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    params[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return params;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An INFO field's value ("" when absent).
std::string InfoField(Client& c, const std::string& section, const std::string& field) {
  const Reply info = c.Command({"INFO", section});
  const std::string key = "\r\n" + field + ":";
  const std::size_t at = ("\r\n" + info.str).find(key);
  if (at == std::string::npos) return {};
  const std::size_t begin = at + key.size() - 2;
  return info.str.substr(begin, info.str.find("\r\n", begin) - begin);
}

// A loopback port something listens on for as long as the object lives.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(fd_, 1) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

bool Accepts(int port) {
  Client c(port);
  return c.ok() && c.Command({"PING"}) == Reply::Status("PONG");
}

TEST_CASE("CONFIG SET of every parameter to its own current value succeeds") {
  if (TestingRealRedis()) {
    MESSAGE("skipped: redis-server refuses immutable parameters even at their own value");
    return;
  }
  ServerFixture f;
  const std::map<std::string, std::string> params = AllParameters(f.client);
  CHECK(params.size() > 80);
  int failed = 0;
  for (const auto& [name, value] : params) {
    CAPTURE(name);
    CAPTURE(value);
    const Reply reply = f.client.Command({"CONFIG", "SET", name, value});
    if (!(reply == kOk)) ++failed;
    CHECK(reply == kOk);
  }
  CHECK(failed == 0);
  // All at once too, as a tool restoring a snapshot sends them (aliases left out: Redis refuses
  // a parameter named twice).
  std::vector<std::string> argv = {"CONFIG", "SET"};
  for (const auto& [name, value] : params) {
    if (name == "lua-time-limit") continue;
    argv.push_back(name);
    argv.push_back(value);
  }
  CHECK(f.client.Command(argv) == kOk);
  CHECK(AllParameters(f.client) == params);
  // Still refused: another value of a parameter fixed at start.
  CHECK(f.client.Command({"CONFIG", "SET", "databases", "3"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'databases') - can't "
                     "set immutable config"));
}

TEST_CASE("cluster mode: every parameter takes its own value; port stays; appendfsync applies") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(1, 1);
  cluster.Start();
  Client c(cluster.node(0).port());
  const std::map<std::string, std::string> params = AllParameters(c);
  for (const auto& [name, value] : params) {
    CAPTURE(name);
    CHECK(c.Command({"CONFIG", "SET", name, value}) == kOk);
  }
  // CONFIG GET hides the secret (""): "" is its own value, another secret is a change.
  CHECK(c.Command({"CONFIG", "SET", "cluster-secret", "another-secret-of-32-bytes-long!"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'cluster-secret') - "
                     "can't set immutable config"));
  // The engine and the hint store both follow (cluster/hinted_handoff_test checks the store).
  CHECK(c.Command({"CONFIG", "SET", "appendfsync", "always"}) == kOk);
  CHECK(c.Command({"SET", "k", "v"}) == kOk);
  CHECK(c.Command({"CONFIG", "GET", "appendfsync"}) == Reply::Bulks({"appendfsync", "always"}));
  ServerProcess spare;
  // The members know this node by its port (cluster-nodes): refused, and it serves on.
  const Reply moved = c.Command({"CONFIG", "SET", "port", std::to_string(spare.port())});
  CHECK(
      moved.str.starts_with("ERR CONFIG SET failed - cluster-nodes lists this node ('n1') at "
                            "port "));
  CHECK(Accepts(cluster.node(0).port()));
}

TEST_CASE("save and appendonly accept what dynakv does and refuse the rest with the reason") {
  if (TestingRealRedis()) return;
  ServerFixture f;
  CHECK(f.client.Command({"CONFIG", "SET", "save", ""}) == kOk);
  CHECK(f.client.Command({"CONFIG", "SET", "appendonly", "yes"}) == kOk);
  const Reply save = f.client.Command({"CONFIG", "SET", "save", "3600 1 300 100"});
  REQUIRE(save.IsError());
  CHECK(save.str.starts_with("ERR CONFIG SET failed (possibly related to argument 'save') - "));
  CHECK(save.str.find("only save \"\" is supported") != std::string::npos);
  const Reply aof = f.client.Command({"CONFIG", "SET", "appendonly", "no"});
  REQUIRE(aof.IsError());
  CHECK(aof.str.find("only appendonly yes is supported") != std::string::npos);
  CHECK(f.client.Command({"CONFIG", "GET", "save"}) == Reply::Bulks({"save", ""}));
  CHECK(f.client.Command({"CONFIG", "GET", "appendonly"}) == Reply::Bulks({"appendonly", "yes"}));
}

TEST_CASE("CONFIG REWRITE keeps the file's comments and a restart reads back every value") {
  if (TestingRealRedis()) return;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("dynakv-itest-rewrite-" + std::to_string(getpid()) + ".toml"))
                               .string();
  const std::string original =
      "# operator's notes: keep me\n"
      "[server]\n"
      "hz = 10          # cron frequency, see README\n"
      "timeout = 0\n"
      "\n"
      "# limits for the batch clients\n"
      "[limits]\n"
      "proto-max-bulk-len = \"512mb\"  # unchanged, stays as written\n"
      "[storage]\n"
      "appendfsync = \"everysec\"\n";
  std::ofstream(path) << original;
  ServerProcess server({"--config", path});
  server.Start();
  std::map<std::string, std::string> before;
  {
    Client c(server.port());
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"hz", "25"},
             {"timeout", "300"},
             {"appendfsync", "always"},
             {"maxmemory", "64mb"},
             {"maxmemory-policy", "allkeys-lru"},
             {"notify-keyspace-events", "KEA"},
             {"hash-max-listpack-entries", "7"},
             {"client-output-buffer-limit", "pubsub 1mb 512kb 5"},
             {"loglevel", "verbose"},
             {"acllog-max-len", "50"}}) {
      CAPTURE(name);
      REQUIRE(c.Command({"CONFIG", "SET", name, value}) == kOk);
    }
    before = AllParameters(c);
    REQUIRE(c.Command({"CONFIG", "REWRITE"}) == kOk);
  }
  const std::string rewritten = ReadFile(path);
  CHECK(rewritten.find("# operator's notes: keep me\n") == 0);
  CHECK(rewritten.find("hz = 25          # cron frequency, see README\n") != std::string::npos);
  CHECK(rewritten.find("# limits for the batch clients\n") != std::string::npos);
  CHECK(rewritten.find("proto-max-bulk-len = \"512mb\"  # unchanged, stays as written\n") !=
        std::string::npos);
  CHECK(rewritten.find("appendfsync = \"always\"\n") != std::string::npos);
  CHECK(rewritten.find("maxmemory = 67108864\n") != std::string::npos);

  server.Stop();
  server.Start();
  {
    Client c(server.port());
    const std::map<std::string, std::string> after = AllParameters(c);
    for (const auto& [name, value] : before) {
      CAPTURE(name);
      CHECK(after.at(name) == value);
    }
    CHECK(after.size() == before.size());
    // Nothing changed since: a second rewrite leaves the file as it is.
    REQUIRE(c.Command({"CONFIG", "REWRITE"}) == kOk);
  }
  CHECK(ReadFile(path) == rewritten);
  server.Stop();
  std::filesystem::remove(path);
}

TEST_CASE("CONFIG SET port and bind move the listener; a failed bind keeps the old one") {
  ServerFixture f;
  const int old_port = f.server.port();
  BusyPort busy;
  ServerProcess spare;  // not started: only for a free port
  const int new_port = spare.port();

  const Reply taken = f.client.Command({"CONFIG", "SET", "port", std::to_string(busy.port())});
  CHECK(taken == Reply::Error("ERR CONFIG SET failed (possibly related to argument 'port') - "
                              "Unable to listen on this port. Check server logs."));
  CHECK(f.client.Command({"CONFIG", "GET", "port"}) ==
        Reply::Bulks({"port", std::to_string(old_port)}));
  CHECK(Accepts(old_port));

  REQUIRE(f.client.Command({"CONFIG", "SET", "port", std::to_string(new_port)}) == kOk);
  CHECK(Accepts(new_port));
  CHECK_FALSE(Accepts(old_port));
  // The connection that asked stays, as in Redis.
  CHECK(f.client.Command({"PING"}) == Reply::Status("PONG"));
  CHECK(f.client.Command({"CONFIG", "GET", "port"}) ==
        Reply::Bulks({"port", std::to_string(new_port)}));

  // An address this host does not have: refused, still serving where it was.
  const Reply bad = f.client.Command({"CONFIG", "SET", "bind", "192.0.2.1"});
  CHECK(bad == Reply::Error("ERR CONFIG SET failed (possibly related to argument 'bind') - "
                            "Failed to bind to specified addresses."));
  CHECK(f.client.Command({"CONFIG", "GET", "bind"}) == Reply::Bulks({"bind", "127.0.0.1"}));
  CHECK(Accepts(new_port));

  // Another address on the same port (the old socket must close first).
  REQUIRE(f.client.Command({"CONFIG", "SET", "bind", "0.0.0.0"}) == kOk);
  CHECK(Accepts(new_port));
  // Several addresses, Redis's wildcards and optional ('-') ones, each its own socket.
  REQUIRE(f.client.Command({"CONFIG", "SET", "bind", "127.0.0.1 -::1"}) == kOk);
  CHECK(f.client.Command({"CONFIG", "GET", "bind"}) == Reply::Bulks({"bind", "127.0.0.1 -::1"}));
  CHECK(Accepts(new_port));
  REQUIRE(f.client.Command({"CONFIG", "SET", "bind", "* -::*"}) == kOk);
  CHECK(Accepts(new_port));
  REQUIRE(f.client.Command({"CONFIG", "SET", "bind", "127.0.0.1"}) == kOk);
  CHECK(Accepts(new_port));
  // Both at once, all or nothing: a bad bind leaves the port as it was too.
  CHECK(f.client.Command({"CONFIG", "SET", "port", std::to_string(old_port), "bind", "192.0.2.1"})
            .IsError());
  CHECK(Accepts(new_port));
  CHECK(f.client.Command({"CONFIG", "GET", "port"}) ==
        Reply::Bulks({"port", std::to_string(new_port)}));
  // What was applied before the failing bind is undone: hz, and maxmemory in the engine (a
  // limit of 1 byte left in force would evict every key written next).
  CHECK(f.client
            .Command({"CONFIG", "SET", "hz", "50", "maxmemory-policy", "allkeys-random",
                      "maxmemory", "1", "bind", "192.0.2.1"})
            .IsError());
  CHECK(f.client.Command({"CONFIG", "GET", "hz"}) == Reply::Bulks({"hz", "10"}));
  CHECK(f.client.Command({"CONFIG", "GET", "maxmemory"}) == Reply::Bulks({"maxmemory", "0"}));
  CHECK(f.client.Command({"SET", "kept", std::string(1000, 'x')}) == kOk);
  CHECK(f.client.Command({"SET", "kept2", std::string(1000, 'x')}) == kOk);
  CHECK(f.client.Command({"DBSIZE"}) == Reply::Int(2));
  CHECK(f.client.Command({"SHUTDOWN", "NOSAVE"}).type == Reply::Type::kIoError);
  CHECK(f.server.WaitExit(std::chrono::seconds(10)) != -1);
}

TEST_CASE("CONFIG SET port and bind: failures and moves answer as redis-server's") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  BusyPort busy;
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{"CONFIG", "SET", "port", std::to_string(busy.port())},
                                             {"CONFIG", "SET", "bind", "192.0.2.1"},
                                             {"CONFIG", "SET", "port", "65536"},
                                             {"CONFIG", "SET", "bind", "127.0.0.1"},
                                             {"CONFIG", "GET", "bind"}}) {
    CAPTURE(DescribeCommand(argv));
    CHECK(a.Command(argv) == b.Command(argv));
  }
  ServerProcess spare_a;
  ServerProcess spare_b;
  CHECK(a.Command({"CONFIG", "SET", "port", std::to_string(spare_a.port())}) == kOk);
  CHECK(b.Command({"CONFIG", "SET", "port", std::to_string(spare_b.port())}) == kOk);
  CHECK(Accepts(spare_a.port()));
  CHECK(Accepts(spare_b.port()));
  CHECK_FALSE(Accepts(ours.port()));
  CHECK_FALSE(Accepts(reference.port()));
  // Back where the harness expects them, so it can stop them as usual.
  CHECK(a.Command({"CONFIG", "SET", "port", std::to_string(ours.port())}) == kOk);
  CHECK(b.Command({"CONFIG", "SET", "port", std::to_string(reference.port())}) == kOk);
}

TEST_CASE("run-time parameters change the behaviour of the parts that use them") {
  if (TestingRealRedis()) return;
  ServerFixture f;
  Client& c = f.client;
  SUBCASE("hash-max-listpack-entries reaches the value encodings") {
    REQUIRE(c.Command({"HSET", "h1", "a", "1", "b", "2", "c", "3"}) == Reply::Int(3));
    CHECK(c.Command({"OBJECT", "ENCODING", "h1"}) == Reply::Bulk("listpack"));
    REQUIRE(c.Command({"CONFIG", "SET", "hash-max-listpack-entries", "2"}) == kOk);
    REQUIRE(c.Command({"HSET", "h2", "a", "1", "b", "2", "c", "3"}) == Reply::Int(3));
    CHECK(c.Command({"OBJECT", "ENCODING", "h2"}) == Reply::Bulk("hashtable"));
  }
  SUBCASE("requirepass reaches the default user") {
    REQUIRE(c.Command({"CONFIG", "SET", "requirepass", "s3cret"}) == kOk);
    Client other(f.server.port());
    CHECK(other.Command({"GET", "k"}).IsError());
    CHECK(other.Command({"AUTH", "s3cret"}) == kOk);
    CHECK(other.Command({"GET", "k"}) == Reply::Nil());
  }
  SUBCASE("maxmemory and maxmemory-policy reach the storage engine") {
    for (int i = 0; i < 2000; ++i) {
      c.Append({"SET", "key:" + std::to_string(i), std::string(100, 'x')});
    }
    for (int i = 0; i < 2000; ++i) REQUIRE(c.GetReply() == kOk);
    CHECK(InfoField(c, "stats", "evicted_keys") == "0");
    REQUIRE(c.Command({"CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory",
                       "100kb"}) == kOk);
    // A lower limit evicts at once (Redis's updateMaxmemory).
    CHECK(std::stoll(InfoField(c, "stats", "evicted_keys")) > 0);
    CHECK(c.Command({"DBSIZE"}).integer < 2000);
  }
}

TEST_CASE("CONFIG errors, REWRITE without a file and RESETSTAT as redis-server") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  const std::vector<std::vector<std::string>> commands = {
      {"CONFIG", "HELP"},
      {"CONFIG", "SET", "maxmemory", "lots"},
      {"CONFIG", "SET", "hz", "abc"},
      {"CONFIG", "SET", "port", "70000"},
      {"CONFIG", "SET", "port", "-1"},
      {"CONFIG", "SET", "appendfsync", "sometimes"},
      {"CONFIG", "SET", "timeout", "-1"},
      {"CONFIG", "SET", "maxmemory-samples", "0"},
      {"CONFIG", "SET", "protected-mode", "maybe"},
      {"CONFIG", "SET", "nosuch", "1"},
      {"CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"},
      {"CONFIG", "SET", "lua-time-limit", "10", "busy-reply-threshold", "20"},
      {"CONFIG", "SET", "databases", "3"},
      {"CONFIG", "SET", "databases", "many"},
      {"CONFIG", "SET", "maxmemory"},
      {"CONFIG", "SET", "hz", "20", "timeout"},
      {"CONFIG", "SET", "hz", "20", "timeout", "abc"},
      {"CONFIG", "GET", "hz"},
      {"CONFIG", "GET", "lua-time-limit"},
      {"CONFIG", "GET", "nosuch"},
      {"CONFIG", "GET"},
      {"CONFIG", "REWRITE"},
      {"CONFIG", "REWRITE", "now"},
      {"CONFIG", "RESETSTAT", "now"},
      {"CONFIG", "NOSUCH"},
      {"CONFIG", "SET", "save", ""},
      {"CONFIG", "SET", "appendonly", "yes"},
      {"CONFIG", "SET", "appendonly", "maybe"},
  };
  for (const auto& argv : commands) {
    CAPTURE(DescribeCommand(argv));
    CHECK(a.Command(argv) == b.Command(argv));
  }
  // RESETSTAT: counters from before are gone, on both.
  for (Client* c : {&a, &b}) {
    // 300 ms: room for the GET right after to be a hit on a loaded machine.
    REQUIRE(c->Command({"SET", "k", "v", "PX", "300"}) == kOk);
    c->Command({"GET", "k"});
    c->Command({"GET", "missing"});
    c->Command({"NOSUCHCOMMAND"});
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    c->Command({"GET", "k"});  // expired: reaped on access
    REQUIRE(c->Command({"SET", "h", "v"}) == kOk);
    c->Command({"GET", "h"});
  }
  for (const std::string field :
       {"keyspace_hits", "keyspace_misses", "expired_keys", "total_error_replies"}) {
    CAPTURE(field);
    CHECK(InfoField(a, "stats", field) == InfoField(b, "stats", field));
    CHECK(InfoField(a, "stats", field) != "0");
  }
  CHECK(a.Command({"CONFIG", "RESETSTAT"}) == kOk);
  CHECK(b.Command({"CONFIG", "RESETSTAT"}) == kOk);
  for (const std::string field : {"total_commands_processed", "total_connections_received",
                                  "keyspace_hits", "keyspace_misses", "expired_keys",
                                  "evicted_keys", "total_error_replies", "rejected_connections"}) {
    CAPTURE(field);
    const std::string ours_value = InfoField(a, "stats", field);
    CHECK(ours_value == InfoField(b, "stats", field));
    CHECK_FALSE(ours_value.empty());
  }
}

}  // namespace
}  // namespace dynakv::itest
