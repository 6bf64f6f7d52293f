// Redis RDB files in cluster mode (issue 17), against a real redis-server 7: a file of every type
// and encoding imported through one node of three (IMPORT-RDB, and --import-rdb at start) reads
// the same, key by key and TTL by TTL, through every node; corrupt files are refused with the
// offset and the reason as on a single node; a replica killed with -9 in the middle of an import
// is covered by hinted handoff under sloppy quorum (every key reaches it after its restart),
// and under a strict quorum every write that missed its level is counted in the report; SAVE,
// BGSAVE and `redis-cli --rdb` against a node give a file a fresh redis-server loads, and
// BGSAVE CLUSTER one of every node's keys.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "rdb_util.h"
#include "reference_pair.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

const std::vector<int> kDb0 = {0};

const Flags kFastFailover = {
    "--cluster-gossip-interval-ms",
    "200",
    "--cluster-down-after-ms",
    "1500",
    "--cluster-request-timeout-ms",
    "400",
    "--cluster-hint-handoff-interval-ms",
    "200",
};

// A Redis 7 dump of every type and encoding (database 0 only: cluster mode has no other), saved
// as `path`; its keys as Snapshot reads them.
std::map<std::string, std::string> SaveEveryType(const std::string& path,
                                                 const std::vector<int>& dbs = kDb0) {
  ServerProcess redis({"--appendonly", "no"}, ReferenceRedis());
  redis.Start();
  Client client(redis.port());
  REQUIRE(client.ok());
  Fill(client, dbs);
  REQUIRE(client.Command({"SAVE"}) == Reply::Status("OK"));
  auto expected = Snapshot(client, dbs);
  WriteFile(path, ReadFile(redis.dir() + "/dump.rdb"));
  redis.Stop();
  return expected;
}

// A Redis 7 dump of `keys` strings of 300 random bytes ("key:N"), big enough that an import of
// it is still running when a test acts during it.
void SaveManyStrings(const std::string& path, int keys) {
  ServerProcess redis({"--appendonly", "no"}, ReferenceRedis());
  redis.Start();
  Client client(redis.port());
  REQUIRE(client.ok());
  for (int i = 0; i < keys; ++i) {
    client.Append({"SET", "key:" + std::to_string(i), RandomBytes(300, i)});
  }
  for (int i = 0; i < keys; ++i) REQUIRE(client.GetReply() == Reply::Status("OK"));
  REQUIRE(client.Command({"SAVE"}) == Reply::Status("OK"));
  WriteFile(path, ReadFile(redis.dir() + "/dump.rdb"));
  redis.Stop();
}

std::string Info(Client& client, const std::string& field) {
  return PersistenceInfo(client, field);
}
long long InfoNumber(Client& client, const std::string& field) {
  return std::stoll(PersistenceInfo(client, field));
}

std::string Scratch(const ServerProcess& node, const std::string& name) {
  return node.dir() + "/../" + name;
}

TEST_CASE("cluster mode: an RDB imported through one node reads the same through every node") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string path = Scratch(cluster.node(0), "every-type.rdb");
  const auto expected = SaveEveryType(path);
  REQUIRE(expected.size() >= 19);

  CHECK(Import(n1, path) == "ok");
  CHECK(Info(n1, "rdb_import_keys") == std::to_string(expected.size()));
  CHECK(Info(n1, "rdb_import_failed_keys") == "0");
  CHECK(Info(n1, "rdb_import_keys_in_flight") == "0");
  CHECK(Info(n1, "rdb_import_skipped_keys") == "1");  // the stream
  for (Client* node : {&n1, &n2, &n3}) CheckSame(expected, Snapshot(*node, kDb0));
  // Each node's own replica holds every key (N=3 of 3): written there, not only readable.
  for (Client* node : {&n1, &n2, &n3}) {
    CHECK(LocalDbSize(*node) == Reply::Int(static_cast<long long>(expected.size())));
  }

  // Again, through another node, over keys that now exist: each is replaced, not doubled.
  Ok(n1, {"SET", "db0:str", "changed since"});
  Ok(n1, {"DEL", "db0:bighash"});
  CHECK(Import(n2, path) == "ok");
  for (Client* node : {&n1, &n2, &n3}) CheckSame(expected, Snapshot(*node, kDb0));

  SUBCASE("SAVE, BGSAVE and redis-cli --rdb of a node load into redis-server unchanged") {
    REQUIRE(n2.Command({"SAVE"}) == Reply::Status("OK"));
    CheckSame(expected, LoadedByRedis(ReadFile(cluster.node(1).dir() + "/dump.rdb"), kDb0));
    REQUIRE(n3.Command({"BGSAVE"}) == Reply::Status("Background saving started"));
    REQUIRE(WaitFor([&] { return Info(n3, "rdb_bgsave_in_progress") == "0"; }));
    CHECK(Info(n3, "rdb_last_bgsave_status") == "ok");
    CheckSame(expected, LoadedByRedis(ReadFile(cluster.node(2).dir() + "/dump.rdb"), kDb0));
    const std::string cli_rdb = Scratch(cluster.node(0), "cli.rdb");
    const std::string command = "timeout 30 redis-cli -p " +
                                std::to_string(cluster.node(0).port()) + " --rdb '" + cli_rdb +
                                "' >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    CheckSame(expected, LoadedByRedis(ReadFile(cli_rdb), kDb0));
  }
}

TEST_CASE("cluster mode: BGSAVE CLUSTER writes every node's keys through one node") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3, 2, kFastFailover);  // N=2 of 3: no node holds every key
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string path = Scratch(cluster.node(0), "every-type.rdb");
  const auto expected = SaveEveryType(path);
  REQUIRE(Import(n2, path) == "ok");

  // SAVE: this node's own replica, a part of the keys.
  REQUIRE(n1.Command({"SAVE"}) == Reply::Status("OK"));
  const auto own = LoadedByRedis(ReadFile(cluster.node(0).dir() + "/dump.rdb"), kDb0);
  CHECK(own.size() < expected.size());
  CHECK(static_cast<long long>(own.size()) == LocalDbSize(n1).integer);
  for (const auto& [key, value] : own) CHECK(expected.at(key) == value);

  // BGSAVE CLUSTER: all of them, each once.
  REQUIRE(n1.Command({"BGSAVE", "CLUSTER"}) == Reply::Status("Background saving started"));
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_bgsave_in_progress") == "0"; }));
  CHECK(Info(n1, "rdb_last_bgsave_status") == "ok");
  CheckSame(expected, LoadedByRedis(ReadFile(cluster.node(0).dir() + "/dump.rdb"), kDb0));
  CHECK(n1.Command({"BGSAVE", "CLUSTER", "x"}) == Reply::Error("ERR syntax error"));

  // A member down: its keys' reads at R=QUORUM (2 of 2) fail, and so does the export, saying
  // so; the last good file stays.
  const std::string before = ReadFile(cluster.node(0).dir() + "/dump.rdb");
  cluster.node(2).Kill();
  REQUIRE(n1.Command({"BGSAVE", "CLUSTER"}) == Reply::Status("Background saving started"));
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_bgsave_in_progress") == "0"; }));
  CHECK(Info(n1, "rdb_last_bgsave_status") == "err");
  CHECK(ReadFile(cluster.node(0).dir() + "/dump.rdb") == before);
  // At R=ONE the survivors hold every key.
  Ok(n1, {"CONFIG", "SET", "cluster-read-consistency", "one"});
  REQUIRE(n1.Command({"BGSAVE", "CLUSTER"}) == Reply::Status("Background saving started"));
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_bgsave_in_progress") == "0"; }));
  CHECK(Info(n1, "rdb_last_bgsave_status") == "ok");
  CheckSame(expected, LoadedByRedis(ReadFile(cluster.node(0).dir() + "/dump.rdb"), kDb0));
}

TEST_CASE("cluster mode: --import-rdb at start imports once the members are reachable") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3);
  const std::string path = Scratch(cluster.node(0), "at-start.rdb");
  const auto expected = SaveEveryType(path);
  {
    std::ofstream config(cluster.config_file(0), std::ios::app);
    config << "[storage]\nimport-rdb = \"" << path << "\"\n";
  }
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_import_status") == "ok"; }, std::chrono::seconds(60)));
  CHECK(Info(n1, "rdb_import_keys") == std::to_string(expected.size()));
  for (Client* node : {&n1, &n2, &n3}) CheckSame(expected, Snapshot(*node, kDb0));
}

// The file with `bytes` put at `offset` (replacing as many).
std::string Patched(std::string file, std::size_t offset, std::string_view bytes) {
  file.replace(offset, bytes.size(), bytes);
  return file;
}

TEST_CASE("cluster mode: corrupt RDB files are refused with the offset and the reason") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string good = Scratch(cluster.node(0), "good.rdb");
  SaveEveryType(good);
  const std::string rdb = ReadFile(good);
  const std::string path = Scratch(cluster.node(0), "bad.rdb");

  struct Case {
    std::string name, file, reason;
    std::size_t offset;
  };
  std::string flipped = rdb;
  flipped.back() ^= 0x40;
  std::vector<Case> cases = {
      {"bad checksum", flipped, "wrong RDB checksum", rdb.size() - 9},
      {"unknown opcode", Patched(rdb, rdb.size() - 9, "\xf0"), "unknown opcode or object type 240",
       rdb.size() - 9},
      {"version 12", Patched(rdb, 5, "0012"), "unsupported RDB version 12", 0},
      {"not an RDB", "HELLO WORLD", "wrong signature", 0},
  };
  for (std::size_t cut : {std::size_t{5}, std::size_t{100}, rdb.size() / 2, rdb.size() - 4}) {
    cases.push_back({"cut at " + std::to_string(cut), rdb.substr(0, cut), "", 0});
  }
  for (const Case& c : cases) {
    CAPTURE(c.name);
    WriteFile(path, c.file);
    CHECK(Import(n2, path) == "err");
    const std::string reason = Info(n2, "rdb_import_error");
    CHECK_FALSE(reason.empty());
    CHECK(Info(n2, "rdb_import_failed_keys") == "0");
    CHECK(Info(n2, "rdb_import_keys_in_flight") == "0");
    if (!c.reason.empty()) {
      CHECK(reason.find(c.reason) == 0);
      CHECK(Info(n2, "rdb_import_error_offset") == std::to_string(c.offset));
    } else {
      CHECK(std::stoull(Info(n2, "rdb_import_error_offset")) <= c.file.size());
    }
  }
  // Every key read before the failing item was written, and the report counts exactly those.
  const long long imported = InfoNumber(n2, "rdb_import_keys");
  CHECK(imported > 0);
  CHECK(n3.Command({"DBSIZE"}).integer >= imported);

  // A file with a database other than 0: cluster mode has database 0 only.
  const std::string multi = Scratch(cluster.node(0), "multi-db.rdb");
  SaveEveryType(multi, {0, 3});
  CHECK(Import(n1, multi) == "err");
  CHECK(Info(n1, "rdb_import_error").find("key in database 3, but this node has 1 databases") == 0);
  CHECK(n1.Command({"IMPORT-RDB", Scratch(cluster.node(0), "missing.rdb")}).IsError());
}

TEST_CASE("cluster mode: a replica killed during an import gets its keys by hinted handoff") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  constexpr int kKeys = 60000;
  constexpr int kVictim = 2;
  LocalCluster cluster(3, 2, kFastFailover);  // N=2 of 3: a stand-in exists for each key
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string path = Scratch(cluster.node(0), "many.rdb");
  SaveManyStrings(path, kKeys);
  Ok(n1, {"CONFIG", "SET", "cluster-write-consistency", "all"});

  REQUIRE(n1.Command({"IMPORT-RDB", path}) == Reply::Status("Background RDB import started"));
  REQUIRE(WaitFor([&] { return InfoNumber(n1, "rdb_import_keys") > 0; }));
  cluster.node(kVictim).Kill();
  const bool killed_during = Info(n1, "rdb_import_in_progress") == "1";
  REQUIRE_MESSAGE(killed_during, "the import ended before the kill: make the file bigger");
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_import_in_progress") == "0"; },
                  std::chrono::seconds(120)));
  // Sloppy quorum: the dead replica's writes were taken as hints by the stand-in, and met W.
  MESSAGE("import: ", Info(n1, "rdb_import_error"));
  CHECK(Info(n1, "rdb_import_status") == "ok");
  CHECK(Info(n1, "rdb_import_keys") == std::to_string(kKeys));
  CHECK(Info(n1, "rdb_import_failed_keys") == "0");
  CHECK(ReadInfoNumber(n1, "cluster", "cluster_hinted_writes") > 0);

  cluster.node(kVictim).Start();
  Client victim(cluster.node(kVictim).port());
  REQUIRE(victim.ok());
  const bool drained = WaitFor(
      [&] {
        return ReadInfoNumber(n1, "cluster", "cluster_hints_pending") == 0 &&
               ReadInfoNumber(n2, "cluster", "cluster_hints_pending") == 0;
      },
      std::chrono::seconds(60));
  CHECK(drained);
  // Every key the victim replicates is in its own copy now, and every key reads back through
  // each node.
  int replicated = 0;
  int wrong = 0;
  for (int i = 0; i < kKeys; i += 7) {
    const std::string key = "key:" + std::to_string(i);
    const Reply local = victim.Command({"DEBUG", "LOCALGET", key});
    if (local == Reply::Error("ERR this node is not a replica of that key")) continue;
    ++replicated;
    if (local != Reply::Bulk(RandomBytes(300, i)) && ++wrong <= 5) MESSAGE(key, ": ", local.str);
  }
  CHECK(replicated > 0);
  CHECK(wrong == 0);
  for (Client* node : {&n1, &n2, &victim}) {
    CHECK(UntilAvailable(*node, {"DBSIZE"}) == Reply::Int(kKeys));
    for (int i = 3; i < kKeys; i += 997) {
      CHECK(node->Command({"GET", "key:" + std::to_string(i)}) == Reply::Bulk(RandomBytes(300, i)));
    }
  }
}

TEST_CASE("cluster mode: under a strict quorum the writes a killed replica fails are counted") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  constexpr int kKeys = 60000;
  Flags flags = kFastFailover;
  flags.insert(flags.end(), {"--cluster-sloppy-quorum", "no"});
  LocalCluster cluster(3, 3, flags);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string path = Scratch(cluster.node(0), "many.rdb");
  SaveManyStrings(path, kKeys);
  Ok(n1, {"CONFIG", "SET", "cluster-write-consistency", "all"});

  REQUIRE(n1.Command({"IMPORT-RDB", path}) == Reply::Status("Background RDB import started"));
  REQUIRE(WaitFor([&] { return InfoNumber(n1, "rdb_import_keys") > 0; }));
  cluster.node(2).Kill();
  REQUIRE_MESSAGE(Info(n1, "rdb_import_in_progress") == "1",
                  "the import ended before the kill: make the file bigger");
  REQUIRE(WaitFor([&] { return Info(n1, "rdb_import_in_progress") == "0"; },
                  std::chrono::seconds(120)));
  CHECK(Info(n1, "rdb_import_status") == "err");
  const long long written = InfoNumber(n1, "rdb_import_keys");
  const long long failed = InfoNumber(n1, "rdb_import_failed_keys");
  MESSAGE(written, " keys met W=all, ", failed, " did not");
  CHECK(failed > 0);
  CHECK(written > 0);
  CHECK(written + failed == kKeys);  // none dropped without a count
  const std::string error = Info(n1, "rdb_import_error");
  MESSAGE(error);
  CHECK(error.find(std::to_string(failed) + " keys were not written at write level ALL") == 0);
  // The ones that met W=all are on both survivors.
  CHECK(UntilAvailable(n2, {"DBSIZE"}).integer >= written);
}

}  // namespace
}  // namespace dynakv::itest
