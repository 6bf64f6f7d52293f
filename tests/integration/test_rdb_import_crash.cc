// An RDB import at start (--import-rdb) is a bulk load (rdb_import_marker.h): its keys are not
// logged one by one and a marker in the data directory guards it. Once complete it is done
// without waiting for a checkpoint: the file, kept in the data directory as a hard link, is its
// durable copy until the checkpoint started then saves it. Here: every key, and the writes made
// after the import, survive kill -9 right after it (the next start reloads the kept file under
// those writes) and after its checkpoint; a kept file that changed or went makes the start
// refuse with the reason; a kill in the middle leaves the marker, so the next start refuses to
// serve the partial data unless it imports the same file again, which then completes; an import
// that fails at start keeps (durably) the keys before the error and leaves no marker.
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

// Starts `server` and waits until it serves: an import at start runs before the port opens, so
// it may take longer than Start waits.
void LaunchAndWaitServing(ServerProcess& server) {
  server.Launch();
  REQUIRE(WaitFor(
      [&] {
        return !server.Alive() ||
               Client(server.port(), std::chrono::milliseconds(2000)).Command({"PING"}) ==
                   Reply::Status("PONG");
      },
      std::chrono::seconds(120)));
  REQUIRE_MESSAGE(server.Alive(), server.LogTail());
}

std::string Kept(const std::string& dir) { return dir + "/RDB-IMPORT-SOURCE"; }

// Writes after the import, to imported keys and new ones; CheckWrites sees them.
void WriteAfterImport(Client& client) {
  REQUIRE(client.Command({"SET", Key(0), "changed"}) == Reply::Status("OK"));
  REQUIRE(client.Command({"DEL", Key(1)}).integer == 1);
  REQUIRE(client.Command({"HSET", Key(9), "f0", "new"}).integer == 0);
  REQUIRE(client.Command({"SET", "after", "import"}) == Reply::Status("OK"));
}
void CheckWrites(Client& client, int n) {
  CHECK(client.Command({"DBSIZE"}).integer == n);  // one deleted, one added
  CHECK(client.Command({"GET", Key(0)}) == Reply::Bulk("changed"));
  CHECK(client.Command({"EXISTS", Key(1)}).integer == 0);
  CHECK(client.Command({"HGET", Key(9), "f0"}) == Reply::Bulk("new"));
  CHECK(client.Command({"HGET", Key(9), "f1"}) == Reply::Bulk(Value(10).substr(0, 20)));
  CHECK(client.Command({"GET", "after"}) == Reply::Bulk("import"));
  for (int i = 2; i < n; i += 97) {
    CAPTURE(i);
    if (i % 10 == 9) {
      CHECK(client.Command({"HGET", Key(i), "f2"}) == Reply::Bulk(Value(i + 2).substr(0, 20)));
    } else {
      CHECK(client.Command({"GET", Key(i)}) == Reply::Bulk(Value(i)));
    }
  }
}

// Imports `n` keys at start into `dir` and writes after the import; with `wait_saved`, only
// once the import's checkpoint saved it. Then kill -9. Returns whether the import was still
// unsaved at the kill (the marker left).
bool ImportWriteAndKill(const std::string& dir, const std::string& path, int n, bool wait_saved) {
  ServerProcess importer(On(dir, {"--import-rdb", path}));
  LaunchAndWaitServing(importer);
  Client client(importer.port());
  CHECK(PersistenceInfo(client, "rdb_import_status") == "ok");
  CHECK(PersistenceInfo(client, "rdb_import_keys") == std::to_string(n));
  WriteAfterImport(client);
  if (wait_saved) {
    REQUIRE(WaitFor([&] { return !Exists(Marker(dir)); }, std::chrono::seconds(60)));
    CHECK_FALSE(Exists(Kept(dir)));
    CHECK(importer.LogTail(8192).find("saved by a checkpoint") != std::string::npos);
  }
  const bool unsaved = Exists(Marker(dir));
  importer.Kill();
  return unsaved;
}

TEST_CASE(
    "--import-rdb: the import and the writes after it survive kill -9 before its checkpoint") {
  if (TestingRealRedis()) return;
  const int n = 300000;  // about 30 MB: its checkpoint takes long enough for the writes and kill
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../import.rdb";
  WriteFile(path, MakeRdb(n));
  const bool unsaved = ImportWriteAndKill(dir, path, n, /*wait_saved=*/false);
  // The original may go: the kept link is what a restart reloads.
  std::filesystem::remove(path);
  ServerProcess restarted(On(dir, {}));  // no second import: only what the directory holds
  LaunchAndWaitServing(restarted);
  const bool reloaded = restarted.LogTail(16384).find("reloading it from") != std::string::npos;
  CHECK(reloaded == unsaved);
  MESSAGE("import unsaved at the kill (the restart reloaded it): " << unsaved);
  Client client(restarted.port());
  CheckWrites(client, n);
  // Saved by the restart: the marker and the kept file are gone, a second restart reloads
  // nothing.
  CHECK_FALSE(Exists(Marker(dir)));
  CHECK_FALSE(Exists(Kept(dir)));
  restarted.Kill();
  ServerProcess again(On(dir, {}));
  again.Start();
  CHECK(again.LogTail(16384).find("reloading it from") == std::string::npos);
  Client client2(again.port());
  CheckWrites(client2, n);
}

TEST_CASE("--import-rdb: every key survives kill -9 once its checkpoint saved it") {
  if (TestingRealRedis()) return;
  const int n = 20000;
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../import.rdb";
  WriteFile(path, MakeRdb(n));
  CHECK_FALSE(ImportWriteAndKill(dir, path, n, /*wait_saved=*/true));
  ServerProcess restarted(On(dir, {}));
  restarted.Start();
  CHECK(restarted.LogTail(16384).find("reloading it from") == std::string::npos);
  Client client(restarted.port());
  CheckWrites(client, n);
}

TEST_CASE("--import-rdb unsaved at a crash, its kept file changed or gone: the start refuses") {
  if (TestingRealRedis()) return;
  ServerProcess owner;
  const std::string dir = owner.dir();
  const std::string path = dir + "/../import.rdb";
  WriteFile(path, MakeRdb(100));
  {
    ServerProcess importer(On(dir, {"--import-rdb", path}));
    importer.Start();
    importer.Stop();
  }
  // A clean stop saved it: nothing is left to reload.
  CHECK_FALSE(Exists(Marker(dir)));
  CHECK_FALSE(Exists(Kept(dir)));
  // The state a crash before its checkpoint leaves, with the kept file then replaced in place.
  WriteFile(Kept(dir), MakeRdb(100));
  WriteFile(Marker(dir), path + "\nunsaved 1 5 0 0000000000000000\n");
  {
    ServerProcess changed(On(dir, {}));
    const int status = changed.StartExpectingExit(std::chrono::seconds(30));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(changed.LogTail().find("changed since the import") != std::string::npos);
  }
  std::filesystem::remove(Kept(dir));
  {
    ServerProcess gone(On(dir, {}));
    const int status = gone.StartExpectingExit(std::chrono::seconds(30));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(gone.LogTail().find("is not usable") != std::string::npos);
  }
  // Deleting the marker serves what the directory holds (here: the saved import).
  std::filesystem::remove(Marker(dir));
  ServerProcess plain(On(dir, {}));
  plain.Start();
  Client client(plain.port());
  CheckKeys(client, 100);
}

TEST_CASE(
    "--import-rdb killed midway: the next start refuses, importing the file again completes") {
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
    LaunchAndWaitServing(again);
    Client client(again.port());
    CHECK(PersistenceInfo(client, "rdb_import_status") == "ok");
    CheckKeys(client, n);
    // Saved by its checkpoint soon after.
    CHECK(WaitFor([&] { return !Exists(Marker(dir)); }, std::chrono::seconds(60)));
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
