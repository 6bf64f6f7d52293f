#include "rdb_import.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster_executor.h"
#include "format.h"
#include "keyspace.h"
#include "list_blocking.h"
#include "log.h"
#include "rdb/file_reader.h"
#include "rdb_cluster_writer.h"
#include "rdb_import_marker.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

// Writes what the reader yields into the server's databases.
class RdbImport::Sink final : public rdb::RdbSink {
 public:
  // With `cluster` (cluster mode) keys go to it instead of the local databases.
  Sink(Server& server, RdbImportProgress& progress, const types::TypeLimits& limits,
       RdbClusterWriter* cluster)
      : server_(server), progress_(progress), reader_(limits, *this), cluster_(cluster) {}

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
    if (cluster_ != nullptr) {
      std::string value;
      const bool typed = key.value.object != nullptr;
      if (typed) {
        key.value.object->Serialize(&value);
      } else {
        value = std::move(key.value.string);
      }
      cluster_->Add(std::move(key.key), typed, std::move(value), key.expire_at_ms);
      return true;
    }
    // Written kLookahead keys later, after the engine fetched the key's memtable bucket into the
    // cache (PrefetchKey): a load of keys the table has never seen otherwise waits for memory
    // on every lookup. Step writes the rest (Drain) before its atomic group ends.
    if (pending_count_ == kLookahead && !WriteOldest(reason)) return false;
    server_.engine().PrefetchKey(static_cast<std::uint32_t>(key.db), key.key);
    pending_[(pending_first_ + pending_count_++) % kLookahead] = std::move(key);
    return true;
  }

  // Writes the keys OnKey held back. False (with *reason) when a write failed: the keys after
  // it are dropped, as the reader would have stopped there.
  bool Drain(std::string* reason) {
    while (pending_count_ > 0) {
      if (!WriteOldest(reason)) return false;
    }
    return true;
  }

  // Redis writes each database's key count before its keys: the memtable grows its table once
  // (a hint, bounded by what a file this size can hold, so a bogus count costs little).
  void OnResizeDb(std::uint64_t, std::uint64_t keys, std::uint64_t) override {
    if (cluster_ != nullptr) return;
    server_.engine().ReserveKeys(std::min(keys, progress_.total_bytes / 8));
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
  // Writes the key OnKey held back longest.
  bool WriteOldest(std::string* reason) {
    rdb::RdbKey key = std::move(pending_[pending_first_]);
    pending_first_ = (pending_first_ + 1) % kLookahead;
    --pending_count_;
    const auto db = static_cast<std::uint32_t>(key.db);
    Keyspace& keyspace = server_.keyspace(db);
    storage::Status status;
    const bool typed = key.value.object != nullptr;
    if (typed && server_.engine().bulk_loading()) {
      // At start (RunToEnd): the object the reader built goes to the engine as it is, sparing
      // the serialize-then-decode round trip; the signal is the keyspace's own.
      status =
          server_.engine().PutObject(db, key.key, std::move(key.value.object), key.expire_at_ms);
      if (status.ok()) server_.SignalModifiedKey(static_cast<int>(db), key.key);
    } else if (typed) {
      serialized_.clear();
      key.value.object->Serialize(&serialized_);
      status = keyspace.PutObject(key.key, serialized_, key.expire_at_ms);
    } else {
      status = keyspace.Put(key.key, key.value.string, key.expire_at_ms);
    }
    if (!status.ok()) {
      pending_count_ = 0;
      *reason = "write of a key failed: " + status.ToString();
      return false;
    }
    if (typed) server_.blocked_lists().SignalReady(db, key.key);
    ++progress_.keys;
    return true;
  }

  Server& server_;
  RdbImportProgress& progress_;
  rdb::RdbReader reader_;
  RdbClusterWriter* const cluster_;
  std::string serialized_;
  std::int64_t now_ms_ = 0;
  static constexpr std::size_t kLookahead = 16;  // keys between a prefetch and its write
  std::array<rdb::RdbKey, kLookahead> pending_;
  std::size_t pending_first_ = 0;
  std::size_t pending_count_ = 0;
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
  pending_end_ = PendingEnd{};
  paused_ = false;
  cluster_writer_.reset();
  if (ClusterExecutor* executor = server_.cluster_executor()) {
    const Config& config = server_.config();
    cluster_writer_ = std::make_unique<RdbClusterWriter>(*executor, config.cluster_read_consistency,
                                                         config.cluster_write_consistency,
                                                         [this] { WriteProgress(); });
  }
  sink_ = std::make_unique<Sink>(server_, progress_,
                                 codec != nullptr ? codec->limits() : types::TypeLimits{},
                                 cluster_writer_.get());
  if (cluster_writer_ != nullptr) {
    Log(server_.log_level(), LogLevel::kNotice,
        "Importing RDB file %s (%llu bytes) into the cluster at write level %s", path.c_str(),
        static_cast<unsigned long long>(progress_.total_bytes),
        cluster::ToString(cluster_writer_->write_level()).c_str());
  } else {
    Log(server_.log_level(), LogLevel::kNotice, "Importing RDB file %s (%llu bytes)", path.c_str(),
        static_cast<unsigned long long>(progress_.total_bytes));
  }
  return true;
}

bool RdbImport::Step() {
  if (!progress_.running) return false;
  if (cluster_writer_ != nullptr) {
    WriteProgress();
    if (pending_end_.set || cluster_writer_->Full()) {
      // Waiting for writes: WriteProgress starts the idle again.
      paused_ = true;
      uv_idle_stop(idle_.get());
      if (pending_end_.set && cluster_writer_->Idle()) {
        const PendingEnd end = pending_end_;
        End(end.ok, end.offset, end.reason);
        return false;
      }
      return !pending_end_.set;
    }
  }
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
  if (cluster_writer_ != nullptr) {
    // The coordinator's writes group themselves (one atomic group per batch and replica).
    ok = reader.Feed(chunk) && (!at_end || reader.Finish());
    // A partial batch never waits for the next piece: with the reader paused at the in-flight
    // bound, nothing else would send it.
    cluster_writer_->Flush();
  } else {
    // One piece's keys reach the commit log as one record (none in a bulk load: RunToEnd).
    std::optional<storage::Engine::AtomicGroup> group;
    if (!server_.engine().bulk_loading()) group.emplace(server_.engine());
    ok = reader.Feed(chunk) && (!at_end || reader.Finish());
    // The keys read before any error are written, in the same group.
    std::string reason;
    if (!sink_->Drain(&reason)) {
      progress_.bytes = reader.bytes_read();
      EndWhenWritten(false, reader.bytes_read(), reason);
      return false;
    }
  }
  progress_.bytes = reader.bytes_read();
  if (!ok) {
    EndWhenWritten(false, reader.error().offset, reader.error().reason);
    return false;
  }
  if (reader.done()) {
    // Whatever follows the checksum is not read: Redis ignores it too.
    EndWhenWritten(true, 0, {});
    return false;
  }
  if (at_end) {
    EndWhenWritten(false, reader.bytes_read(), "unexpected end of file");
    return false;
  }
  return true;
}

void RdbImport::EndWhenWritten(bool ok, std::uint64_t offset, const std::string& reason) {
  if (cluster_writer_ == nullptr || cluster_writer_->Idle()) {
    End(ok, offset, reason);
    return;
  }
  pending_end_ = PendingEnd{true, ok, offset, reason};
  paused_ = true;
  uv_idle_stop(idle_.get());
}

void RdbImport::WriteProgress() {
  if (cluster_writer_ == nullptr) return;
  progress_.keys = cluster_writer_->written();
  progress_.failed_keys = cluster_writer_->failed();
  progress_.keys_in_flight = cluster_writer_->in_flight();
  // The import ends (or reads on) from the idle callback, never inside the writer's own.
  const bool ready = pending_end_.set ? cluster_writer_->Idle() : !cluster_writer_->Full();
  if (paused_ && ready && progress_.running) {
    paused_ = false;
    uv_idle_start(idle_.get(), &RdbImport::OnIdle);
  }
}

void RdbImport::End(bool ok, std::uint64_t offset, const std::string& reason_in) {
  std::string reason = reason_in;
  if (cluster_writer_ != nullptr) {
    WriteProgress();
    if (progress_.failed_keys > 0 || progress_.keys_in_flight > 0) {
      if (!ok) reason += "; ";
      if (progress_.failed_keys > 0) {
        reason += std::to_string(progress_.failed_keys) + " keys were not written at write level " +
                  cluster::ToString(cluster_writer_->write_level()) +
                  " (first error: " + cluster_writer_->first_error() + ")";
      }
      if (progress_.keys_in_flight > 0) {
        if (progress_.failed_keys > 0) reason += "; ";
        reason += std::to_string(progress_.keys_in_flight) +
                  " keys were still being written, their outcome unknown";
      }
      if (ok) offset = 0;
      ok = false;
    }
  }
  std::string unsaved_error;
  if (bulk_ && ok && source_kept_ &&
      MarkRdbImportUnsaved(server_.config().dir, progress_.path, reload_before_log_,
                           &unsaved_error)) {
    // Complete: the kept file is its durable copy from now on, until the engine's checkpoint
    // (started now, in the background) saves it; then WatchSaved removes the marker.
    bulk_ = false;
    server_.engine().EndBulkLoadUnsaved();
    WatchSaved();
  } else if (bulk_) {
    if (!unsaved_error.empty()) {
      Log(server_.log_level(), LogLevel::kWarning, "RDB import: %s; saving it by a checkpoint",
          unsaved_error.c_str());
    }
    // The keys imported so far (all of them, or those before the error) become durable in one
    // checkpoint; only then may the marker go (rdb_import_marker.h).
    bulk_ = false;
    const std::int64_t started = NowMs();
    const storage::Status s = server_.engine().EndBulkLoad();
    std::string marker_error;
    if (!s.ok()) {
      if (!ok) reason += "; ";
      reason += "the checkpoint of the imported keys failed: " + s.ToString();
      ok = false;
    } else if (!RemoveRdbImportMarker(server_.config().dir, &marker_error)) {
      if (!ok) reason += "; ";
      reason += marker_error;
      ok = false;
    }
    Log(server_.log_level(), LogLevel::kNotice,
        "RDB import: the imported keys written to a checkpoint in %.3f seconds",
        static_cast<double>(NowMs() - started) / 1000.0);
  }
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
        "RDB import of %s FAILED at offset %llu: %s. %llu keys were imported and stay.",
        progress_.path.c_str(), static_cast<unsigned long long>(offset), reason.c_str(),
        static_cast<unsigned long long>(progress_.keys));
  }
  sink_.reset();
  // Writes still in flight (a shutdown) complete into nothing.
  cluster_writer_.reset();
}

void RdbImport::Stop() {
  if (progress_.running) {
    End(false, progress_.bytes, "interrupted by shutdown");
  }
  if (saved_timer_ && !unsaved_done_) {
    // A clean stop saves the import now, so that the next start need not reload it.
    const storage::Status s = server_.engine().Checkpoint();
    if (!s.ok()) {
      Log(server_.log_level(), LogLevel::kWarning,
          "RDB import: the checkpoint at shutdown failed (%s); the next start reloads %s",
          s.ToString().c_str(), RdbImportSourcePath(server_.config().dir).c_str());
    }
    CheckSaved();
  }
  idle_.Close();
  wait_timer_.Close();
  saved_timer_.Close();
}

void RdbImport::WatchSaved() {
  unsaved_done_ = false;
  Log(server_.log_level(), LogLevel::kNotice,
      "RDB import: %s (kept as %s) is the durable copy of the imported keys until the checkpoint "
      "started now saves them",
      progress_.path.c_str(), RdbImportSourcePath(server_.config().dir).c_str());
  if (!saved_timer_) {
    const int rc =
        saved_timer_.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); }, this);
    if (rc != 0) return;  // the marker stays: the next start reloads the file, then saves it
  }
  uv_timer_start(saved_timer_.get(), &RdbImport::OnSavedTimer, kSavedPollMs, kSavedPollMs);
  // The loop must not wait for it to end.
  uv_unref(saved_timer_.base());
}

void RdbImport::OnSavedTimer(uv_timer_t* timer) {
  static_cast<RdbImport*>(timer->data)->CheckSaved();
}

void RdbImport::CheckSaved() {
  if (unsaved_done_ || !server_.engine().bulk_load_saved()) return;
  std::string error;
  if (!RemoveRdbImportMarker(server_.config().dir, &error)) {
    // Kept: the next start reloads the file (more work, nothing lost).
    Log(server_.log_level(), LogLevel::kWarning, "RDB import: %s", error.c_str());
  } else {
    Log(server_.log_level(), LogLevel::kNotice,
        "RDB import of %s saved by a checkpoint %.3f seconds after it was done",
        progress_.path.c_str(), static_cast<double>(NowMs() - progress_.end_ms) / 1000.0);
  }
  unsaved_done_ = true;
  if (saved_timer_) uv_timer_stop(saved_timer_.get());
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

bool RdbImport::StartWhenClusterReady(const std::string& path, std::string* error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> probe(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
  if (probe == nullptr) {
    *error = "ERR Can't open the RDB file '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!wait_timer_) {
    const int rc =
        wait_timer_.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); }, this);
    if (rc != 0) {
      *error = std::string("ERR ") + uv_strerror(rc);
      return false;
    }
  }
  waiting_path_ = path;
  wait_deadline_ = uv_now(server_.loop()) + kClusterWaitMs;
  Log(server_.log_level(), LogLevel::kNotice,
      "RDB import of %s waits for every cluster member to be reachable", path.c_str());
  uv_timer_start(wait_timer_.get(), &RdbImport::OnWaitTimer, 100, 100);
  return true;
}

void RdbImport::OnWaitTimer(uv_timer_t* timer) {
  auto* self = static_cast<RdbImport*>(timer->data);
  cluster::ClusterNode* node = self->server_.cluster_node();
  bool ready = true;
  for (const cluster::MemberStatus& member : node->Members()) {
    if (!member.self && !node->PeerReachable(member.node.id)) ready = false;
  }
  const bool late = uv_now(self->server_.loop()) >= self->wait_deadline_;
  if (!ready && !late) return;
  uv_timer_stop(timer);
  if (!ready) {
    Log(self->server_.log_level(), LogLevel::kWarning,
        "RDB import: not every cluster member is reachable after %llu ms; importing anyway",
        static_cast<unsigned long long>(kClusterWaitMs));
  }
  std::string error;
  if (!self->StartInBackground(self->waiting_path_, &error)) {
    Log(self->server_.log_level(), LogLevel::kWarning, "RDB import not started: %s", error.c_str());
  }
}

bool RdbImport::RunToEnd(const std::string& path, std::string* error) {
  if (!Open(path, error)) return false;
  // A bulk load: the file stays the durable source until End's checkpoint, so the keys are not
  // logged one by one; the marker tells a restart after a crash meanwhile that the directory
  // holds only part of the file.
  // Once it completes, the file stays the durable source until the engine's first checkpoint
  // saves it (no checkpoint before "done", as Redis writes nothing when it loads its dump): kept
  // in the data directory as a hard link, so that replacing or deleting the original cannot
  // lose it (rdb_import_marker.h). Where it cannot be linked, the import ends with a checkpoint.
  const std::string& dir = server_.config().dir;
  std::string marker_error;
  if (!WriteRdbImportMarker(dir, path, &marker_error)) {
    End(false, 0, marker_error);
    *error = "RDB import not started: " + marker_error;
    return false;
  }
  std::string link_error;
  source_kept_ = KeepRdbImportSource(dir, path, &link_error);
  if (!source_kept_) {
    Log(server_.log_level(), LogLevel::kNotice,
        "RDB import: %s; the import will be saved by a checkpoint before it is done",
        link_error.c_str());
  }
  reload_before_log_ = server_.engine().BeginBulkLoad(source_kept_);
  bulk_ = true;
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
               "rdb_import_failed_keys:%llu\r\n"
               "rdb_import_keys_in_flight:%llu\r\n"
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
               static_cast<unsigned long long>(p.failed_keys),
               static_cast<unsigned long long>(p.keys_in_flight),
               static_cast<unsigned long long>(p.expired_keys),
               static_cast<unsigned long long>(p.skipped_keys),
               static_cast<unsigned long long>(p.skipped_functions),
               p.start_ms ? static_cast<double>(end - p.start_ms) / 1000.0 : 0.0,
               static_cast<unsigned long long>(p.error_offset), p.error.c_str());
}

}  // namespace dynakv::server
