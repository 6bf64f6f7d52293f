// An RDB import at start (--import-rdb) is a bulk load (rdb_import_marker.h): its keys are not
// logged one by one, a checkpoint makes them durable before "done", and a marker in the data
// directory guards the time before. Here: every key survives kill -9 right after the import;
// a kill in the middle leaves the marker, so the next start refuses to serve the partial data
// unless it imports the same file again, which then completes; an import that fails at start
// keeps (durably) the keys before the error and leaves no marker.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "client.h"
#include "harness.h"
#include "rdb_util.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

// RDB length encoding (rdbSaveLen).
void PutLength(std::string* out, std::size_t n) {
  if (n < 64) {
    out->push_back(static_cast<char>(n));
  } else if (n < 16384) {
    out->push_back(static_cast<char>(0x40 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else {
    out->push_back(static_cast<char>(0x80));
    for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(n >> shift));
  }
}
void PutString(std::string* out, const std::string& s) {
  PutLength(out, s.size());
  out->append(s);
}

std::string Key(int i) { return "key:" + std::to_string(i); }
// 60-100 pseudo-random letters: LZ4 cannot shrink them.
std::string Value(int i) {
  std::uint64_t x = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + 17;
  std::string v(60 + i % 41, 'a');
  for (char& c : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  return v;
}

// An RDB file of `n` keys in database 0 (with RESIZEDB, as Redis writes it): every 10th a hash
// of three fields (RDB_TYPE_HASH), the others strings; checksum 0 (rdbchecksum no).
std::string MakeRdb(int n) {
  std::string out = "REDIS0010";
  out += "\xfe";  // SELECTDB 0
  PutLength(&out, 0);
  out += "\xfb";  // RESIZEDB
  PutLength(&out, static_cast<std::size_t>(n));
  PutLength(&out, 0);
  for (int i = 0; i < n; ++i) {
    if (i % 10 == 9) {
      out.push_back(4);
      PutString(&out, Key(i));
      PutLength(&out, 3);
      for (int f = 0; f < 3; ++f) {
        PutString(&out, "f" + std::to_string(f));
        PutString(&out, Value(i + f).substr(0, 20));
      }
    } else {
      out.push_back(0);
      PutString(&out, Key(i));
      PutString(&out, Value(i));
    }
  }
  out += "\xff";
  out.append(8, '\0');
  return out;
}

// Spot checks of `n` keys (every 97th and the last ones), strings and hashes.
void CheckKeys(Client& client, int n) {
  CHECK(client.Command({"DBSIZE"}).integer == n);
  for (int i = 0; i < n; i += (i + 10 >= n ? 1 : 97)) {
    CAPTURE(i);
    if (i % 10 == 9) {
      CHECK(client.Command({"HGET", Key(i), "f2"}) == Reply::Bulk(Value(i + 2).substr(0, 20)));
    } else {
      CHECK(client.Command({"GET", Key(i)}) == Reply::Bulk(Value(i)));
    }
  }
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

std::string Marker(const std::string& dir) { return dir + "/RDB-IMPORT-IN-PROGRESS"; }

// A node on data directory `dir` (a ServerProcess that is never started owns it): the later
// "--dir" wins over the one ServerProcess gives.
Flags On(const std::string& dir, Flags flags) {
  flags.insert(flags.begin(), {"--dir", dir});
  return flags;
}

TEST_CASE("--import-rdb: every key survives kill -9 right after the import") {
  if (TestingRealRedis()) return;
  const int n = 20000;
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../import.rdb";
  WriteFile(path, MakeRdb(n));
  ServerProcess importer(On(dir, {"--import-rdb", path}));
  importer.Start();
  {
    Client client(importer.port());
    CHECK(PersistenceInfo(client, "rdb_import_status") == "ok");
    CHECK(PersistenceInfo(client, "rdb_import_keys") == std::to_string(n));
    CheckKeys(client, n);
  }
  CHECK_FALSE(Exists(Marker(dir)));
  CHECK(importer.LogTail(8192).find("written to a checkpoint in") != std::string::npos);
  importer.Kill();
  ServerProcess restarted(On(dir, {}));  // no second import: only what the directory holds
  restarted.Start();
  Client client(restarted.port());
  CheckKeys(client, n);
}

TEST_CASE("--import-rdb killed midway: the next start refuses, importing the file again completes") {
  if (TestingRealRedis()) return;
  const int n = 300000;  // about 30 MB: an import of a second or more, the kill lands inside it
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../import.rdb";
  WriteFile(path, MakeRdb(n));
  {
    ServerProcess importer(On(dir, {"--import-rdb", path}));
    importer.Launch();
    REQUIRE(WaitFor([&] { return Exists(Marker(dir)); }, std::chrono::seconds(20)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    importer.Kill();
    REQUIRE_MESSAGE(Exists(Marker(dir)), "the import ended before the kill: ", importer.LogTail());
  }
  {
    // Without the import, the partial directory is not served.
    ServerProcess plain(On(dir, {}));
    const int status = plain.StartExpectingExit(std::chrono::seconds(30));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(plain.LogTail().find("was interrupted before it completed") != std::string::npos);
  }
  {
    // Nor with another file.
    const std::string other = dir + "/../other.rdb";
    WriteFile(other, MakeRdb(10));
    ServerProcess wrong(On(dir, {"--import-rdb", other}));
    const int status = wrong.StartExpectingExit(std::chrono::seconds(30));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
  }
  {
    // The same file again (named by a relative path here, the marker by its absolute one).
    ServerProcess again(On(dir, {"--import-rdb", std::filesystem::relative(path).string()}));
    again.Launch();
    // The import runs before the port opens: it may take longer than Start waits.
    REQUIRE(WaitFor(
        [&] {
          return !again.Alive() ||
                 Client(again.port(), std::chrono::milliseconds(2000)).Command({"PING"}) ==
                     Reply::Status("PONG");
        },
        std::chrono::seconds(120)));
    REQUIRE_MESSAGE(again.Alive(), again.LogTail());
    Client client(again.port());
    CHECK(PersistenceInfo(client, "rdb_import_status") == "ok");
    CheckKeys(client, n);
    CHECK_FALSE(Exists(Marker(dir)));
    again.Kill();
  }
  ServerProcess restarted(On(dir, {}));
  restarted.Start();
  Client client(restarted.port());
  CheckKeys(client, n);
}

TEST_CASE("--import-rdb of a cut file: the node exits, the keys before the cut stay durably") {
  if (TestingRealRedis()) return;
  const std::string rdb = MakeRdb(5000);
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../cut.rdb";
  WriteFile(path, rdb.substr(0, rdb.size() / 2));
  {
    ServerProcess importer(On(dir, {"--import-rdb", path}));
    const int status = importer.StartExpectingExit(std::chrono::seconds(30));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
  }
  CHECK_FALSE(Exists(Marker(dir)));
  ServerProcess restarted(On(dir, {}));
  restarted.Start();
  Client client(restarted.port());
  const long long kept = client.Command({"DBSIZE"}).integer;
  CHECK(kept > 1000);
  CHECK(kept < 5000);
  CheckKeys(client, static_cast<int>(kept));
}

}  // namespace
}  // namespace dynakv::itest
