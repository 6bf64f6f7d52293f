// Reads, writes and the key-state bookkeeping of the engine.
#include "engine_impl.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "value_codec.h"

namespace dynakv::storage {

EngineImpl::EngineImpl(Options options)
    : options_(std::move(options)), manifest_writer_(options_.dir), rng_(std::random_device{}()) {
  ApplyAccessMode();
  pacer_.set_min_rate(options_.log_pacing_min_rate);
}

EngineImpl::~EngineImpl() {
  // Installing a finished checkpoint spares the next open a replay of its log.
  FinishCheckpoint(/*wait=*/true);
  CancelCompaction();
  // Queued MANIFEST writes may still release holds on the log, which goes before the writer.
  manifest_writer_.Wait();
}

std::int64_t EngineImpl::Now() const {
  if (options_.clock_ms) return options_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

EngineImpl::KeyState EngineImpl::StateOf(std::uint64_t hash, std::uint32_t ns,
                                         std::string_view key) {
  KeyState st;
  st.entry = memtable_.Find(hash, key, ns);
  if (st.entry != nullptr) {
    st.on_disk = OnDisk(*st.entry);
    if (!st.entry->has(Memtable::kTombstone)) {
      st.exists = true;
      st.expire_at_ms = st.entry->expire_at_ms;
    }
  } else if (LookupSegments(hash, ns, key, &st.disk)) {
    if (!st.disk.tombstone()) {
      st.exists = true;
      st.on_disk = true;
      st.expire_at_ms = st.disk.expire_at_ms;
    }
  }
  st.expired = st.exists && st.expire_at_ms != 0 && st.expire_at_ms <= Now();
  return st;
}

std::optional<EngineImpl::KeyState> EngineImpl::LiveState(std::uint64_t hash, std::uint32_t ns,
                                                          std::string_view key) {
  KeyState st = StateOf(hash, ns, key);
  if (!st.exists) return std::nullopt;
  if (st.expired) {
    if (!removal_paused_) Reap(hash, ns, key, st);
    return std::nullopt;
  }
  return st;
}

// --- state changes ------------------------------------------------------------------------

std::uint8_t EngineImpl::PutFlags(const KeyState& st, std::uint64_t read_errors_before) const {
  std::uint8_t flags = Memtable::kDirty;
  // An unreadable segment block may hold a version: deleting the key later takes a tombstone.
  if (st.on_disk || stats_.segment_read_errors != read_errors_before) flags |= Memtable::kOnDisk;
  return flags;
}

void EngineImpl::CountPut(std::uint32_t ns, const KeyState& st, std::int64_t expire_at_ms) {
  DbCounts& counts = CountsOf(ns);
  if (!st.exists) {
    ++live_keys_;
    ++counts.keys;
  }
  const bool had_expiry = st.exists && st.expire_at_ms != 0;
  if (had_expiry && expire_at_ms == 0) {
    --keys_with_expiry_;
    --counts.expiring;
  }
  if (!had_expiry && expire_at_ms != 0) {
    ++keys_with_expiry_;
    ++counts.expiring;
  }
}

Memtable::Entry* EngineImpl::ApplyPut(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                                      std::string_view stored, std::uint32_t raw_len,
                                      bool compressed, std::int64_t expire_at_ms) {
  const std::uint64_t read_errors = stats_.segment_read_errors;
  const KeyState st = StateOf(hash, ns, key);
  std::uint8_t flags = PutFlags(st, read_errors);
  if (compressed) flags |= Memtable::kCompressed;
  Memtable::Entry* e = memtable_.Upsert(hash, key, stored, raw_len, flags, expire_at_ms, ns);
  CountPut(ns, st, expire_at_ms);
  return e;
}

void EngineImpl::ApplyDelete(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                             const KeyState& st) {
  if (st.on_disk) {
    // A segment still has the key: only a tombstone can hide it until compaction.
    memtable_.Upsert(hash, key, {}, 0, Memtable::kTombstone | Memtable::kDirty | Memtable::kOnDisk,
                     0, ns);
  } else if (st.entry != nullptr) {
    memtable_.Erase(st.entry);
  }
  DbCounts& counts = CountsOf(ns);
  --live_keys_;
  --counts.keys;
  if (st.expire_at_ms != 0) {
    --keys_with_expiry_;
    --counts.expiring;
  }
}

void EngineImpl::ApplyExpire(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                             const KeyState& st, std::int64_t expire_at_ms) {
  if (st.entry != nullptr) {
    memtable_.SetExpire(st.entry, expire_at_ms);
    memtable_.SetFlag(st.entry, Memtable::kDirty, true);
  } else {
    // Only a segment has the value: the memtable takes a dirty copy with the new expiry.
    std::uint8_t flags = Memtable::kDirty | Memtable::kOnDisk;
    if (st.disk.object()) {
      LoadObject(hash, ns, key, st.disk, flags, expire_at_ms);
    } else {
      if (st.disk.compressed()) flags |= Memtable::kCompressed;
      memtable_.Upsert(hash, key, st.disk.stored, st.disk.raw_len, flags, expire_at_ms, ns);
    }
  }
  DbCounts& counts = CountsOf(ns);
  if (st.expire_at_ms != 0 && expire_at_ms == 0) {
    --keys_with_expiry_;
    --counts.expiring;
  }
  if (st.expire_at_ms == 0 && expire_at_ms != 0) {
    ++keys_with_expiry_;
    ++counts.expiring;
  }
}

void EngineImpl::ApplyClear() {
  memtable_.Clear();
  // The files go once a MANIFEST without them is written.
  for (const auto& seg : segments_) obsolete_files_.push_back(seg->path());
  segments_.clear();
  uncompactable_.clear();
  disk_sweep_.Reset();
  live_keys_ = 0;
  keys_with_expiry_ = 0;
  // Nothing is left in any namespace: every database may be its own namespace again.
  DbMapping identity;
  for (std::uint32_t db = 0; db < map_.ns.size(); ++db) identity.ns.push_back(db);
  SetMapping(std::move(identity));
}

void EngineImpl::ApplyPutRecord(const LogRecord& rec) {
  const std::uint64_t hash = HashKey(rec.key, rec.ns);
  if (rec.object) {
    std::unique_ptr<ValueObject> object = DecodeObject(rec.stored, rec.raw_len, rec.compressed);
    if (object == nullptr) {
      replay_error_ = Status::Corruption("a logged value of key '" + std::string(rec.key) +
                                         "' could not be decoded");
      return;
    }
    ApplyPutObject(hash, rec.ns, rec.key, std::move(object), rec.expire_at_ms);
  } else {
    ApplyPut(hash, rec.ns, rec.key, rec.stored, rec.raw_len, rec.compressed, rec.expire_at_ms);
  }
}

void EngineImpl::ApplyRecord(const LogRecord& rec) {
  // Recovery may meet databases beyond the configured number (CheckDatabases decides on them).
  CoverNamespace(rec.ns);
  CoverNamespace(rec.from_ns);
  const std::uint64_t hash = HashKey(rec.key, rec.ns);
  switch (rec.type) {
    case LogRecordType::kPut:
      ApplyPutRecord(rec);
      break;
    case LogRecordType::kMutate: {
      std::int64_t result = 0;
      Memtable::Entry* written = nullptr;
      if (!ApplyMutate(hash, rec.ns, rec.key, rec.op, &result, &written)) {
        replay_error_ = Status::Corruption("a logged operation on key '" + std::string(rec.key) +
                                           "' could not be applied");
      }
      break;
    }
    case LogRecordType::kPatch: {
      Memtable::Entry* written = nullptr;
      if (!ApplyPatch(hash, rec.ns, rec.key, rec.patch, &written)) {
        TakeReadError();
        replay_error_ = Status::Corruption("a logged patch of key '" + std::string(rec.key) +
                                           "' could not be applied");
      }
      break;
    }
    case LogRecordType::kDelete: {
      const KeyState st = StateOf(hash, rec.ns, rec.key);
      if (st.exists) ApplyDelete(hash, rec.ns, rec.key, st);
      break;
    }
    case LogRecordType::kExpire: {
      const KeyState st = StateOf(hash, rec.ns, rec.key);
      if (st.exists) ApplyExpire(hash, rec.ns, rec.key, st, rec.expire_at_ms);
      break;
    }
    case LogRecordType::kClear:
      ApplyClear();
      break;
    case LogRecordType::kGroup:
      // Validated whole by the reader (DecodeLogPayload) before any of it is applied.
      ForEachGroupRecord(rec.group, [this](const LogRecord& inner) { ApplyRecord(inner); });
      break;
    case LogRecordType::kFlushDb:
      if (rec.db >= kFirstFreshNamespace || rec.ns < kFirstFreshNamespace ||
          rec.ns > Memtable::kMaxNamespace) {
        replay_error_ = Status::Corruption("a logged FLUSHDB names database " +
                                           std::to_string(rec.db) + " or namespace " +
                                           std::to_string(rec.ns) + " that cannot be");
        break;
      }
      CoverDatabase(rec.db);
      ApplyFlushDb(rec.db, rec.ns);
      break;
    case LogRecordType::kSwapDb:
      if (rec.db >= kFirstFreshNamespace || rec.db2 >= kFirstFreshNamespace) {
        replay_error_ = Status::Corruption("a logged SWAPDB names a database beyond any");
        break;
      }
      CoverDatabase(std::max(rec.db, rec.db2));
      ApplySwapDb(rec.db, rec.db2);
      break;
    case LogRecordType::kMove: {
      const std::uint64_t from_hash = HashKey(rec.key, rec.from_ns);
      const KeyState st = StateOf(from_hash, rec.from_ns, rec.key);
      if (st.exists) ApplyDelete(from_hash, rec.from_ns, rec.key, st);
      ApplyPutRecord(rec);
      break;
    }
  }
}

void EngineImpl::LogDelete(std::uint32_t ns, std::string_view key) {
  LogRecord rec;
  rec.type = LogRecordType::kDelete;
  rec.key = key;
  rec.ns = ns;
  log_->Add(rec);
}

void EngineImpl::Reap(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                      const KeyState& st) {
  // The key may live inside the entry that ApplyDelete replaces; keep a copy.
  const std::string copy(key);
  const auto started = LatencyStart();
  LogDelete(ns, copy);
  ApplyDelete(hash, ns, copy, st);
  LatencyEnd("expire-del", started);
  ++stats_.expired_keys;
  NotifyRemoved(ns, copy, KeyRemoval::kExpired);
}

// --- reads --------------------------------------------------------------------------------

std::optional<ValueRef> EngineImpl::Get(DbIndex db, std::string_view key) {
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  std::optional<KeyState> st = LiveState(hash, ns, key);
  NoteAccess(hash);
  if (!st) return std::nullopt;
  Memtable::Entry* e = st->entry;
  if (e == nullptr && st->disk.object()) {
    const SegmentRecord& rec = st->disk;
    std::unique_ptr<ValueObject> object = DecodeObject(rec.stored, rec.raw_len, rec.compressed());
    if (object == nullptr) {
      LoadObject(hash, ns, key, rec, 0, rec.expire_at_ms);  // records the read error
      return std::nullopt;
    }
    // Cached like a string, unless it could never fit (its memory, not its serialized size).
    const std::size_t size =
        Memtable::EntrySize(ns, key.size(), sizeof(Memtable::ObjectSlot), 0, false) +
        object->MemoryUsage();
    bool cache = options_.max_memory == 0 || size <= options_.max_memory;
    if (cache && options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
      cache = MakeRoom(size, hash, key, /*may_wait=*/false);
    }
    if (!cache) {
      uncached_object_ = std::move(object);
      return ValueRef(uncached_object_.get(), rec.expire_at_ms);
    }
    const std::int64_t expire_at_ms = rec.expire_at_ms;
    e = memtable_.UpsertObject(hash, key, std::move(object), Memtable::kOnDisk, expire_at_ms, ns);
    EnforceMemoryLimit(e);  // spares `e`: it fits
    e = memtable_.Find(hash, key, ns);
  } else if (e == nullptr) {
    // A segment hit becomes a clean cached entry, unless it could never fit.
    const SegmentRecord& rec = st->disk;
    const std::size_t size =
        Memtable::EntrySize(ns, key.size(), rec.stored.size(), rec.raw_len, rec.compressed());
    bool cache = options_.max_memory == 0 || size <= options_.max_memory;
    if (cache && options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
      cache = MakeRoom(size, hash, key, /*may_wait=*/false);  // a read need not cache
    }
    if (!cache) {
      return ValueRef(rec.stored.data(), static_cast<std::uint32_t>(rec.stored.size()), rec.raw_len,
                      rec.compressed(), rec.expire_at_ms);
    }
    std::uint8_t flags = Memtable::kOnDisk;
    if (rec.compressed()) flags |= Memtable::kCompressed;
    e = memtable_.Upsert(hash, key, rec.stored, rec.raw_len, flags, rec.expire_at_ms, ns);
    EnforceMemoryLimit(e);
    e = memtable_.Find(hash, key, ns);
  }
  memtable_.Touch(e);
  if (e->has(Memtable::kObject)) return ValueRef(e->object(), e->expire_at_ms);
  if (e->shared) {
    if (e->has(Memtable::kCompressed)) KeepHotDecompressed(e);
    return ValueRef(e->stored().data(), e->stored_len, e->raw_len(), e->has(Memtable::kCompressed),
                    e->expire_at_ms, &e->shared_value(), e->hint);
  }
  return ValueRef(e->stored().data(), e->stored_len, e->raw_len(), e->has(Memtable::kCompressed),
                  e->expire_at_ms, nullptr, e->hint);
}

bool EngineImpl::Exists(DbIndex db, std::string_view key) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (st && st->entry != nullptr) memtable_.Touch(st->entry);
  return st.has_value();
}

std::optional<std::int64_t> EngineImpl::GetExpireAt(DbIndex db, std::string_view key) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (!st) return std::nullopt;
  return st->expire_at_ms;
}

// --- writes -------------------------------------------------------------------------------

Status EngineImpl::Put(DbIndex db, std::string_view key, std::string_view value,
                       std::int64_t expire_at_ms, std::uint8_t hint) {
  if (key.size() > kMaxKeySize) return Status::InvalidArgument("key too large");
  if (value.size() > UINT32_MAX) return Status::InvalidArgument("value too large");
  if (expire_at_ms < 0) return Status::InvalidArgument("negative expire time");
  if (!log_error_.ok()) return log_error_;
  if (!log_->last_error().ok()) return log_->last_error();
  if (!read_error_.ok() && read_error_key_ == key) return read_error_;
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  NoteAccess(hash);
  std::string_view packed;
  const bool compressed = compressor_.Compress(value, options_.compression_threshold, &packed);
  const std::string_view stored = compressed ? packed : value;

  if (options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
    const std::size_t need = Memtable::EntrySize(
        ns, key.size(), stored.size(), static_cast<std::uint32_t>(value.size()), compressed);
    const Memtable::Entry* old = memtable_.Find(hash, key, ns);
    // A frozen entry's memory stays taken until its checkpoint is installed.
    const std::size_t old_size =
        old != nullptr && !old->has(Memtable::kFrozen) ? old->alloc_size() : 0;
    if (need > old_size && !MakeRoom(need - old_size, hash, key, /*may_wait=*/true)) {
      return Status::OutOfMemory("command not allowed when used memory > 'maxmemory'");
    }
  }

  // Redis's SET looks the old value up first (lookupKeyWrite), an access: under an LFU policy the
  // overwrite keeps the counter that access raised.
  if (memtable_.lfu()) {
    Memtable::Entry* old = memtable_.Find(hash, key, ns);
    if (old != nullptr && !old->has(Memtable::kTombstone)) memtable_.Touch(old);
  }
  LogRecord rec;
  rec.type = LogRecordType::kPut;
  rec.key = key;
  rec.stored = stored;
  rec.raw_len = static_cast<std::uint32_t>(value.size());
  rec.compressed = compressed;
  rec.expire_at_ms = expire_at_ms;
  rec.ns = ns;
  if (!bulk_load_) {
    log_->Add(rec);
  } else {
    unlogged_bytes_ += kUnloggedRecordBytes + key.size() + stored.size();
  }
  const bool read_error_pending = !read_error_.ok();
  Memtable::Entry* e = ApplyPut(hash, ns, key, stored, rec.raw_len, compressed, expire_at_ms);
  e->hint = hint & 3;
  AfterWrite(e);
  // The overwrite's own lookup of the old version decided nothing the caller must be told of.
  if (!read_error_pending) TakeReadError();
  return Status::Ok();
}

bool EngineImpl::Delete(DbIndex db, std::string_view key) {
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  std::optional<KeyState> st = LiveState(hash, ns, key);
  if (!st) return false;
  LogDelete(ns, key);
  ApplyDelete(hash, ns, key, *st);
  AfterWrite(nullptr);
  return true;
}

bool EngineImpl::SetExpireAt(DbIndex db, std::string_view key, std::int64_t expire_at_ms) {
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  std::optional<KeyState> st = LiveState(hash, ns, key);
  if (!st) return false;
  if (expire_at_ms != 0 && expire_at_ms <= Now()) {
    LogDelete(ns, key);
    ApplyDelete(hash, ns, key, *st);
    AfterWrite(nullptr);
    return true;
  }
  LogRecord rec;
  rec.type = LogRecordType::kExpire;
  rec.key = key;
  rec.expire_at_ms = expire_at_ms < 0 ? 0 : expire_at_ms;
  rec.ns = ns;
  log_->Add(rec);
  ApplyExpire(hash, ns, key, *st, rec.expire_at_ms);
  AfterWrite(nullptr);
  return true;
}

Status EngineImpl::FlushLog() {
  if (!log_error_.ok()) return RetryLog();
  Status s = log_->Flush();
  if (!s.ok()) {
    log_error_ = s;
    ++stats_.log_write_errors;
    last_log_retry_ = std::chrono::steady_clock::now();
  }
  return s;
}

Status EngineImpl::RetryLog() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log_retry_ < std::chrono::milliseconds(options_.log_retry_interval_ms)) {
    return log_error_;
  }
  last_log_retry_ = now;
  // A failed write() left its tail buffered and is simply retried. After a failed fdatasync the
  // file cannot be trusted: a checkpoint moves to a new log and puts every write in a segment.
  Status s = log_->sync_failed() || log_->awaiting_cover() ? Checkpoint() : Status::Ok();
  if (s.ok()) s = log_->Flush();
  if (!s.ok()) ++stats_.log_write_errors;
  log_error_ = s;
  return s;
}

void EngineImpl::SetFsyncPolicy(FsyncPolicy policy) {
  options_.fsync = policy;
  log_->SetPolicy(policy);
}

EngineStats EngineImpl::Stats() const {
  EngineStats s = stats_;
  s.io_errors += manifest_writer_.failures();
  s.keys = live_keys_;
  s.keys_with_expiry = keys_with_expiry_;
  s.memtable_entries = memtable_.size();
  s.memtable_bytes = memtable_.bytes() + memtable_.list_bytes();
  if (tiny_lfu_.attached()) {
    s.policy_bytes = tiny_lfu_.bytes();
    s.sketch_bytes = tiny_lfu_.sketch().bytes();
    s.window_bytes = memtable_.region_bytes(Memtable::kWindow);
    s.probation_bytes = memtable_.region_bytes(Memtable::kProbation);
    s.protected_bytes = memtable_.region_bytes(Memtable::kProtected);
    s.admitted_keys = tiny_lfu_.admitted();
    s.rejected_keys = tiny_lfu_.rejected();
  }
  s.compressed_values = memtable_.compressed_count();
  s.log_bytes = log_->bytes();
  s.log_error = log_error_.ok() ? std::string() : log_error_.ToString();
  s.segment_read_error = segment_read_error_.ToString();
  if (segment_read_error_.ok()) s.segment_read_error.clear();
  s.segments = segments_.size();
  for (const auto& seg : segments_) s.segment_bytes += seg->file_size();
  s.compaction_running = compaction_task_.running();
  s.checkpoint_running = checkpoint_task_.running();
  if (s.checkpoint_running) {
    s.checkpoint_current_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - checkpoint_started_)
                                  .count();
  }
  s.dirty_entries = memtable_.dirty_count();
  s.log_buffered_bytes = log_->buffered_bytes();
  return s;
}

}  // namespace dynakv::storage
