// Connection and server commands: handshake, introspection, configuration, AUTH and SHUTDOWN.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using dynakv::itest::ServerProcess;
using std::chrono::seconds;

namespace {

const Reply kOk = Reply::Status("OK");
const Reply kNoAuth = Reply::Error("NOAUTH Authentication required.");
const Reply kWrongPass =
    Reply::Error("WRONGPASS invalid username-password pair or user is disabled.");

// A RESP2 map (flat array of alternating keys and values) as a std::map.
std::map<std::string, Reply> FlatMap(const Reply& reply) {
  REQUIRE(reply.type == Reply::Type::kArray);
  REQUIRE(reply.elements.size() % 2 == 0);
  std::map<std::string, Reply> out;
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    REQUIRE(reply.elements[i].type == Reply::Type::kString);
    out[reply.elements[i].str] = reply.elements[i + 1];
  }
  return out;
}

// The value of `field` in an INFO reply ("field:value\r\n"), empty when absent.
std::string InfoField(const std::string& info, const std::string& field) {
  std::size_t pos = info.find("\r\n" + field + ":");
  if (pos == std::string::npos) return {};
  pos += field.size() + 3;
  return info.substr(pos, info.find("\r\n", pos) - pos);
}

std::string Info(Client& c, std::initializer_list<std::string_view> section = {}) {
  std::vector<std::string> argv = {"INFO"};
  argv.insert(argv.end(), section.begin(), section.end());
  Reply r = c.Command(argv);
  REQUIRE(r.type == Reply::Type::kString);
  return r.str;
}

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "PING ECHO QUIT") {
  auto& c = client;
  CHECK(c.Command({"PING"}) == Reply::Status("PONG"));
  CHECK(c.Command({"PING", "hello world"}) == Reply::Bulk("hello world"));
  CHECK(c.Command({"PING", "a", "b"}) ==
        Reply::Error("ERR wrong number of arguments for 'ping' command"));
  CHECK(c.Command({"ECHO", std::string("x\0y", 3)}) == Reply::Bulk(std::string("x\0y", 3)));
  CHECK(c.Command({"ECHO"}) == Reply::Error("ERR wrong number of arguments for 'echo' command"));

  SUBCASE("inline commands") {
    RawSocket raw(server.port());
    REQUIRE(raw.Send("PING\r\nSET a \"b c\"\r\nGET a\r\nECHO 'x y'\n"));
    std::string expected = "+PONG\r\n+OK\r\n$3\r\nb c\r\n$3\r\nx y\r\n";
    CHECK(raw.ReadBytes(expected.size(), seconds(5)) == expected);
  }
  SUBCASE("QUIT replies OK and closes") {
    CHECK(c.Command({"QUIT"}) == kOk);
    CHECK(c.Command({"PING"}).type == Reply::Type::kIoError);
    RawSocket raw(server.port());
    REQUIRE(raw.Send("QUIT\r\nPING\r\n"));
    bool closed = false;
    CHECK(raw.ReadUntilClosed(seconds(5), &closed) == "+OK\r\n");
    CHECK(closed);
  }
}

TEST_CASE_FIXTURE(ServerFixture, "HELLO") {
  auto& c = client;
  SUBCASE("HELLO 2 replies with a flat map") {
    auto hello = FlatMap(c.Command({"HELLO", "2"}));
    for (const char* field : {"server", "version", "proto", "id", "mode", "role", "modules"}) {
      CAPTURE(field);
      CHECK(hello.count(field) == 1);
    }
    CHECK(hello["proto"] == Reply::Int(2));
    CHECK(hello["mode"] == Reply::Bulk("standalone"));
    CHECK(hello["role"] == Reply::Bulk("master"));
    CHECK(hello["id"] == c.Command({"CLIENT", "ID"}));
    CHECK(c.Command({"HELLO"}).type == Reply::Type::kArray);
  }
  SUBCASE("HELLO 3 switches the connection to RESP3") {
    RawSocket raw(server.port());
    REQUIRE(raw.Send("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"));
    // The map, then RESP3's null for the missing key.
    std::string bytes = raw.ReadUntil("_\r\n", seconds(5));
    CHECK(bytes.rfind("%", 0) == 0);
    CHECK(bytes.find("$5\r\nproto\r\n:3\r\n") != std::string::npos);
    CHECK(bytes.find("_\r\n") == bytes.size() - 3);
    // And back to RESP2.
    REQUIRE(raw.Send("HELLO 2\r\nGET missing\r\n"));
    bytes = raw.ReadUntil("$-1\r\n", seconds(5));
    CHECK(bytes.rfind("*", 0) == 0);
    CHECK(bytes.find("$5\r\nproto\r\n:2\r\n") != std::string::npos);
  }
  SUBCASE("bad versions") {
    CHECK(c.Command({"HELLO", "4"}) == Reply::Error("NOPROTO unsupported protocol version"));
    CHECK(c.Command({"HELLO", "1"}) == Reply::Error("NOPROTO unsupported protocol version"));
    CHECK(c.Command({"HELLO", "abc"}) ==
          Reply::Error("ERR Protocol version is not an integer or out of range"));
    CHECK(c.Command({"PING"}) == Reply::Status("PONG"));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "SELECT and CLIENT") {
  auto& c = client;
  CHECK(c.Command({"SELECT", "0"}) == kOk);
  CHECK(c.Command({"SELECT", "15"}) == kOk);  // databases 16, as Redis
  CHECK(c.Command({"SELECT", "16"}) == Reply::Error("ERR DB index is out of range"));
  CHECK(c.Command({"SELECT", "0"}) == kOk);
  CHECK(c.Command({"SELECT", "-1"}) == Reply::Error("ERR DB index is out of range"));
  CHECK(c.Command({"SELECT", "abc"}) ==
        Reply::Error("ERR value is not an integer or out of range"));

  CHECK(c.Command({"CLIENT", "GETNAME"}) == Reply::Nil());
  CHECK(c.Command({"CLIENT", "SETNAME", "worker-1"}) == kOk);
  CHECK(c.Command({"CLIENT", "GETNAME"}) == Reply::Bulk("worker-1"));
  CHECK(c.Command({"CLIENT", "SETNAME", "a b"}) ==
        Reply::Error("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(c.Command({"CLIENT", "GETNAME"}) == Reply::Bulk("worker-1"));
  CHECK(c.Command({"CLIENT", "SETNAME", ""}) == kOk);
  CHECK(c.Command({"CLIENT", "GETNAME"}) == Reply::Nil());

  Reply id1 = c.Command({"CLIENT", "ID"});
  REQUIRE(id1.type == Reply::Type::kInteger);
  CHECK(c.Command({"CLIENT", "ID"}) == id1);
  Client other(server.port());
  Reply id2 = other.Command({"CLIENT", "ID"});
  REQUIRE(id2.type == Reply::Type::kInteger);
  CHECK(id2.integer > id1.integer);
}

TEST_CASE_FIXTURE(ServerFixture, "COMMAND") {
  auto& c = client;
  Reply count = c.Command({"COMMAND", "COUNT"});
  REQUIRE(count.type == Reply::Type::kInteger);
  Reply all = c.Command({"COMMAND"});
  REQUIRE(all.type == Reply::Type::kArray);
  CHECK(static_cast<long long>(all.elements.size()) == count.integer);
  std::set<std::string> names;
  for (const Reply& entry : all.elements) {
    REQUIRE(entry.type == Reply::Type::kArray);
    REQUIRE(entry.elements.size() >= 6);
    names.insert(entry.elements[0].str);
  }
  for (const char* name :
       {"get",      "set",         "setnx",   "setex",   "psetex",   "getset",    "getdel",
        "getex",    "mget",        "mset",    "msetnx",  "incr",     "decr",      "incrby",
        "decrby",   "incrbyfloat", "append",  "strlen",  "getrange", "setrange",  "del",
        "unlink",   "exists",      "expire",  "pexpire", "expireat", "pexpireat", "ttl",
        "pttl",     "persist",     "type",    "keys",    "scan",     "randomkey", "dbsize",
        "flushall", "ping",        "echo",    "quit",    "hello",    "select",    "client",
        "info",     "config",      "command", "auth",    "shutdown"}) {
    CAPTURE(name);
    CHECK(names.count(name) == 1);
  }

  Reply info = c.Command({"COMMAND", "INFO", "get", "set", "nosuch"});
  REQUIRE(info.type == Reply::Type::kArray);
  REQUIRE(info.elements.size() == 3);
  const Reply& get = info.elements[0];
  REQUIRE(get.elements.size() >= 6);
  CHECK(get.elements[0] == Reply::Bulk("get"));
  CHECK(get.elements[1] == Reply::Int(2));
  CHECK(get.elements[3] == Reply::Int(1));  // first key
  CHECK(get.elements[4] == Reply::Int(1));  // last key
  CHECK(get.elements[5] == Reply::Int(1));  // step
  const Reply& set = info.elements[1];
  REQUIRE(set.elements.size() >= 6);
  CHECK(set.elements[0] == Reply::Bulk("set"));
  CHECK(set.elements[1] == Reply::Int(-3));
  CHECK(info.elements[2] == Reply::Nil());

  Reply mset = c.Command({"COMMAND", "INFO", "mset"});
  REQUIRE(mset.elements.size() == 1);
  REQUIRE(mset.elements[0].elements.size() >= 6);
  CHECK(mset.elements[0].elements[3] == Reply::Int(1));
  CHECK(mset.elements[0].elements[4] == Reply::Int(-1));
  CHECK(mset.elements[0].elements[5] == Reply::Int(2));
}

TEST_CASE_FIXTURE(ServerFixture, "INFO") {
  auto& c = client;
  std::string info = Info(c);
  for (const char* header : {"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Stats\r\n",
                             "# Persistence\r\n", "# Keyspace\r\n"}) {
    CAPTURE(header);
    CHECK(info.find(header) != std::string::npos);
  }
  CHECK(InfoField(info, "tcp_port") == std::to_string(server.port()));
  CHECK(InfoField(info, "process_id") == std::to_string(server.pid()));
  CHECK(InfoField(info, "connected_clients") == "1");
  CHECK(!InfoField(info, "used_memory").empty());
  CHECK(info.find("\r\ndb0:") == std::string::npos);

  Client other(server.port());
  CHECK(other.Command({"PING"}) == Reply::Status("PONG"));  // accepted by now
  CHECK(InfoField(Info(c, {"clients"}), "connected_clients") == "2");

  long long before = std::stoll(InfoField(Info(c, {"stats"}), "total_commands_processed"));
  for (int i = 0; i < 3; ++i) c.Command({"SET", "k" + std::to_string(i), "v"});
  CHECK(c.Command({"EXPIRE", "k0", "1000"}) == Reply::Int(1));
  long long after = std::stoll(InfoField(Info(c, {"stats"}), "total_commands_processed"));
  CHECK(after >= before + 5);  // the INFO itself counts too

  std::string keyspace = Info(c, {"keyspace"});
  CHECK(keyspace.rfind("# Keyspace\r\n", 0) == 0);
  CHECK(keyspace.find("# Server") == std::string::npos);
  CHECK(InfoField(keyspace, "db0").rfind("keys=3,expires=1,avg_ttl=", 0) == 0);
  CHECK(c.Command({"FLUSHALL"}) == kOk);
  CHECK(Info(c, {"keyspace"}).find("db0:") == std::string::npos);
}

TEST_CASE_FIXTURE(ServerFixture, "CONFIG GET and SET") {
  auto& c = client;
  CHECK(c.Command({"CONFIG", "GET", "maxmemory"}) == Reply::Bulks({"maxmemory", "0"}));
  CHECK(c.Command({"CONFIG", "GET", "port"}) ==
        Reply::Bulks({"port", std::to_string(server.port())}));
  CHECK(c.Command({"CONFIG", "SET", "maxmemory", "10mb"}) == kOk);
  CHECK(c.Command({"CONFIG", "GET", "maxmemory"}) == Reply::Bulks({"maxmemory", "10485760"}));
  CHECK(c.Command({"CONFIG", "SET", "maxmemory", "0"}) == kOk);
  CHECK(c.Command({"CONFIG", "SET", "appendfsync", "always"}) == kOk);
  CHECK(c.Command({"CONFIG", "GET", "appendfsync"}) == Reply::Bulks({"appendfsync", "always"}));
  CHECK(c.Command({"SET", "k", "v"}) == kOk);  // still writes with the new fsync policy
  CHECK(c.Command({"CONFIG", "GET", "nosuch"}) == Reply::Array({}));
  CHECK(c.Command({"CONFIG", "SET", "nosuch", "1"}) ==
        Reply::Error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
  CHECK(c.Command({"CONFIG", "SET", "maxmemory", "abc"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
                     "argument must be a memory value"));
  CHECK(c.Command({"CONFIG", "SET", "appendfsync", "bogus"}) ==
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'appendfsync') - "
                     "argument(s) must be one of the following: everysec, always, no"));
  CHECK(c.Command({"CONFIG", "GET", "appendfsync"}) == Reply::Bulks({"appendfsync", "always"}));
}

TEST_CASE_FIXTURE(ServerFixture, "unknown commands and wrong arity") {
  auto& c = client;
  CHECK(c.Command({"foo", "a", "b"}) ==
        Reply::Error("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  CHECK(c.Command({"foo"}) ==
        Reply::Error("ERR unknown command 'foo', with args beginning with: "));
  CHECK(c.Command({"get"}) == Reply::Error("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Command({"GET"}) == Reply::Error("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Command({"DBSIZE", "x"}) ==
        Reply::Error("ERR wrong number of arguments for 'dbsize' command"));
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  CHECK(c.Command({"AUTH", "x"}) ==
        Reply::Error("ERR AUTH <password> called without any password configured for the "
                     "default user. Are you sure your configuration is correct?"));
}

TEST_CASE("AUTH with --requirepass") {
  ServerProcess server({"--requirepass", "s3cret"});
  server.Start();
  Client c(server.port());
  CHECK(c.Command({"PING"}) == kNoAuth);
  CHECK(c.Command({"GET", "k"}) == kNoAuth);
  CHECK(c.Command({"SET", "k", "v"}) == kNoAuth);
  CHECK(c.Command({"AUTH", "wrong"}) == kWrongPass);
  CHECK(c.Command({"GET", "k"}) == kNoAuth);
  CHECK(c.Command({"AUTH", "s3cret"}) == kOk);
  CHECK(c.Command({"SET", "k", "v"}) == kOk);
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));

  Client named(server.port());
  CHECK(named.Command({"AUTH", "default", "wrong"}) == kWrongPass);
  CHECK(named.Command({"AUTH", "default", "s3cret"}) == kOk);
  CHECK(named.Command({"GET", "k"}) == Reply::Bulk("v"));

  Client hello(server.port());
  CHECK(hello.Command({"HELLO", "2", "AUTH", "default", "wrong"}) == kWrongPass);
  CHECK(hello.Command({"GET", "k"}) == kNoAuth);
  auto map = FlatMap(hello.Command({"HELLO", "2", "AUTH", "default", "s3cret"}));
  CHECK(map["proto"] == Reply::Int(2));
  CHECK(hello.Command({"GET", "k"}) == Reply::Bulk("v"));

  RawSocket raw(server.port());
  REQUIRE(raw.Send("HELLO 3 AUTH default s3cret\r\nGET k\r\n"));
  std::string bytes = raw.ReadUntil("$1\r\nv\r\n", seconds(5));
  CHECK(bytes.rfind("%", 0) == 0);
  CHECK(bytes.size() > 7);
  server.Stop();
}

TEST_CASE("SHUTDOWN exits 0 and keeps the data") {
  ServerProcess server({"--appendfsync", "no"});
  server.Start();
  {
    Client c(server.port());
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    // On success the server exits without replying.
    CHECK(c.Command({"SHUTDOWN"}).type == Reply::Type::kIoError);
  }
  int status = server.WaitExit(seconds(20));
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  server.Start();
  Client c(server.port());
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
  server.Stop();
}

TEST_CASE("bad flags: the server refuses to start, saying why") {
  struct BadFlag {
    dynakv::itest::Flags flags;
    std::string mentioned;  // the log names what is wrong
  };
  std::vector<BadFlag> cases = {
      {{"--maxmemory-policy", "bogus"}, "maxmemory-policy"},
      {{"--appendfsync", "sometimes"}, "appendfsync"},
      {{"--maxmemory", "lots", "--maxmemory-policy", "allkeys-lru"}, "maxmemory"},
      {{"--nosuchflag", "1"}, "nosuchflag"},
  };
  for (const BadFlag& bad : cases) {
    CAPTURE(bad.mentioned);
    ServerProcess server(bad.flags);
    int status = server.StartExpectingExit(seconds(10));
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));  // a clean exit, not a crash
    CHECK(WEXITSTATUS(status) != 0);
    CHECK(server.LogTail().find(bad.mentioned) != std::string::npos);
  }
}

TEST_CASE("--config: parameters from a TOML file, command-line flags take precedence") {
  if (dynakv::itest::TestingRealRedis()) {
    MESSAGE("skipped: TOML configuration is dynakv-only");
    return;
  }
  SUBCASE("a valid file") {
    std::string path = std::filesystem::temp_directory_path() / "dynakv-itest-config.toml";
    // port and dir are also given on the command line by the harness: those values win.
    std::ofstream(path) << "[server]\nport = 1\nrequirepass = \"from-file\"\n"
                        << "[storage]\ndir = \"/nonexistent/dynakv\"\nmaxmemory = \"2mb\"\n"
                        << "appendfsync = \"no\"\nmaxmemory-policy = \"allkeys-lru\"\n";
    ServerProcess server({"--config", path});
    server.Start();
    std::filesystem::remove(path);
    Client c(server.port());
    CHECK(c.Command({"CONFIG", "GET", "maxmemory"}) == kNoAuth);
    CHECK(c.Command({"AUTH", "from-file"}) == kOk);
    CHECK(c.Command({"CONFIG", "GET", "maxmemory"}) == Reply::Bulks({"maxmemory", "2097152"}));
    CHECK(c.Command({"CONFIG", "GET", "appendfsync"}) == Reply::Bulks({"appendfsync", "no"}));
    CHECK(c.Command({"CONFIG", "GET", "maxmemory-policy"}) ==
          Reply::Bulks({"maxmemory-policy", "allkeys-lru"}));
    CHECK(c.Command({"CONFIG", "GET", "dir"}) == Reply::Bulks({"dir", server.dir()}));
    server.Stop();
  }
  SUBCASE("invalid files") {
    struct BadFile {
      std::string text;
      std::string mentioned;
    };
    std::vector<BadFile> cases = {
        {"[storage]\nmaxmemory = \"lots\"\n", "maxmemory"},
        {"[storage]\nnosuchkey = 1\n", "nosuchkey"},
        {"[nosuchsection]\nport = 1\n", "nosuchsection"},
        {"[server\nport = 1\n", "dynakv-itest-bad.toml"},
    };
    std::string path = std::filesystem::temp_directory_path() / "dynakv-itest-bad.toml";
    for (const BadFile& bad : cases) {
      CAPTURE(bad.text);
      std::ofstream(path) << bad.text;
      ServerProcess server({"--config", path});
      int status = server.StartExpectingExit(seconds(10));
      REQUIRE(status != -1);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) != 0);
      CHECK(server.LogTail().find(bad.mentioned) != std::string::npos);
    }
    CHECK(ServerProcess({"--config", "/nonexistent/dynakv.toml"}).StartExpectingExit(seconds(10)) !=
          0);
    std::filesystem::remove(path);
  }
}

TEST_CASE_FIXTURE(ServerFixture, "maxclients and idle timeout") {
  auto& c = client;
  SUBCASE("connections over maxclients are refused with an error") {
    CHECK(c.Command({"CONFIG", "SET", "maxclients", "3"}) == kOk);
    RawSocket second(server.port()), third(server.port());
    for (RawSocket* raw : {&second, &third}) {
      REQUIRE(raw->Send("PING\r\n"));
      CHECK(raw->ReadBytes(7, seconds(5)) == "+PONG\r\n");
    }
    RawSocket fourth(server.port());
    bool closed = false;
    CHECK(fourth.ReadUntilClosed(seconds(5), &closed) == "-ERR max number of clients reached\r\n");
    CHECK(closed);
    // A freed slot is usable again once the server has seen the close.
    second.Close();
    Reply pong;
    for (int attempt = 0; attempt < 50 && !(pong == Reply::Status("PONG")); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      pong = Client(server.port()).Command({"PING"});
    }
    CHECK(pong == Reply::Status("PONG"));
    CHECK(c.Command({"CONFIG", "SET", "maxclients", "10000"}) == kOk);
  }
  SUBCASE("idle clients are closed after timeout seconds") {
    CHECK(c.Command({"CONFIG", "SET", "timeout", "1"}) == kOk);
    RawSocket idle(server.port());
    REQUIRE(idle.Send("PING\r\n"));
    CHECK(idle.ReadBytes(7, seconds(5)) == "+PONG\r\n");
    bool closed = false;
    auto start = std::chrono::steady_clock::now();
    CHECK(idle.ReadUntilClosed(seconds(5), &closed).empty());
    CHECK(closed);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
    // A client that keeps talking stays.
    Client busy(server.port());
    for (int i = 0; i < 6; ++i) {
      CHECK(busy.Command({"PING"}) == Reply::Status("PONG"));
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
  }
}

// The cron looks at a slice of the clients per tick (each about once a second, as Redis's
// clientsCron), not at every client at every tick: with hundreds of clients, the idle ones must
// still all be closed, none early, and a talking one must stay.
TEST_CASE_FIXTURE(ServerFixture, "idle timeout reaches every one of many clients") {
  Client c(server.port());
  CHECK(c.Command({"CONFIG", "SET", "timeout", "1"}) == kOk);
  constexpr int kIdle = 600;
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<RawSocket>(server.port()));
    REQUIRE(idle.back()->connected());
    REQUIRE(idle.back()->Send("PING\r\n"));
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto& s : idle) REQUIRE(s->ReadBytes(7, seconds(5)) == "+PONG\r\n");
  // The busy client talks every 200 ms from its own thread while the idle ones are awaited.
  std::atomic<bool> stop{false};
  std::atomic<int> busy_failures{0};
  std::thread talker([&] {
    Client busy(server.port());
    while (!stop.load()) {
      if (!(busy.Command({"PING"}) == Reply::Status("PONG"))) busy_failures.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  int closed_count = 0;
  for (auto& s : idle) {
    // A tick (100 ms) visits a tenth of the clients: each is seen within about a second of its
    // timeout.
    bool closed = false;
    s->ReadUntilClosed(seconds(6), &closed);
    closed_count += closed ? 1 : 0;
  }
  stop.store(true);
  talker.join();
  CHECK(busy_failures.load() == 0);
  CHECK(closed_count == kIdle);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  CHECK(std::chrono::steady_clock::now() - start < seconds(8));
  Client busy(server.port());
  CHECK(busy.Command({"CONFIG", "SET", "timeout", "0"}) == kOk);
}
