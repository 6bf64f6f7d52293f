// Live replication from a running redis-server 7 (issue 17): REPLICAOF makes the node a replica
// of a real Redis master filled with every type (small and large encodings, expiries, binary
// keys, several databases) while a writer keeps writing there (SET, INCR, HSET, LPUSH, SADD,
// ZADD, DEL, EXPIRE, MULTI/EXEC, EVAL); once the writer stops and the offsets match, the two
// datasets are compared key by key (type, value, TTL within a tolerance). Also: the diskless
// and the disk-based transfer, masterauth against requirepass, the master killing the link
// mid-stream (partial resync continues), -READONLY while a replica, REPLICAOF NO ONE. Against
// a master played by the test: test_replicaof_protocol.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
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

constexpr int kDatabases[] = {0, 3, 15};
using namespace std::chrono_literals;

// rdb_util's every type and encoding in three databases (no stream: XADD is not ours), plus a
// key per database that expires before the sync.
void Fill(Client& redis) {
  Fill(redis, {std::begin(kDatabases), std::end(kDatabases)}, /*with_stream=*/false);
  for (int db : kDatabases) {
    Ok(redis, {"SELECT", std::to_string(db)});
    Ok(redis, {"SET", "db" + std::to_string(db) + ":gone", "soon", "PX", "1"});
  }
  Ok(redis, {"SELECT", "0"});
}

std::vector<std::string> Strings(const Reply& reply) {
  std::vector<std::string> out;
  for (const Reply& e : reply.elements) out.push_back(e.str);
  return out;
}

struct KeyState {
  std::string value;            // type and contents
  long long expire_at_ms = -1;  // PEXPIRETIME: unix ms, -1 none
};

// Each key of each database, read type by type.
std::map<std::string, KeyState> Snapshot(Client& client) {
  std::map<std::string, KeyState> out;
  for (int db : kDatabases) {
    REQUIRE(client.Command({"SELECT", std::to_string(db)}) == Reply::Status("OK"));
    std::string cursor = "0";
    do {
      const Reply scan = client.Command({"SCAN", cursor, "COUNT", "1000"});
      REQUIRE(scan.elements.size() == 2);
      cursor = scan.elements[0].str;
      for (const Reply& k : scan.elements[1].elements) {
        const std::string& key = k.str;
        const std::string type = client.Command({"TYPE", key}).str;
        if (type == "none") continue;  // expired between SCAN and TYPE
        std::string value;
        std::vector<std::string> items;
        if (type == "string") {
          value = client.Command({"GET", key}).str;
        } else if (type == "list") {
          items = Strings(client.Command({"LRANGE", key, "0", "-1"}));
        } else if (type == "set") {
          items = Strings(client.Command({"SMEMBERS", key}));
          std::sort(items.begin(), items.end());
        } else if (type == "hash") {
          const std::vector<std::string> flat = Strings(client.Command({"HGETALL", key}));
          for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
            items.push_back(flat[i] + "=" + flat[i + 1]);
          std::sort(items.begin(), items.end());
        } else if (type == "zset") {
          items = Strings(client.Command({"ZRANGE", key, "0", "-1", "WITHSCORES"}));
        }
        for (const std::string& item : items) value += item + "|";
        const long long expire_at = client.Command({"PEXPIRETIME", key}).integer;
        if (expire_at == -2) continue;  // expired while it was read
        out[std::to_string(db) + " " + key] = {type + " " + value, expire_at};
      }
    } while (cursor != "0");
  }
  REQUIRE(client.Command({"SELECT", "0"}) == Reply::Status("OK"));
  return out;
}

// Every key equal, expiry times within 1 s (Redis propagates them as absolute times, so they
// should match to the millisecond). Keys due to expire within a second of now on either side may
// legitimately be on one side only (they expire as the snapshots are taken).
void CheckSame(const std::map<std::string, KeyState>& master,
               const std::map<std::string, KeyState>& replica) {
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  auto expiring = [&](const KeyState& s) {
    return s.expire_at_ms >= 0 && s.expire_at_ms < now + 1000;
  };
  std::size_t compared = 0;
  for (const auto& [key, state] : master) {
    auto it = replica.find(key);
    if (it == replica.end()) {
      if (!expiring(state)) {
        FAIL_CHECK("missing on the replica: " << key << " (" << state.value << ", expires at "
                                              << state.expire_at_ms << ", now " << now << ")");
      }
      continue;
    }
    ++compared;
    CHECK_MESSAGE(it->second.value == state.value, "key " << key);
    if (state.expire_at_ms < 0 || it->second.expire_at_ms < 0) {
      CHECK_MESSAGE(state.expire_at_ms == it->second.expire_at_ms, "expiry of " << key);
    } else {
      CHECK_MESSAGE(
          std::llabs(state.expire_at_ms - it->second.expire_at_ms) <= 1000,
          "expiry of " << key << ": " << state.expire_at_ms << " vs " << it->second.expire_at_ms);
    }
  }
  for (const auto& [key, state] : replica) {
    if (!master.contains(key) && !expiring(state)) {
      FAIL_CHECK("only on the replica: " << key << " (" << state.value << ", expires at "
                                         << state.expire_at_ms << ", now " << now << ")");
    }
  }
  CHECK(compared >= 45);  // Fill's keys at least
}

void FullSyncThenStream(bool diskless) {
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync", diskless ? "yes" : "no",
                        "--repl-diskless-sync-delay", "0"},
                       ReferenceRedis());
  master.Start();
  Client redis(master.port());
  REQUIRE(redis.ok());
  Fill(redis);
  ServerProcess node;
  node.Start();
  Client ours(node.port());
  Ok(ours, {"SET", "stale", "old data"});  // flushed by the full sync
  CHECK(Strings(ours.Command({"ROLE"})).front() == "master");

  MasterWriter writer(master.port(), {.several_databases = true, .short_expiries = true});
  std::this_thread::sleep_for(300ms);
  CHECK(ours.Command({"REPLICAOF", "127.0.0.1", std::to_string(master.port())}) ==
        Reply::Status("OK"));
  CHECK(ours.Command({"REPLICAOF", "127.0.0.1", std::to_string(master.port())}) ==
        Reply::Status("OK Already connected to specified master"));
  WaitLinkUp(ours, node);
  CHECK(ours.Command({"SET", "k", "v"}) ==
        Reply::Error("READONLY You can't write against a read only replica."));
  const Reply role = ours.Command({"ROLE"});
  REQUIRE(role.elements.size() == 5);
  CHECK(role.elements[0].str == "slave");
  CHECK(role.elements[2].integer == master.port());
  CHECK(role.elements[3].str == "connected");
  std::this_thread::sleep_for(1500ms);  // the stream carries the writer's commands meanwhile
  writer.Stop();
  CHECK_MESSAGE(writer.error().empty(), writer.error());
  CHECK(writer.commands() > 50);
  WaitOffsetsMatch(redis, ours, node);
  CHECK(Repl(ours, "master_full_syncs") == "1");
  CHECK_MESSAGE(Repl(ours, "master_command_errors") == "0", node.LogTail());
  CHECK(Repl(ours, "master_replid") == Repl(redis, "master_replid"));
  CHECK(ours.Command({"EXISTS", "stale"}).integer == 0);
  CheckSame(Snapshot(redis), Snapshot(ours));
  // The master's WAIT is answered through REPLCONF GETACK / ACK.
  CHECK(redis.Command({"WAIT", "1", "5000"}).integer == 1);

  // REPLICAOF NO ONE: a master again, with the data.
  CHECK(ours.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(Repl(ours, "role") == "master");
  CHECK(Strings(ours.Command({"ROLE"})).front() == "master");
  CHECK(ours.Command({"GET", "db0:str"}) == Reply::Bulk("hello world"));
  CHECK(ours.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  CHECK(ours.Command({"GET", "k"}) == Reply::Bulk("v"));
  // The master no longer has it as a replica.
  CHECK(WaitFor([&] { return Repl(redis, "connected_slaves") == "0"; }, 10s));
}

TEST_CASE("REPLICAOF a live redis-server: diskless full sync, command stream, every key equal") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  FullSyncThenStream(true);
}

TEST_CASE("REPLICAOF a live redis-server: disk-based full sync, command stream, every key equal") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  FullSyncThenStream(false);
}

TEST_CASE("masterauth and masteruser against a master with requirepass and ACL users") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master(
      {"--appendonly", "no", "--requirepass", "s3cret", "--repl-diskless-sync-delay", "0"},
      ReferenceRedis());
  master.Start();
  Client redis(master.port());
  REQUIRE(redis.Command({"AUTH", "s3cret"}) == Reply::Status("OK"));
  Fill(redis);
  Ok(redis, {"ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping"});
  ServerProcess node;
  node.Start();
  Client ours(node.port());
  CHECK(ours.Command({"CONFIG", "GET", "replica-read-only"}).elements.back().str == "yes");
  CHECK(ours.Command({"CONFIG", "GET", "masterauth"}).elements.back().str == "");

  // No password: PSYNC is refused, the link stays down and says why.
  Ok(ours, {"REPLICAOF", "127.0.0.1", std::to_string(master.port())});
  CHECK(WaitFor(
      [&] { return Repl(ours, "master_link_last_error").find("NOAUTH") != std::string::npos; },
      10s));
  CHECK(Repl(ours, "master_link_status") == "down");
  CHECK(ours.Command({"SET", "k", "v"}) ==
        Reply::Error("READONLY You can't write against a read only replica."));
  // A wrong one: AUTH is refused.
  Ok(ours, {"CONFIG", "SET", "masterauth", "wrong"});
  CHECK(WaitFor(
      [&] {
        return Repl(ours, "master_link_last_error").find("AUTH") != std::string::npos &&
               Repl(ours, "master_link_last_error").find("NOAUTH") == std::string::npos;
      },
      10s));
  CHECK(Repl(ours, "master_link_status") == "down");
  // The right one (the default user's password): the link comes up on the next attempt.
  Ok(ours, {"CONFIG", "SET", "masterauth", "s3cret"});
  WaitLinkUp(ours, node);
  WaitOffsetsMatch(redis, ours, node);
  CheckSame(Snapshot(redis), Snapshot(ours));

  // masteruser: AUTH user password, with an ACL user allowed just what replication needs.
  Ok(ours, {"REPLICAOF", "NO", "ONE"});
  Ok(ours, {"CONFIG", "SET", "masteruser", "repl"});
  Ok(ours, {"CONFIG", "SET", "masterauth", "replpw"});
  Ok(ours, {"FLUSHALL"});
  Ok(ours, {"REPLICAOF", "127.0.0.1", std::to_string(master.port())});
  WaitLinkUp(ours, node);
  Ok(redis, {"SET", "after-auth", "1"});
  WaitOffsetsMatch(redis, ours, node);
  CHECK(ours.Command({"GET", "after-auth"}) == Reply::Bulk("1"));
  CheckSame(Snapshot(redis), Snapshot(ours));
  // replica-read-only no: clients may write on the replica too.
  Ok(ours, {"CONFIG", "SET", "replica-read-only", "no"});
  CHECK(ours.Command({"SET", "local", "v"}) == Reply::Status("OK"));
  CHECK(Repl(ours, "slave_read_only") == "0");
}

TEST_CASE("the master drops the link mid-stream: partial resync continues from the offset") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync-delay", "0",
                        // the writer writes about 1 MB a second, the default backlog size
                        "--repl-backlog-size", "64mb"},
                       ReferenceRedis());
  master.Start();
  Client redis(master.port());
  Fill(redis);
  ServerProcess node;
  node.Start();
  Client ours(node.port());
  Ok(ours, {"REPLICAOF", "127.0.0.1", std::to_string(master.port())});
  WaitLinkUp(ours, node);
  {
    MasterWriter writer(master.port(), {.several_databases = true, .short_expiries = true});
    for (int kill = 1; kill <= 3; ++kill) {
      // Mid-stream: the master streams to the replica (a diskless-synced replica is "online" only
      // once the master has seen its ACK and its RDB child exit) and the replica applies it.
      const std::string before = Repl(ours, "slave_repl_offset");
      REQUIRE(WaitFor(
          [&] {
            return ReadInfoField(redis, "replication", "slave0").find("state=online") !=
                       std::string::npos &&
                   Repl(ours, "slave_repl_offset") != before;
          },
          10s));
      std::this_thread::sleep_for(300ms);
      CHECK(redis.Command({"CLIENT", "KILL", "TYPE", "replica"}).integer == 1);
      REQUIRE_MESSAGE(WaitFor(
                          [&] {
                            return Repl(ours, "master_partial_syncs") == std::to_string(kill) &&
                                   Repl(ours, "master_link_status") == "up";
                          },
                          20s),
                      node.LogTail());
    }
    std::this_thread::sleep_for(400ms);
    writer.Stop();
    CHECK_MESSAGE(writer.error().empty(), writer.error());
  }
  WaitOffsetsMatch(redis, ours, node);
  CHECK(Repl(ours, "master_full_syncs") == "1");
  CHECK(ReadInfoNumber(redis, "stats", "sync_partial_ok") == 3);
  CHECK_MESSAGE(Repl(ours, "master_command_errors") == "0", node.LogTail());
  CHECK(ReadInfoNumber(redis, "stats", "sync_full") == 1);
  CheckSame(Snapshot(redis), Snapshot(ours));
}

// A replica started with `replicaof` killed with -9 mid-stream and started again: it asks PSYNC
// with the replication id and offset it kept (replica_state.h). With the master's backlog still
// holding what followed, the stream continues (+CONTINUE); with a backlog too small, a full sync.
void KilledReplicaRestarts(bool backlog_covers) {
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync-delay", "0",
                        "--repl-backlog-size", backlog_covers ? "64mb" : "16kb"},
                       ReferenceRedis());
  master.Start();
  Client redis(master.port());
  Fill(redis);
  ServerProcess node({"--replicaof", "127.0.0.1 " + std::to_string(master.port())});
  node.Start();
  {
    Client ours(node.port());
    WaitLinkUp(ours, node);
    MasterWriter writer(master.port(), {.several_databases = true, .short_expiries = true});
    const std::string before = Repl(ours, "slave_repl_offset");
    REQUIRE(WaitFor([&] { return Repl(ours, "slave_repl_offset") != before; }, 10s));
    std::this_thread::sleep_for(300ms);
    node.Kill();
    // The master writes on meanwhile (over 16 KB: past the small backlog).
    const long long offset = ReadInfoNumber(redis, "replication", "master_repl_offset");
    REQUIRE(WaitFor(
        [&] {
          return ReadInfoNumber(redis, "replication", "master_repl_offset") > offset + 64 * 1024;
        },
        10s));
    node.Start();
    Client restarted(node.port());
    WaitLinkUp(restarted, node);
    std::this_thread::sleep_for(300ms);
    writer.Stop();
    CHECK_MESSAGE(writer.error().empty(), writer.error());
  }
  Client ours(node.port());
  WaitOffsetsMatch(redis, ours, node);
  CHECK(Repl(ours, "master_replid") == Repl(redis, "master_replid"));
  if (backlog_covers) {
    CHECK_MESSAGE(Repl(ours, "master_partial_syncs") == "1", node.LogTail());
    CHECK(Repl(ours, "master_full_syncs") == "0");
    CHECK(ReadInfoNumber(redis, "stats", "sync_full") == 1);
    CHECK(ReadInfoNumber(redis, "stats", "sync_partial_ok") == 1);
  } else {
    CHECK(Repl(ours, "master_partial_syncs") == "0");
    CHECK(Repl(ours, "master_full_syncs") == "1");
    CHECK(ReadInfoNumber(redis, "stats", "sync_full") == 2);
    CHECK(ReadInfoNumber(redis, "stats", "sync_partial_err") == 1);
  }
  CHECK_MESSAGE(Repl(ours, "master_command_errors") == "0", node.LogTail());
  CheckSame(Snapshot(redis), Snapshot(ours));
  // REPLICAOF NO ONE drops what was kept: a restart without `replicaof` is a master, and a later
  // REPLICAOF syncs in full.
  CHECK(ours.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(!std::ifstream(node.dir() + "/replication.state").good());
}

TEST_CASE("a replica killed with -9 and restarted continues with a partial resync (+CONTINUE)") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  KilledReplicaRestarts(true);
}

TEST_CASE("a restarted replica the master's backlog no longer covers syncs in full") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  KilledReplicaRestarts(false);
}

TEST_CASE("a restarted replica keeps the database the stream had selected (repl-stream-db)") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync-delay", "0"}, ReferenceRedis());
  master.Start();
  Client redis(master.port());
  ServerProcess node({"--replicaof", "127.0.0.1 " + std::to_string(master.port())});
  node.Start();
  {
    Client ours(node.port());
    WaitLinkUp(ours, node);
    Ok(redis, {"SELECT", "3"});
    Ok(redis, {"SET", "before", "1"});  // the stream selects database 3
    WaitOffsetsMatch(redis, ours, node);
  }
  node.Kill();
  // Still database 3 for the master's stream: no SELECT precedes it after +CONTINUE.
  Ok(redis, {"SET", "after", "2"});
  node.Start();
  Client ours(node.port());
  WaitLinkUp(ours, node);
  WaitOffsetsMatch(redis, ours, node);
  CHECK(Repl(ours, "master_partial_syncs") == "1");
  Ok(ours, {"SELECT", "3"});
  CHECK(ours.Command({"GET", "before"}) == Reply::Bulk("1"));
  CHECK(ours.Command({"GET", "after"}) == Reply::Bulk("2"));
  Ok(ours, {"SELECT", "0"});
  CHECK(ours.Command({"EXISTS", "after"}).integer == 0);
}

}  // namespace
}  // namespace dynakv::itest
