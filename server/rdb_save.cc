#include "rdb_save.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "atomic_file.h"
#include "clock.h"
#include "command_util.h"
#include "format.h"
#include "keyspace.h"
#include "log.h"
#include "rdb/file_writer.h"
#include "rdb/value.h"
#include "rdb_cluster_export.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

namespace {

constexpr std::size_t kScanBatch = 1024;

long long ListFill(Server& server) {
  const types::TypesCodec* codec = server.codec();
  return codec != nullptr ? codec->limits().list_max_listpack_size : -2;
}

}  // namespace

bool BuildRdb(std::span<Keyspace* const> dbs, storage::Engine& engine,
              long long list_max_listpack_size, std::string* out, std::string* error) {
  out->clear();
  rdb::RdbWriter writer([out](std::string_view bytes) {
    out->append(bytes);
    return true;
  });
  rdb::EncodeOptions options;
  options.list_max_listpack_size = list_max_listpack_size;
  writer.Begin(kRedisCompatVersion, NowMs() / 1000, engine.Stats().memtable_bytes);
  std::vector<std::string> keys;
  std::string value;
  for (std::uint32_t db = 0; db < dbs.size(); ++db) {
    Keyspace& keyspace = *dbs[db];
    const std::uint64_t count = keyspace.KeyCount();
    if (count == 0) continue;
    // RESIZEDB's expires is a sizing hint only (rdbLoad's dictExpand).
    writer.SelectDb(db, count, 0);
    // A scan may return a key twice; Redis refuses a file holding one twice.
    std::unordered_set<std::string> seen;
    std::uint64_t cursor = 0;
    do {
      keys.clear();
      cursor = keyspace.Scan(cursor, kScanBatch, &keys);
      for (std::string& key : keys) {
        if (!seen.insert(key).second) continue;
        std::optional<storage::ValueRef> ref = keyspace.Get(key);
        if (!ref) continue;  // expired meanwhile
        value.clear();
        if (ref->object() != nullptr) {
          rdb::EncodeObject(*ref->object(), options, &value);
        } else {
          rdb::EncodeString(ref->ToString(), options, &value);
        }
        const std::int64_t expire_at = keyspace.GetExpireAt(key).value_or(0);
        writer.Key(key, value, expire_at);
      }
    } while (cursor != 0);
  }
  writer.Finish();
  const storage::Status read = engine.TakeReadError();
  if (!read.ok()) {
    *error = "a read of the data failed: " + read.ToString();
    return false;
  }
  return true;
}

bool WriteFileAtomically(const std::string& path, const std::string& bytes, std::string* error) {
  AtomicWriteFailure failure;
  if (server::WriteFileAtomically(path, bytes, 0644, &failure)) return true;
  const std::string why = std::strerror(failure.error);
  switch (failure.step) {
    case AtomicWriteFailure::Step::kOpen:
      *error = "Failed opening the temp RDB file " + failure.temp + ": " + why;
      break;
    case AtomicWriteFailure::Step::kWrite:
      *error = "Write error saving DB on disk: " + why;
      break;
    case AtomicWriteFailure::Step::kSync:
      *error = "Failed to sync the RDB file: " + why;
      break;
    case AtomicWriteFailure::Step::kRename:
      *error = "Error moving temp DB file " + failure.temp + " on the final destination " + path +
               ": " + why;
      break;
  }
  return false;
}

RdbSaver::~RdbSaver() {
  if (writer_.joinable()) writer_.join();
}

std::string RdbSaver::Path() const {
  const Config& config = server_.config();
  return config.dir + "/" + config.dbfilename;
}

bool RdbSaver::Build(std::string* out, std::string* error) {
  std::vector<Keyspace*> dbs;
  for (std::uint32_t db = 0; db < server_.databases(); ++db) dbs.push_back(&server_.keyspace(db));
  return BuildRdb(dbs, server_.engine(), ListFill(server_), out, error);
}

void RdbSaver::Finished(bool ok, std::size_t bytes) {
  last_ok_ = ok;
  if (ok) {
    last_save_unix_ = NowMs() / 1000;
    last_bytes_ = bytes;
    ++saves_;
  }
}

bool RdbSaver::Save(std::string* error) {
  if (in_progress_) {
    *error = "ERR Background save already in progress";
    return false;
  }
  std::string bytes;
  std::string reason;
  const bool ok = Build(&bytes, &reason) && WriteFileAtomically(Path(), bytes, &reason);
  Finished(ok, bytes.size());
  if (!ok) {
    Log(server_.log_level(), LogLevel::kWarning, "RDB save failed: %s", reason.c_str());
    *error = "ERR " + reason;
    return false;
  }
  Log(server_.log_level(), LogLevel::kNotice, "DB saved on disk (%s, %zu bytes)", Path().c_str(),
      bytes.size());
  return true;
}

bool RdbSaver::StartBgsave(std::string* error) {
  if (in_progress_) {
    *error = "ERR Background save already in progress";
    return false;
  }
  if (writer_.joinable()) writer_.join();  // the last one is over: in_progress_ is false
  auto bytes = std::make_shared<std::string>();
  std::string reason;
  if (!Build(bytes.get(), &reason)) {
    Finished(false, 0);
    *error = "ERR " + reason;
    return false;
  }
  current_start_ms_ = NowMs();
  in_progress_ = true;
  WriteInBackground(std::move(bytes), current_start_ms_.load());
  Log(server_.log_level(), LogLevel::kNotice, "Background saving started");
  return true;
}

bool RdbSaver::StartClusterBgsave(std::string* error) {
  if (in_progress_) {
    *error = "ERR Background save already in progress";
    return false;
  }
  if (writer_.joinable()) writer_.join();
  const std::int64_t start = NowMs();
  current_start_ms_ = start;
  in_progress_ = true;
  Log(server_.log_level(), LogLevel::kNotice,
      "Background saving of the whole cluster's keys started");
  BuildClusterRdb(*server_.cluster_node(), server_.codec(),
                  server_.config().cluster_read_consistency, ListFill(server_),
                  [this, start](std::string rdb, std::string why) {
                    if (!why.empty()) {
                      Finished(false, 0);
                      last_bgsave_ms_ = NowMs() - start;
                      in_progress_ = false;
                      Log(server_.log_level(), LogLevel::kWarning,
                          "Background saving of the cluster failed: %s", why.c_str());
                      return;
                    }
                    WriteInBackground(std::make_shared<std::string>(std::move(rdb)), start);
                  });
  return true;
}

void RdbSaver::WriteInBackground(std::shared_ptr<std::string> bytes, std::int64_t start) {
  const std::string path = Path();
  const LogLevel level = server_.log_level();
  writer_ = std::thread([this, bytes, path, start, level] {
    std::string why;
    const bool ok = WriteFileAtomically(path, *bytes, &why);
    Finished(ok, bytes->size());
    last_bgsave_ms_ = NowMs() - start;
    if (ok) {
      Log(level, LogLevel::kNotice, "Background saving terminated with success");
    } else {
      Log(level, LogLevel::kWarning, "Background saving error: %s", why.c_str());
    }
    in_progress_ = false;
  });
}

std::int64_t RdbSaver::current_bgsave_ms() const {
  if (!in_progress_) return -1;
  return NowMs() - current_start_ms_.load();
}

void AppendRdbSaveInfo(const RdbSaver& saver, std::string* out) {
  // When the RDB file was last written (rdb_last_save_time is the last checkpoint's), and its size.
  AppendPrintf(out,
               "rdb_last_rdb_save_time:%lld\r\n"
               "rdb_last_save_bytes:%llu\r\n",
               static_cast<long long>(saver.last_save_unix()),
               static_cast<unsigned long long>(saver.last_bytes()));
}

}  // namespace dynakv::server
