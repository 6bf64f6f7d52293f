#include "rdb_export_tool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cluster/stored_siblings.h"
#include "config.h"
#include "keyspace.h"
#include "rdb_save.h"
#include "replica_keyspace.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

namespace {

namespace fs = std::filesystem;

// Reports to stderr, as the tool's only output.
void Say(const std::string& message) { std::fprintf(stderr, "%s\n", message.c_str()); }

// Changes nothing: an offline export has no one to tell.
class NoObserver final : public KeyspaceObserver {
 public:
  void KeyModified(std::uint32_t, std::string_view) override {}
  void KeyspaceClearing(int) override {}
};

// The scratch copy, removed however the export ends.
class ScratchDir {
 public:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Holds `dir`'s lock (the one the engine takes) until destroyed. False, with *error, when the
// directory is not a data directory or a node has it open.
bool LockDataDir(const std::string& dir, int* fd, std::string* error) {
  const std::string lock = dir + "/LOCK";
  *fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    *error = "'" + dir + "' is not a data directory (no LOCK file: " + std::strerror(errno) + ")";
    return false;
  }
  if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    *error = errno == EWOULDBLOCK
                 ? "data directory '" + dir +
                       "' is in use: stop the node first (a running node holds its lock)"
                 : "can't lock '" + lock + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

// Copies the regular files of `from` (not its subdirectories: hints, not data) into `to`.
bool CopyFiles(const std::string& from, const std::string& to, std::string* error) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(from, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    fs::copy_file(entry.path(), fs::path(to) / entry.path().filename(), ec);
    if (ec) break;
  }
  if (ec) {
    *error = "copying '" + from + "' failed: " + ec.message();
    return false;
  }
  return true;
}

}  // namespace

int ExportRdbOffline(const Config& config) {
  const std::string& out = config.export_rdb;
  std::error_code ec;
  if (!config.cluster_enabled && fs::is_directory(config.dir + "/hints", ec)) {
    Say("'" + config.dir +
        "' holds a cluster-mode node's data (it has hints/): export it with the node's own "
        "config file, or --cluster-enabled yes and the node's cluster settings");
    return 1;
  }
  int lock_fd = -1;
  std::string error;
  if (!LockDataDir(config.dir, &lock_fd, &error)) {
    if (lock_fd >= 0) ::close(lock_fd);
    Say("Can't export: " + error);
    return 1;
  }
  const std::unique_ptr<int, void (*)(int*)> lock(&lock_fd, [](int* fd) { ::close(*fd); });

  fs::path parent = fs::absolute(fs::path(out), ec).parent_path();
  std::string pattern = (parent / (fs::path(out).filename().string() + ".export-XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    Say("Can't create a scratch directory beside '" + out + "': " + std::strerror(errno));
    return 1;
  }
  const ScratchDir scratch(name.data());
  if (!CopyFiles(config.dir, scratch.path(), &error)) {
    Say("Can't export: " + error);
    return 1;
  }

  types::TypesCodec codec;
  codec.mutable_limits() = ToTypeLimits(config);
  storage::Options options = ToStorageOptions(config);
  options.dir = scratch.path();
  const cluster::StoredSiblingsCodec cluster_codec(&codec);  // as the node opens it (node.cc)
  options.object_codec =
      config.cluster_enabled ? static_cast<const storage::ObjectCodec*>(&cluster_codec) : &codec;
  options.log_corruption_policy = storage::LogCorruptionPolicy::kRefuse;
  if (storage::DeletesVictims(options.eviction))
    options.eviction = storage::EvictionPolicy::kOffload;
  std::unique_ptr<storage::Engine> engine;
  const storage::Status status = storage::Engine::Open(options, &engine);
  if (!status.ok()) {
    Say("Can't open the data directory '" + config.dir + "': " + status.ToString());
    return 1;
  }

  NoObserver observer;
  std::vector<std::unique_ptr<Keyspace>> keyspaces;
  if (config.cluster_enabled) {
    keyspaces.push_back(std::make_unique<ReplicaKeyspace>(*engine, nullptr, &codec));
  } else {
    for (std::uint32_t db = 0; db < static_cast<std::uint32_t>(config.databases); ++db) {
      keyspaces.push_back(std::make_unique<LocalKeyspace>(*engine, db, observer));
    }
  }
  std::vector<Keyspace*> dbs;
  for (const auto& keyspace : keyspaces) dbs.push_back(keyspace.get());
  std::string rdb;
  if (!BuildRdb(dbs, *engine, codec.limits().list_max_listpack_size, &rdb, &error) ||
      !WriteFileAtomically(out, rdb, &error)) {
    Say("Can't export: " + error);
    return 1;
  }
  Say("Exported '" + config.dir + "' (" +
      (config.cluster_enabled ? "cluster mode" : "single node") + ") to '" + out +
      "': " + std::to_string(rdb.size()) + " bytes");
  return 0;
}

}  // namespace dynakv::server
