#include "rdb_import.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "clock.h"
#include "format.h"
#include "keyspace.h"
#include "list_blocking.h"
#include "log.h"
#include "rdb/file_reader.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

// Writes what the reader yields into the server's databases.
class RdbImport::Sink final : public rdb::RdbSink {
 public:
  Sink(Server& server, RdbImportProgress& progress, const types::TypeLimits& limits)
      : server_(server), progress_(progress), reader_(limits, *this) {}

  rdb::RdbReader& reader() { return reader_; }

  bool OnKey(rdb::RdbKey& key, std::string* reason) override {
    if (key.db >= server_.databases()) {
      *reason = "key in database " + std::to_string(key.db) + ", but this node has " +
                std::to_string(server_.databases()) + " databases";
      return false;
    }
    if (key.expire_at_ms != 0 && key.expire_at_ms <= now_ms_) {
      ++progress_.expired_keys;  // rdbLoad drops them too (on a master)
      return true;
    }
    const auto db = static_cast<std::uint32_t>(key.db);
    Keyspace& keyspace = server_.keyspace(db);
    storage::Status status;
    const bool typed = key.value.object != nullptr;
    if (typed) {
      serialized_.clear();
      key.value.object->Serialize(&serialized_);
      status = keyspace.PutObject(key.key, serialized_, key.expire_at_ms);
    } else {
      status = keyspace.Put(key.key, key.value.string, key.expire_at_ms);
    }
    if (!status.ok()) {
      *reason = "write of a key failed: " + status.ToString();
      return false;
    }
    if (typed) server_.blocked_lists().SignalReady(db, key.key);
    ++progress_.keys;
    return true;
  }
  void OnSkippedKey(std::uint64_t, std::string_view, std::string_view) override {
    ++progress_.skipped_keys;
  }
  bool OnFunction(std::string_view) override {
    ++progress_.skipped_functions;
    return false;
  }

  void set_now_ms(std::int64_t now) { now_ms_ = now; }

 private:
  Server& server_;
  RdbImportProgress& progress_;
  rdb::RdbReader reader_;
  std::string serialized_;
  std::int64_t now_ms_ = 0;
};

RdbImport::RdbImport(Server& server) : server_(server) {}
RdbImport::~RdbImport() = default;

bool RdbImport::Open(const std::string& path, std::string* error) {
  if (progress_.running) {
    *error = "ERR An RDB import is already in progress";
    return false;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = "ERR Can't open the RDB file '" + path + "': " + std::strerror(errno);
    return false;
  }
  file_.reset(file);
  progress_ = RdbImportProgress{};
  progress_.running = true;
  progress_.path = path;
  progress_.start_ms = NowMs();
  struct stat st;
  if (fstat(fileno(file), &st) == 0) progress_.total_bytes = static_cast<std::uint64_t>(st.st_size);
  const types::TypesCodec* codec = server_.codec();
  sink_ = std::make_unique<Sink>(server_, progress_,
                                 codec != nullptr ? codec->limits() : types::TypeLimits{});
  Log(server_.log_level(), LogLevel::kNotice, "Importing RDB file %s (%llu bytes)", path.c_str(),
      static_cast<unsigned long long>(progress_.total_bytes));
  return true;
}

bool RdbImport::Step() {
  if (!progress_.running) return false;
  rdb::RdbReader& reader = sink_->reader();
  std::string chunk(kChunkBytes, '\0');
  const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), file_.get());
  chunk.resize(n);
  const bool at_end = n < kChunkBytes;
  if (at_end && std::ferror(file_.get())) {
    End(false, reader.bytes_read(), std::string("read error: ") + std::strerror(errno));
    return false;
  }
  sink_->set_now_ms(NowMs());
  bool ok;
  {
    // One piece's keys reach the commit log as one record.
    storage::Engine::AtomicGroup group(server_.engine());
    ok = reader.Feed(chunk) && (!at_end || reader.Finish());
  }
  progress_.bytes = reader.bytes_read();
  if (!ok) {
    End(false, reader.error().offset, reader.error().reason);
    return false;
  }
  if (reader.done()) {
    // Whatever follows the checksum is not read: Redis ignores it too.
    End(true, 0, {});
    return false;
  }
  if (at_end) {
    End(false, reader.bytes_read(), "unexpected end of file");
    return false;
  }
  return true;
}

void RdbImport::End(bool ok, std::uint64_t offset, const std::string& reason) {
  progress_.running = false;
  progress_.finished = true;
  progress_.ok = ok;
  progress_.end_ms = NowMs();
  progress_.error_offset = offset;
  progress_.error = reason;
  file_.reset();
  if (idle_) uv_idle_stop(idle_.get());
  const double seconds = static_cast<double>(progress_.end_ms - progress_.start_ms) / 1000.0;
  if (ok) {
    Log(server_.log_level(), LogLevel::kNotice,
        "RDB import of %s done in %.3f seconds: %llu keys imported, %llu already expired, %llu "
        "skipped (stream/module), %llu functions skipped",
        progress_.path.c_str(), seconds, static_cast<unsigned long long>(progress_.keys),
        static_cast<unsigned long long>(progress_.expired_keys),
        static_cast<unsigned long long>(progress_.skipped_keys),
        static_cast<unsigned long long>(progress_.skipped_functions));
  } else {
    Log(server_.log_level(), LogLevel::kWarning,
        "RDB import of %s FAILED at offset %llu: %s. %llu keys were imported before the error "
        "and stay.",
        progress_.path.c_str(), static_cast<unsigned long long>(offset), reason.c_str(),
        static_cast<unsigned long long>(progress_.keys));
  }
  sink_.reset();
}

void RdbImport::Stop() {
  if (progress_.running) {
    End(false, progress_.bytes, "interrupted by shutdown");
  }
  idle_.Close();
}

void RdbImport::OnIdle(uv_idle_t* idle) { static_cast<RdbImport*>(idle->data)->Step(); }

bool RdbImport::StartInBackground(const std::string& path, std::string* error) {
  if (!idle_) {
    const int rc = idle_.Init([&](uv_idle_t* i) { return uv_idle_init(server_.loop(), i); }, this);
    if (rc != 0) {
      *error = std::string("ERR ") + uv_strerror(rc);
      return false;
    }
  }
  if (!Open(path, error)) return false;
  uv_idle_start(idle_.get(), &RdbImport::OnIdle);
  return true;
}

bool RdbImport::RunToEnd(const std::string& path, std::string* error) {
  if (!Open(path, error)) return false;
  // No loop runs yet to write the commit log once per iteration: each piece's records are
  // written here, so the log buffer does not grow with the whole file.
  while (Step()) {
    server_.engine().FlushLog();
  }
  server_.engine().FlushLog();
  if (!progress_.ok) {
    *error = "RDB import failed at offset " + std::to_string(progress_.error_offset) + ": " +
             progress_.error + " (" + std::to_string(progress_.keys) +
             " keys imported before the error)";
  }
  return progress_.ok;
}

void AppendRdbImportInfo(const RdbImportProgress& p, std::string* out) {
  const std::int64_t end = p.running ? NowMs() : p.end_ms;
  AppendPrintf(out,
               "rdb_import_in_progress:%d\r\n"
               "rdb_import_status:%s\r\n"
               "rdb_import_file:%s\r\n"
               "rdb_import_total_bytes:%llu\r\n"
               "rdb_import_loaded_bytes:%llu\r\n"
               "rdb_import_perc:%.2f%%\r\n"
               "rdb_import_keys:%llu\r\n"
               "rdb_import_expired_keys:%llu\r\n"
               "rdb_import_skipped_keys:%llu\r\n"
               "rdb_import_skipped_functions:%llu\r\n"
               "rdb_import_seconds:%.3f\r\n"
               "rdb_import_error_offset:%llu\r\n"
               "rdb_import_error:%s\r\n",
               p.running ? 1 : 0,
               p.running     ? "running"
               : !p.finished ? "none"
               : p.ok        ? "ok"
                             : "err",
               p.path.c_str(), static_cast<unsigned long long>(p.total_bytes),
               static_cast<unsigned long long>(p.bytes),
               p.total_bytes ? 100.0 * static_cast<double>(p.bytes) / p.total_bytes : 0.0,
               static_cast<unsigned long long>(p.keys),
               static_cast<unsigned long long>(p.expired_keys),
               static_cast<unsigned long long>(p.skipped_keys),
               static_cast<unsigned long long>(p.skipped_functions),
               p.start_ms ? static_cast<double>(end - p.start_ms) / 1000.0 : 0.0,
               static_cast<unsigned long long>(p.error_offset), p.error.c_str());
}

}  // namespace dynakv::server
