// The offline RDB export (dynakv-server --export-rdb OUT, issue 17) against a real redis-server 7:
// the data directory of a stopped node, single-node (every database) or cluster-mode (the
// node's replica, with the node's own config), becomes a file a fresh redis-server loads with
// every key, value and TTL; a running node's directory is refused, and the directory is left
// as it was.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "rdb_util.h"
#include "reference_pair.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

const std::vector<int> kDatabases = {0, 3, 15};

struct Run {
  int status = -1;
  std::string output;
};

// dynakv-server `args`, its exit status and what it printed.
Run RunServer(const std::vector<std::string>& args, const std::string& scratch) {
  std::string command = "timeout 60 '" + ServerUnderTest() + "'";
  for (const std::string& arg : args) command += " '" + arg + "'";
  const std::string log = scratch + "/export.log";
  command += " >'" + log + "' 2>&1";
  Run run;
  const int raw = std::system(command.c_str());
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  run.output = ReadFile(log);
  return run;
}

// Every file of `dir` (not subdirectories) with its size and modification time.
std::map<std::string, std::string> Listing(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    out[entry.path().filename().string()] =
        std::to_string(entry.file_size()) + "@" +
        std::to_string(entry.last_write_time().time_since_epoch().count());
  }
  return out;
}

// A Redis 7 dump of every type and encoding in `dbs`, saved as `path`; its keys.
std::map<std::string, std::string> SaveEveryType(const std::string& path,
                                                 const std::vector<int>& dbs) {
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

TEST_CASE("--export-rdb of a stopped single node's directory loads into redis-server") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess node;
  node.Start();
  const std::string scratch = node.dir() + "/..";
  const auto expected = SaveEveryType(scratch + "/source.rdb", kDatabases);
  Client client(node.port());
  REQUIRE(Import(client, scratch + "/source.rdb") == "ok");
  // Some writes stay in the commit log only (no checkpoint since): the export replays it.
  Ok(client, {"SET", "db0:str", "written after the import"});
  Ok(client, {"SELECT", "3"});
  Ok(client, {"DEL", "db3:bighash"});
  Ok(client, {"SELECT", "0"});
  const auto changed = Snapshot(client, kDatabases);
  REQUIRE(changed != expected);
  const std::string out = scratch + "/export.rdb";

  const Run refused = RunServer({"--dir", node.dir(), "--export-rdb", out}, scratch);
  CHECK(refused.status == 1);
  CHECK(refused.output.find("is in use: stop the node first") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));

  node.Stop();
  const auto before = Listing(node.dir());
  const Run run = RunServer({"--dir", node.dir(), "--export-rdb", out}, scratch);
  CHECK_MESSAGE(run.status == 0, run.output);
  CHECK(Listing(node.dir()) == before);  // read, never written
  CheckSame(changed, LoadedByRedis(ReadFile(out), kDatabases));
  // No scratch copy left behind.
  for (const auto& entry : std::filesystem::directory_iterator(scratch)) {
    CHECK(entry.path().filename().string().find(".export-") == std::string::npos);
  }

  // The node starts again on its directory afterwards, with everything in it.
  node.Start();
  Client again(node.port());
  CheckSame(changed, Snapshot(again, kDatabases));

  const Run missing =
      RunServer({"--dir", scratch + "/no-such-dir", "--export-rdb", out + ".2"}, scratch);
  CHECK(missing.status == 1);
  CHECK(missing.output.find("is not a data directory") != std::string::npos);
}

TEST_CASE("--export-rdb of a stopped cluster node gives its replica, last write winning") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  const std::string scratch = cluster.node(0).dir() + "/..";
  const auto expected = SaveEveryType(scratch + "/source.rdb", {0});
  REQUIRE(Import(n2, scratch + "/source.rdb") == "ok");
  Ok(n3, {"SET", "db0:str", "overwritten through another node"});
  Ok(n3, {"DEL", "db0:bigset"});  // a tombstone on every replica: not exported
  const auto written = Snapshot(n1, {0});
  REQUIRE(written.size() == expected.size() - 1);

  cluster.node(0).Stop();
  const std::string out = scratch + "/cluster-export.rdb";
  const std::string port = std::to_string(cluster.node(0).port());
  const Run plain = RunServer({"--dir", cluster.node(0).dir(), "--export-rdb", out}, scratch);
  CHECK(plain.status == 1);
  CHECK(plain.output.find("holds a cluster-mode node's data") != std::string::npos);

  const Run run = RunServer({"--config", cluster.config_file(0), "--port", port, "--dir",
                             cluster.node(0).dir(), "--export-rdb", out},
                            scratch);
  CHECK_MESSAGE(run.status == 0, run.output);
  CheckSame(written, LoadedByRedis(ReadFile(out), {0}));
}

}  // namespace
}  // namespace dynakv::itest
