// REPLICAOF in cluster mode (issue 17), against a real redis-server 7 master: one node of three
// follows the master and writes through the ring. A writer keeps writing on the master during
// and after the full sync; once it stops and the offsets match, every key reads the same through
// every node, and each node's own replica (N=3 of 3) holds every key. The following node killed
// with -9 mid-stream and restarted (with `replicaof` in its config) resumes from the replication
// id and offset it kept: a partial resync (+CONTINUE), no second full sync.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "harness.h"
#include "master_writer.h"
#include "rdb_util.h"
#include "reference_pair.h"
#include "replica_util.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

using namespace std::chrono_literals;
const std::vector<int> kDb0 = {0};

std::vector<std::string> SortedKeys(Client& client) {
  std::vector<std::string> keys;
  for (const Reply& k : client.Command({"KEYS", "*"}).elements) keys.push_back(k.str);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Each key as rdb_util's Snapshot reads it, but with its absolute expiry time (PEXPIRETIME).
std::map<std::string, std::pair<std::string, long long>> Dataset(Client& client) {
  std::map<std::string, std::pair<std::string, long long>> out;
  for (auto& [key, value] : Snapshot(client, kDb0)) {
    const std::string name = key.substr(2);  // "0 key"
    out[name] = {value.substr(0, value.rfind(" ttl:")),
                 client.Command({"PEXPIRETIME", name}).integer};
  }
  return out;
}

// Every key of the master through every node (expiry times within 1 s: Redis propagates them as
// absolute times), and in every node's own replica.
void CheckCluster(Client& redis, LocalCluster& cluster) {
  const auto expected = Dataset(redis);
  const std::vector<std::string> keys = SortedKeys(redis);
  REQUIRE(keys.size() > 1000);
  for (int i = 0; i < cluster.size(); ++i) {
    Client node(cluster.node(i).port());
    const auto actual = Dataset(node);
    CHECK(actual.size() == expected.size());
    for (const auto& [key, state] : expected) {
      auto it = actual.find(key);
      if (it == actual.end()) {
        FAIL_CHECK("node " << i << " misses " << key);
        continue;
      }
      CHECK_MESSAGE(it->second.first == state.first, "node " << i << " key " << key);
      CHECK_MESSAGE(std::llabs(it->second.second - state.second) <= 1000,
                    "node " << i << " expiry of " << key << ": " << it->second.second
                            << " vs the master's " << state.second);
    }
    Ok(node, {"KEYSCOPE", "LOCAL"});
    CHECK_MESSAGE(SortedKeys(node) == keys, "node " << i << "'s own replica");
  }
}

// Node `i`'s config with `replicaof` in its [server] table (as CONFIG REWRITE would leave it).
void ConfigureReplicaof(const std::string& path, int master_port) {
  std::string text = ReadFile(path);
  const std::string header = "[server]\n";
  const std::string line = "replicaof = \"127.0.0.1 " + std::to_string(master_port) + "\"\n";
  const std::size_t at = text.find(header);
  if (at == std::string::npos) {
    text += header + line;
  } else {
    text.insert(at + header.size(), line);
  }
  WriteFile(path, text);
}

TEST_CASE("REPLICAOF in cluster mode: one node follows a live redis-server through the ring") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master(
      {"--appendonly", "no", "--repl-diskless-sync-delay", "0", "--repl-backlog-size", "64mb"},
      ReferenceRedis());
  master.Start();
  Client redis(master.port());
  REQUIRE(redis.ok());
  Fill(redis, kDb0, /*with_stream=*/false);
  // Enough keys that the full sync is still running while the writer writes.
  for (int i = 0; i < 10000; ++i) {
    redis.Append({"SET", "bulk:" + std::to_string(i), RandomBytes(100, i)});
  }
  for (int i = 0; i < 10000; ++i) REQUIRE(redis.GetReply() == Reply::Status("OK"));

  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  ServerProcess& follower = cluster.node(0);
  Ok(n2, {"SET", "stale", "old data"});  // the full sync empties the whole cluster first

  {
    MasterWriter writer(master.port(), {.seed = 17});
    std::this_thread::sleep_for(200ms);
    CHECK(n1.Command({"REPLICAOF", "127.0.0.1", std::to_string(master.port())}) ==
          Reply::Status("OK"));
    WaitLinkUp(n1, follower);
    CHECK(n1.Command({"SET", "k", "v"}) ==
          Reply::Error("READONLY You can't write against a read only replica."));
    CHECK(Repl(n1, "role") == "slave");
    std::this_thread::sleep_for(1000ms);  // the stream carries the writer's commands meanwhile
    // The master drops the link while commands are in flight: those finish, then PSYNC
    // continues after them.
    REQUIRE(WaitFor(
        [&] {
          return ReadInfoField(redis, "replication", "slave0").find("state=online") !=
                 std::string::npos;
        },
        10s));
    CHECK(redis.Command({"CLIENT", "KILL", "TYPE", "replica"}).integer == 1);
    REQUIRE_MESSAGE(WaitFor(
                        [&] {
                          return Repl(n1, "master_partial_syncs") == "1" &&
                                 Repl(n1, "master_link_status") == "up";
                        },
                        20s),
                    follower.LogTail());
    std::this_thread::sleep_for(300ms);
    writer.Stop();
    CHECK_MESSAGE(writer.error().empty(), writer.error());
    CHECK(writer.commands() > 50);
  }
  WaitOffsetsMatch(redis, n1, follower);
  CHECK(Repl(n1, "master_full_syncs") == "1");
  CHECK_MESSAGE(Repl(n1, "master_command_errors") == "0", follower.LogTail());
  CHECK(Repl(n1, "master_replid") == Repl(redis, "master_replid"));
  CHECK(Repl(n1, "master_sync_failed_keys") == "0");
  CHECK(n2.Command({"EXISTS", "stale"}).integer == 0);
  CheckCluster(redis, cluster);
  CHECK(redis.Command({"WAIT", "1", "5000"}).integer == 1);

  // kill -9 of the following node mid-stream: restarted, it continues (+CONTINUE).
  {
    ConfigureReplicaof(cluster.config_file(0), master.port());
    {
      MasterWriter writer(master.port(), {.seed = 18, .idempotent = true});
      const std::string before = Repl(n1, "slave_repl_offset");
      REQUIRE(WaitFor([&] { return Repl(n1, "slave_repl_offset") != before; }, 10s));
      std::this_thread::sleep_for(300ms);
      follower.Kill();
      std::this_thread::sleep_for(300ms);  // the master writes on meanwhile
      follower.Start();
      Client restarted(follower.port());
      WaitLinkUp(restarted, follower);
      std::this_thread::sleep_for(500ms);
      writer.Stop();
      CHECK_MESSAGE(writer.error().empty(), writer.error());
    }
    Client restarted(follower.port());
    WaitOffsetsMatch(redis, restarted, follower);
    CHECK_MESSAGE(Repl(restarted, "master_partial_syncs") == "1", follower.LogTail());
    CHECK(Repl(restarted, "master_full_syncs") == "0");
    CHECK(ReadInfoNumber(redis, "stats", "sync_full") == 1);
    CHECK(ReadInfoNumber(redis, "stats", "sync_partial_ok") == 2);  // the link kill's too
    CHECK_MESSAGE(Repl(restarted, "master_command_errors") == "0", follower.LogTail());
    CheckCluster(redis, cluster);
  }

  // REPLICAOF NO ONE: the cluster is writable again through that node.
  Client promoted(follower.port());
  CHECK(promoted.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(Repl(promoted, "role") == "master");
  CHECK(promoted.Command({"SET", "after", "promotion"}) == Reply::Status("OK"));
  CHECK(n3.Command({"GET", "after"}) == Reply::Bulk("promotion"));
  CHECK(WaitFor([&] { return Repl(redis, "connected_slaves") == "0"; }, 10s));
}

}  // namespace
}  // namespace dynakv::itest
