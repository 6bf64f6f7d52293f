// Redis RDB files in and out (issue 17), against a real redis-server 7: a dataset of every type
// in every encoding Redis writes (small and large collections, expiries, binary keys, several
// databases, a stream) saved by Redis, imported here at run time (IMPORT-RDB) and at start
// (--import-rdb) and compared key by key with per-type reads; this node's SAVE and
// `redis-cli --rdb` against it loaded by fresh redis-servers and compared the same way; corrupt
// and unsupported files refused with the offset and the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client.h"
#include "harness.h"
#include "rdb_util.h"
#include "reference_pair.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

const std::vector<int> kDatabases = {0, 3, 15};

std::string Info(Client& client, const std::string& field) {
  return PersistenceInfo(client, field);
}

TEST_CASE("a Redis 7 RDB file imports, exports and streams through redis-cli --rdb unchanged") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client redis(reference.port());
  Fill(redis, kDatabases);
  REQUIRE(redis.Command({"SAVE"}) == Reply::Status("OK"));
  const auto expected = Snapshot(redis, kDatabases);
  const std::string rdb_path = reference.dir() + "/dump.rdb";
  const std::string rdb = ReadFile(rdb_path);
  REQUIRE(rdb.size() > 1000);

  Client client(ours.port());
  SUBCASE("IMPORT-RDB at run time, then SAVE and redis-cli --rdb back into redis-server") {
    CHECK(Import(client, rdb_path) == "ok");
    CHECK(Info(client, "rdb_import_keys") == std::to_string(expected.size()));
    CHECK(Info(client, "rdb_import_skipped_keys") == "1");  // the stream
    CHECK(Info(client, "rdb_import_loaded_bytes") == std::to_string(rdb.size()));
    CheckSame(expected, Snapshot(client, kDatabases));

    REQUIRE(client.Command({"SAVE"}) == Reply::Status("OK"));
    CHECK(client.Command({"LASTSAVE"}).integer > 0);
    CHECK(Info(client, "rdb_saves") == "1");
    CheckSame(expected, LoadedByRedis(ReadFile(ours.dir() + "/dump.rdb"), kDatabases));

    REQUIRE(client.Command({"BGSAVE"}) == Reply::Status("Background saving started"));
    REQUIRE(WaitFor([&] { return Info(client, "rdb_bgsave_in_progress") == "0"; }));
    CHECK(Info(client, "rdb_last_bgsave_status") == "ok");
    CheckSame(expected, LoadedByRedis(ReadFile(ours.dir() + "/dump.rdb"), kDatabases));

    const std::string cli_rdb = ours.dir() + "/../cli.rdb";
    const std::string command = "timeout 30 redis-cli -p " + std::to_string(ours.port()) +
                                " --rdb '" + cli_rdb + "' >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    CheckSame(expected, LoadedByRedis(ReadFile(cli_rdb), kDatabases));
  }
  SUBCASE("--import-rdb at start") {
    ServerProcess started({"--import-rdb", rdb_path});
    started.Start();
    Client c(started.port());
    CHECK(Info(c, "rdb_import_status") == "ok");
    CheckSame(expected, Snapshot(c, kDatabases));
    started.Stop();
  }
}

// The import writes each key some keys after the reader yields it (its bucket prefetched
// meanwhile): a write refused in the middle still ends the import there, with every key it
// counted stored and none after it.
TEST_CASE("a write refused midway ends an import with the reason and the keys written") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({"--maxmemory", "1mb", "--maxmemory-policy", "noeviction"}, {});
  auto& [ours, reference] = servers;
  Client redis(reference.port());
  std::uint64_t seed = 42;
  for (int i = 0; i < 3000; ++i) {
    std::string value(1000, '\0');  // random letters: neither LZF nor LZ4 shrinks them
    for (char& c : value) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>('a' + (seed >> 59) % 26);
    }
    REQUIRE(redis.Command({"SET", "key:" + std::to_string(i), value}) == Reply::Status("OK"));
  }
  REQUIRE(redis.Command({"SAVE"}) == Reply::Status("OK"));
  Client client(ours.port());
  CHECK(Import(client, reference.dir() + "/dump.rdb") == "err");
  CHECK(Info(client, "rdb_import_error").find("write of a key failed") == 0);
  const std::uint64_t imported = std::stoull(Info(client, "rdb_import_keys"));
  CHECK(imported > 16);
  CHECK(imported < 3000);
  CHECK(client.Command({"DBSIZE"}).integer == static_cast<long long>(imported));
}

// The file with `bytes` put at `offset` (replacing as many).
std::string Patched(std::string file, std::size_t offset, std::string_view bytes) {
  file.replace(offset, bytes.size(), bytes);
  return file;
}

TEST_CASE("corrupt and unsupported RDB files are refused with the offset and the reason") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client redis(reference.port());
  Fill(redis, kDatabases);
  REQUIRE(redis.Command({"SAVE"}) == Reply::Status("OK"));
  const std::string rdb = ReadFile(reference.dir() + "/dump.rdb");
  const std::string path = reference.dir() + "/bad.rdb";
  Client client(ours.port());

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
    CHECK(Import(client, path) == "err");
    const std::string reason = Info(client, "rdb_import_error");
    CHECK_FALSE(reason.empty());
    if (!c.reason.empty()) {
      CHECK(reason.find(c.reason) == 0);
      CHECK(Info(client, "rdb_import_error_offset") == std::to_string(c.offset));
    } else {
      // A cut file: the error is at or before the cut, and the keys before it are counted.
      CHECK(std::stoull(Info(client, "rdb_import_error_offset")) <= c.file.size());
      CHECK(std::stoull(Info(client, "rdb_import_keys")) <= 200);
    }
  }
  CHECK(client.Command({"IMPORT-RDB", reference.dir() + "/missing.rdb"}).IsError());

  // At start a refused file stops the node.
  WriteFile(path, flipped);
  ServerProcess refused({"--import-rdb", path});
  const int status = refused.StartExpectingExit(std::chrono::seconds(20));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(refused.LogTail().find("wrong RDB checksum") != std::string::npos);
}

}  // namespace
}  // namespace dynakv::itest
