// Numbered databases on disk: recovery after kill -9 with writes spread over databases (SWAPDB,
// MOVE and FLUSHDB among them), a data directory from before databases, a node started with too
// few databases, and cluster mode's refusals.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "databases_util.h"
#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::KeyspaceLines;
using dynakv::itest::KillAndRestart;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::Sorted;

TEST_CASE("kill -9 keeps every acknowledged write of every database, SWAPDB, MOVE and FLUSHDB") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "8192"});
  server.Start();
  std::mt19937_64 rng(7);
  auto dump = [&](Client& c) {
    std::map<std::string, std::string> all;
    for (int db = 0; db < 16; ++db) {
      REQUIRE(c.Command({"SELECT", std::to_string(db)}) == Reply::Status("OK"));
      for (const Reply& k : c.Command({"KEYS", "*"}).elements) {
        const std::string type = c.Command({"TYPE", k.str}).str;
        std::string value;
        if (type == "string") value = c.Command({"GET", k.str}).str;
        if (type == "hash") {
          for (const Reply& e : Sorted(c.Command({"HGETALL", k.str}), true).elements) {
            value += e.str + ",";
          }
        }
        if (type == "list") {
          for (const Reply& e : c.Command({"LRANGE", k.str, "0", "-1"}).elements) {
            value += e.str + ",";
          }
        }
        all[std::to_string(db) + "/" + k.str] = type + ":" + value;
      }
      all["dbsize/" + std::to_string(db)] =
          std::to_string(c.Command({"DBSIZE"}).integer);
    }
    return all;
  };
  std::map<std::string, std::string> before;
  for (int round = 0; round < 3; ++round) {
    Client c(server.port());
    std::vector<std::vector<std::string>> commands;
    for (int i = 0; i < 1500; ++i) {
      const std::string db = std::to_string(rng() % 16);
      const std::string key = "key" + std::to_string(rng() % 40);
      switch (rng() % 10) {
        case 0:
          commands.push_back({"SELECT", db});
          break;
        case 1:
          commands.push_back({"HSET", key, "f" + std::to_string(rng() % 3), std::to_string(i)});
          break;
        case 2:
          commands.push_back({"RPUSH", key, std::to_string(i)});
          break;
        case 3:
          commands.push_back({"MOVE", key, db});
          break;
        case 4:
          if (rng() % 4 == 0) {
            commands.push_back({"SWAPDB", db, std::to_string(rng() % 16)});
          } else {
            commands.push_back({"DEL", key});
          }
          break;
        case 5:
          if (rng() % 10 == 0) {
            commands.push_back({"FLUSHDB"});
          } else {
            commands.push_back({"COPY", key, key + "c", "DB", db, "REPLACE"});
          }
          break;
        default:
          commands.push_back({"SET", key, "v" + std::to_string(i)});
      }
    }
    // Replies are acknowledgements: errors (WRONGTYPE, same database) are fine, I/O ones are not.
    dynakv::itest::RunAcknowledged(c, commands, [](const Reply& r) {
      return !r.IsError() || r.str.rfind("WRONGTYPE", 0) == 0 || r.str.find("same") != std::string::npos;
    });
    before = dump(c);
    Client after = KillAndRestart(server);
    const std::map<std::string, std::string> recovered = dump(after);
    CHECK(recovered == before);
  }
  std::size_t non_empty = 0;
  for (int db = 0; db < 16; ++db) non_empty += before["dbsize/" + std::to_string(db)] != "0";
  CHECK(non_empty > 8);  // the writes really were spread over the databases
}

TEST_CASE("a data directory written before databases opens with its keys in database 0") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  ServerProcess server;
  const std::filesystem::path fixture =
      std::filesystem::path(DYNAKV_FIXTURES_DIR) / "predatabases";
  std::filesystem::create_directories(server.dir());
  for (const auto& file : std::filesystem::directory_iterator(fixture)) {
    std::filesystem::copy_file(file.path(), std::filesystem::path(server.dir()) / file.path().filename());
  }
  server.Start();
  Client c(server.port());
  // Written by main at e57e4aa: SET str:1..60 value-<i>-<i*7919>, HSET h f1 v1 f2 v2 (then f3),
  // RPUSH l a b c, SET ttl x PX 4102444800000, DEL str:5, a checkpoint, SET tail, SADD s m1 m2,
  // DEL str:6, ZADD z 1 a 2 b, kill -9.
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(64));
  CHECK(c.Command({"GET", "str:7"}) == Reply::Bulk("value-7-55433"));
  CHECK(c.Command({"GET", "str:5"}) == Reply::Nil());
  CHECK(c.Command({"GET", "str:6"}) == Reply::Nil());
  CHECK(c.Command({"GET", "tail"}) == Reply::Bulk("tailvalue"));
  CHECK(Sorted(c.Command({"HGETALL", "h"}), true) ==
        Reply::Bulks({"f1", "v1", "f2", "v2", "f3", "v3"}));
  CHECK(c.Command({"LRANGE", "l", "0", "-1"}) == Reply::Bulks({"a", "b", "c"}));
  CHECK(Sorted(c.Command({"SMEMBERS", "s"})) == Reply::Bulks({"m1", "m2"}));
  CHECK(c.Command({"ZRANGE", "z", "0", "-1"}) == Reply::Bulks({"a", "b"}));
  CHECK(c.Command({"TTL", "ttl"}).integer > 4000000000LL);
  CHECK(KeyspaceLines(c) == "db0:keys=64,expires=1\n");
  for (int db = 1; db < 16; ++db) {
    REQUIRE(c.Command({"SELECT", std::to_string(db)}) == Reply::Status("OK"));
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
    CHECK(c.Command({"GET", "str:7"}) == Reply::Nil());
  }
  // And it carries on with databases, through a restart.
  REQUIRE(c.Command({"SELECT", "0"}) == Reply::Status("OK"));
  CHECK(c.Command({"MOVE", "str:7", "3"}) == Reply::Int(1));
  CHECK(c.Command({"SWAPDB", "0", "1"}) == Reply::Status("OK"));
  Client again = KillAndRestart(server);
  CHECK(again.Command({"DBSIZE"}) == Reply::Int(0));
  REQUIRE(again.Command({"SELECT", "1"}) == Reply::Status("OK"));
  CHECK(again.Command({"DBSIZE"}) == Reply::Int(63));
  REQUIRE(again.Command({"SELECT", "3"}) == Reply::Status("OK"));
  CHECK(again.Command({"GET", "str:7"}) == Reply::Bulk("value-7-55433"));
}

TEST_CASE("a node started with fewer databases than its keys use refuses to start") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  ServerProcess server({"--databases", "8"});
  server.Start();
  {
    Client c(server.port());
    CHECK(c.Command({"CONFIG", "GET", "databases"}) == Reply::Bulks({"databases", "8"}));
    CHECK(c.Command({"SELECT", "8"}) == Reply::Error("ERR DB index is out of range"));
    REQUIRE(c.Command({"SELECT", "6"}) == Reply::Status("OK"));
    REQUIRE(c.Command({"SET", "k", "six"}) == Reply::Status("OK"));
  }
  server.Stop();
  ServerProcess fewer({"--databases", "4", "--dir", server.dir()});
  CHECK(fewer.StartExpectingExit(std::chrono::seconds(10)) != 0);
}

TEST_CASE("cluster mode has database 0 only, with Redis Cluster's errors") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  dynakv::itest::LocalCluster cluster(1, 1);
  cluster.Start();
  Client c(cluster.node(0).port());
  CHECK(c.Command({"SELECT", "0"}) == Reply::Status("OK"));
  CHECK(c.Command({"SELECT", "1"}) == Reply::Error("ERR SELECT is not allowed in cluster mode"));
  CHECK(c.Command({"SELECT", "x"}) ==
        Reply::Error("ERR value is not an integer or out of range"));
  CHECK(c.Command({"SWAPDB", "0", "1"}) ==
        Reply::Error("ERR SWAPDB is not allowed in cluster mode"));
  REQUIRE(dynakv::itest::UntilAvailable(c, {"SET", "k", "v"}) == Reply::Status("OK"));
  CHECK(c.Command({"MOVE", "k", "1"}) == Reply::Error("ERR MOVE is not allowed in cluster mode"));
  CHECK(c.Command({"COPY", "k", "k2", "DB", "1"}) ==
        Reply::Error("ERR Copying to another database is not allowed in cluster mode"));
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
}
