// The engine behind the Engine facade. Memtable entries are dirty (newer than every segment; only
// the commit log has them), frozen (being written to a segment by a background checkpoint; see
// engine_checkpoint.cc) or clean (a cached copy of the newest segment version).
// Every write is appended to the log buffer first and then applied to the memtable; the same
// Apply* functions replay the log at open, so recovery and live writes cannot drift apart.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "background_task.h"
#include "checkpoint.h"
#include "commit_log.h"
#include "compaction.h"
#include "disk_expiry_sweep.h"
#include "eviction_pool.h"
#include "file_util.h"
#include "manifest.h"
#include "manifest_writer.h"
#include "memtable.h"
#include "segment_reader.h"
#include "tiny_lfu.h"
#include "storage/engine.h"
#include "storage/options.h"
#include "value_codec.h"
#include "write_pacer.h"

namespace dynakv::storage {

// The longest key a write takes: Redis's limit for any string (and what Memtable::Entry's
// key_len holds).
inline constexpr std::size_t kMaxKeySize = 512u << 20;

class EngineImpl {
 public:
  explicit EngineImpl(Options options);
  ~EngineImpl();
  EngineImpl(const EngineImpl&) = delete;
  EngineImpl& operator=(const EngineImpl&) = delete;

  Status Open();

  std::optional<ValueRef> Get(DbIndex db, std::string_view key);
  bool Exists(DbIndex db, std::string_view key);
  std::optional<std::int64_t> GetExpireAt(DbIndex db, std::string_view key);
  std::optional<KeyUsage> Inspect(DbIndex db, std::string_view key);
  bool SetIdleTime(DbIndex db, std::string_view key, std::int64_t idle_seconds);
  bool SetLfuFrequency(DbIndex db, std::string_view key, int frequency);
  bool SetHint(DbIndex db, std::string_view key, std::uint8_t hint);
  Status Put(DbIndex db, std::string_view key, std::string_view value, std::int64_t expire_at_ms,
             std::uint8_t hint);
  Status PutObject(DbIndex db, std::string_view key, std::string_view serialized,
                   std::int64_t expire_at_ms);
  Status PutObject(DbIndex db, std::string_view key, std::unique_ptr<ValueObject> object,
                   std::int64_t expire_at_ms);
  std::uint64_t BeginBulkLoad(bool source_kept);
  Status EndBulkLoad() {
    bulk_load_ = false;
    bulk_source_kept_ = false;
    return Checkpoint();
  }
  void EndBulkLoadUnsaved();
  bool bulk_load_saved() const;
  void set_facade(Engine* facade) { facade_ = facade; }
  bool bulk_loading() const { return bulk_load_; }
  void ReserveKeys(std::uint64_t keys) {
    if (options_.max_memory != 0) return;
    memtable_.Reserve(memtable_.size() + static_cast<std::size_t>(std::min<std::uint64_t>(
                                             keys, std::uint64_t{1} << 31)));
  }
  // Fetches the key's bucket slot now and, kPrefetchLag calls later (the slot cached by then),
  // the first entry of its chain: a write kPrefetchLag or more keys later walks cached memory.
  void PrefetchKey(DbIndex db, std::string_view key) {
    const std::uint64_t hash = HashKey(key, map_.ns[db]);
    memtable_.PrefetchBucket(hash);
    std::uint64_t& slot = prefetched_[prefetch_next_++ % kPrefetchLag];
    memtable_.PrefetchChain(slot);
    slot = hash;
  }
  static constexpr std::size_t kPrefetchLag = 8;
  // What a put's log record adds to its key and value, about (unlogged_bytes_).
  static constexpr std::uint64_t kUnloggedRecordBytes = 24;
  Status Mutate(DbIndex db, std::string_view key, std::string_view op, std::int64_t* result);
  Status PatchString(DbIndex db, std::string_view key, const std::vector<BytePatch>& pieces,
                     std::uint8_t hint);
  bool Delete(DbIndex db, std::string_view key);
  bool SetExpireAt(DbIndex db, std::string_view key, std::int64_t expire_at_ms);
  void Clear();
  void BeginAtomic();
  void CommitAtomic();
  std::uint64_t Scan(DbIndex db, std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys);
  std::optional<std::string> RandomKey(DbIndex db);
  std::uint64_t KeyCount(DbIndex db) const { return db_counts_[db].keys; }
  std::uint64_t KeysWithExpiry(DbIndex db) const { return db_counts_[db].expiring; }
  std::int64_t AvgTtlMs(DbIndex db) const { return db_counts_[db].avg_ttl_ms; }

  // --- databases (engine_databases.cc) --------------------------------------------------------
  std::uint32_t Databases() const { return databases_; }
  Status FlushDb(DbIndex db);
  Status SwapDb(DbIndex a, DbIndex b);
  Status Move(DbIndex from, std::string_view key, DbIndex to, bool* moved);
  Status FlushLog();
  Status TakeReadError() {
    read_error_key_.clear();
    return std::exchange(read_error_, Status::Ok());
  }
  const Status& LogStatus() const { return log_error_; }
  std::uint64_t LogEnd() const { return log_->appended(); }
  std::uint64_t DurableLogEnd() const { return log_->acknowledged(); }
  void Tick();
  Status Checkpoint();
  // Engine::Checkpoint: inside an atomic group it is deferred to the commit.
  Status RequestedCheckpoint();

  void SetOnKeyRemoved(std::function<void(DbIndex, std::string_view, KeyRemoval)> listener) {
    options_.on_key_removed = std::move(listener);
  }
  void SetMaxMemory(std::uint64_t bytes) {
    options_.max_memory = bytes;
    tiny_lfu_.SetMaxMemory(bytes);
  }
  void SetEvictionPolicy(EvictionPolicy policy);
  void SetEvictionTuning(const EvictionTuning& tuning);
  EvictionResult PerformEvictions();
  void PauseKeyRemoval(bool paused) { removal_paused_ = paused; }
  void SetActiveExpire(bool enabled) { active_expire_ = enabled; }
  void SetLatencyMonitor(std::uint64_t threshold_ms, Engine::LatencyListener listener) {
    latency_threshold_ms_ = listener ? threshold_ms : 0;
    latency_listener_ = std::move(listener);
  }
  void SetFsyncPolicy(FsyncPolicy policy);
  FsyncPolicy fsync_policy() const { return options_.fsync; }
  void SetCompressionThreshold(std::size_t bytes) { options_.compression_threshold = bytes; }
  void SetHotValueReads(std::uint32_t reads) { options_.hot_value_reads = reads; }
  EngineStats Stats() const;
  void ResetStatCounters() {
    stats_.expired_keys = stats_.evicted_keys = stats_.offloaded_keys = 0;
    stats_.segment_reads = stats_.bloom_skips = stats_.disk_expire_scanned = 0;
    // Redis's resetServerStats resets these too.
    stats_.expired_stale_ratio = 0;
    stats_.expire_time_cap_reached = stats_.expire_cycle_us = 0;
    tiny_lfu_.ResetCounters();
  }
  const std::vector<LogRepair>& log_repairs() const { return log_repairs_; }

 private:
  // What is known about a key before a write changes it.
  struct KeyState {
    Memtable::Entry* entry = nullptr;  // its memtable entry, if any
    bool exists = false;               // the newest version is a value (maybe expired)
    bool expired = false;
    bool on_disk = false;  // some segment holds a live version
    std::int64_t expire_at_ms = 0;
    // When `exists` without a memtable entry: the segment version holding the value. Its views
    // point into lookup_buf_, so they are valid only until the next segment lookup.
    SegmentRecord disk;
  };

  std::int64_t Now() const;
  // Now on the memtable's access clock (Memtable::SetAccessClock).
  std::uint32_t AccessClockNow() const {
    return static_cast<std::uint32_t>(Now() / 1000) & Memtable::kAccessClockMax;
  }
  // Every key below is identified by (hash, ns, key): ns its physical namespace, hash
  // HashKey(key, ns).
  KeyState StateOf(std::uint64_t hash, std::uint32_t ns, std::string_view key);
  // Resolves a key for a read: reaps it when expired. nullopt: no live key.
  std::optional<KeyState> LiveState(std::uint64_t hash, std::uint32_t ns, std::string_view key);

  // --- state changes shared by live writes and log replay (they do not log) -----------------
  Memtable::Entry* ApplyPut(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                            std::string_view stored, std::uint32_t raw_len, bool compressed,
                            std::int64_t expire_at_ms);
  void ApplyDelete(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                   const KeyState& state);
  void ApplyExpire(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                   const KeyState& state, std::int64_t expire_at_ms);
  void ApplyClear();
  void ApplyRecord(const LogRecord& rec);
  // A logged PUT (or MOVE's put) of `rec.ns`.
  void ApplyPutRecord(const LogRecord& rec);
  // Flags and key counts of a put over `st`, shared by string and object puts.
  std::uint8_t PutFlags(const KeyState& st, std::uint64_t read_errors_before) const;
  void CountPut(std::uint32_t ns, const KeyState& st, std::int64_t expire_at_ms);

  // --- databases (engine_databases.cc) --------------------------------------------------------
  struct DbCounts {
    std::uint64_t keys = 0;
    std::uint64_t expiring = 0;
    std::int64_t avg_ttl_ms = 0;  // Redis's avg_ttl: the expire cycle's running estimate
  };
  static constexpr DbIndex kNoDb = UINT32_MAX;
  // The database `ns` is mapped from; kNoDb for the garbage of a FLUSHDB.
  DbIndex DbOf(std::uint32_t ns) const {
    if (ns < map_.ns.size() && map_.ns[ns] == ns) return ns;  // never remapped: the usual case
    auto it = db_of_ns_.find(ns);
    return it == db_of_ns_.end() ? kNoDb : it->second;
  }
  // The counts of `ns`'s database (a scratch sink for garbage namespaces).
  DbCounts& CountsOf(std::uint32_t ns) {
    const DbIndex db = DbOf(ns);
    return db == kNoDb ? garbage_counts_ : db_counts_[db];
  }
  bool LiveNamespace(std::uint32_t ns) const { return DbOf(ns) != kNoDb; }
  // Sets the mapping (Open, FLUSHALL) and rebuilds what derives from it; counts are reset.
  void SetMapping(DbMapping map);
  void RebuildReverseMapping();
  // Recovery: databases up to `db` exist (what the replayed data names may exceed the
  // configured number; CheckDatabases decides after recovery). A database the mapping never
  // listed is its own namespace, which nothing else can have used (the mapping never shrinks).
  void CoverDatabase(DbIndex db);
  void CoverNamespace(std::uint32_t ns) {
    if (ns < kFirstFreshNamespace && ns >= map_.ns.size()) CoverDatabase(ns);
  }
  void ApplyFlushDb(DbIndex db, std::uint32_t ns);
  void ApplySwapDb(DbIndex a, DbIndex b);
  // After recovery: refuses to open when a database at or above options_.databases holds keys.
  // Empty ones stay in the mapping (never offered to callers): forgetting where such a database
  // was remapped to would let a later run with more databases take a namespace that still holds
  // a flushed database's garbage for its own.
  Status CheckDatabases() const;
  std::vector<std::uint32_t> LiveNamespaces() const;

  // --- typed values (engine_objects.cc) -----------------------------------------------------
  // Why a write must be refused before it is logged (log failure, pending read error), or ok.
  Status WriteRefusal(std::string_view key) const;
  // The object a serialized (maybe compressed) form stands for; nullptr when it is not one.
  std::unique_ptr<ValueObject> DecodeObject(std::string_view stored, std::uint32_t raw_len,
                                            bool compressed) const;
  // A segment's object version becomes a memtable entry (clean unless `dirty`); nullptr when it
  // cannot be decoded (recorded as a read error).
  Memtable::Entry* LoadObject(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                              const SegmentRecord& rec, std::uint8_t extra_flags,
                              std::int64_t expire_at_ms);
  // PutObject's two forms once the value is decoded or built: the memory limit, the log record
  // (`serialized`, unless a bulk load), the memtable.
  Status PutWholeObject(DbIndex db, std::string_view key, std::string_view serialized,
                        std::unique_ptr<ValueObject> object, std::int64_t expire_at_ms);
  Memtable::Entry* ApplyPutObject(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                                  std::unique_ptr<ValueObject> object, std::int64_t expire_at_ms);
  // False when the key holds a string, the value cannot be read or the codec refuses `op`.
  // *written: the entry now holding the value, nullptr when the op emptied (deleted) it.
  // *changed (when given): false when the codec says the op left the value as it was (then the
  // entry stays clean and nothing needs logging). `known` (when given): the key's state as the
  // caller just looked it up, with nothing changed since (saves a second lookup per write).
  bool ApplyMutate(std::uint64_t hash, std::uint32_t ns, std::string_view key, std::string_view op,
                   std::int64_t* result, Memtable::Entry** written, bool* changed = nullptr,
                   const KeyState* known = nullptr);
  // --- string patches (engine_patch.cc) --------------------------------------------------------
  // Applies a PATCH's pieces (log_format.h) to the string at `key`. False, changing nothing, when
  // the key holds a typed value or its stored bytes cannot be decompressed (a read error).
  bool ApplyPatch(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                  std::string_view patch, Memtable::Entry** written);

  // Before a frozen object entry's object changes: its serialized form for the running
  // checkpoint is made (by whichever thread gets there first) if it was not yet.
  void SettleFrozenObject(const Memtable::Entry* e);

  // Deletes a key found expired (logged as DEL, like Redis propagates expiries).
  void Reap(std::uint64_t hash, std::uint32_t ns, std::string_view key, const KeyState& state);
  // Tells the owner (Options::on_key_removed) of a key the engine removed by itself, by its
  // database: a key of a namespace no database maps to any more (flushed) concerns nobody.
  void NotifyRemoved(std::uint32_t ns, std::string_view key, KeyRemoval why) {
    if (!options_.on_key_removed) return;
    const DbIndex db = DbOf(ns);
    if (db != kNoDb) options_.on_key_removed(db, key, why);
  }
  void LogDelete(std::uint32_t ns, std::string_view key);
  // The latency monitor's clock (Engine::SetLatencyMonitor): LatencyStart is free when it is
  // off, and LatencyEnd reports `event` when it took at least the threshold.
  std::chrono::steady_clock::time_point LatencyStart() const {
    return latency_threshold_ms_ > 0 ? std::chrono::steady_clock::now()
                                     : std::chrono::steady_clock::time_point{};
  }
  void LatencyEnd(std::string_view event, std::chrono::steady_clock::time_point start) {
    if (latency_threshold_ms_ == 0) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    if (static_cast<std::uint64_t>(ms) >= latency_threshold_ms_) {
      latency_listener_(event, static_cast<std::uint64_t>(ms));
    }
  }

  // Dropping the entry loses nothing: the segments hold it.
  static bool Clean(const Memtable::Entry& e) {
    return !e.has(Memtable::kDirty) && !e.has(Memtable::kFrozen);
  }
  // A segment holds a version of the key, or will once the running checkpoint is installed, so
  // deleting it takes a tombstone.
  static bool OnDisk(const Memtable::Entry& e) {
    return e.has(Memtable::kOnDisk) || e.has(Memtable::kFrozen);
  }

  // --- memory limit ------------------------------------------------------------------------
  // noeviction: frees clean entries until `extra` more bytes fit; false if they cannot.
  // `may_wait`: for a running checkpoint, whose entries will then be clean.
  bool MakeRoom(std::size_t extra, std::uint64_t keep_hash, std::string_view keep_key,
                bool may_wait);
  // Brings the memtable back under max_memory according to the eviction policy, sparing the
  // given key (the one just written) unless it alone exceeds the limit.
  EvictionResult EnforceMemoryLimit(const Memtable::Entry* keep);
  // The hot-value rule (Options::hot_value_reads) for a read of shared, compressed entry `e`:
  // counts the read, and once the value is hot swaps its stored bytes for the decompressed form.
  void KeepHotDecompressed(Memtable::Entry* e);
  // The next victim of a Redis policy (eviction_policies.cc), never one `spared` accepts;
  // nullptr when the policy has none left.
  Memtable::Entry* PickVictim(const std::function<bool(const Memtable::Entry&)>& spared);
  // Deletes a victim as a DEL that reaches the log, like a Redis eviction.
  void Evict(Memtable::Entry* victim);
  // Redis's evictionTimeLimitUs for maxmemory-eviction-tenacity; UINT64_MAX: no limit.
  std::uint64_t EvictionTimeLimitUs() const;
  void ApplyAccessMode();
  // allkeys-tinylfu (tiny_lfu.h): counts an access (a read, hit or miss, or a write) of a key.
  void NoteAccess(std::uint64_t hash) {
    if (tiny_lfu_.attached()) tiny_lfu_.Count(hash);
  }
  // What max_memory bounds: the memtable (its entries, buckets and lists) and the eviction
  // policy's own structures (tinylfu's), each as the allocator's size classes (allocation_size.h).
  std::size_t CountedBytes() const {
    return memtable_.bytes() + memtable_.list_bytes() +
           (tiny_lfu_.attached() ? tiny_lfu_.bytes() : 0);
  }
  // Memory limit and log-size checkpoint, after any write.
  void AfterWrite(const Memtable::Entry* written);

  // --- checkpoints (engine_checkpoint.cc) ---------------------------------------------------
  // Installs a finished background checkpoint and starts one when the log or, in offload mode,
  // the dirty data has grown enough. Waits only when a second checkpoint is due while one runs.
  void MaybeCheckpoint();
  // A checkpoint runs and the next is due: slows the writer as write_pacer.h says (the log is
  // `log_bytes` long, below `stall_bytes`).
  void PaceWrites(std::uint64_t log_bytes, std::uint64_t stall_bytes);
  void StopPacing() {
    pacing_ = false;
    pacer_.Reset();
  }
  void StartCheckpoint();
  // Installs the running checkpoint, if any: once done, or (wait) after waiting for it.
  Status FinishCheckpoint(bool wait);
  // Freezes the dirty entries into *job and rotates the log. *any is false when there is
  // nothing to checkpoint. `background`: the old log's tail must be synced by the job.
  // piece_bytes != 0: a piece of an unsaved bulk load's save (StartCheckpoint), about that many
  // bytes of dirty entries, with no log rotation and the floor kept.
  Status FreezeMemtable(CheckpointJob* job, bool background, bool* any,
                        std::size_t piece_bytes = 0);
  Status InstallCheckpoint(CheckpointResult result);
  // Frozen entries become clean (written) or dirty again (the checkpoint failed).
  void Thaw(const std::vector<Memtable::Entry*>& frozen, bool written);

  // --- active expiry (engine_expiry.cc) -----------------------------------------------------
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct SweepStep {
    std::size_t with_ttl = 0;  // values with a TTL looked at
    std::size_t expired = 0;   // keys reaped
    bool more = true;          // false: the sweep rests until the next tick
    std::vector<Memtable::TtlSample> live;  // values with a TTL left
  };
  void ActiveExpireCycle();
  // Folds one step's samples into each database's avg_ttl, as Redis's expire cycle does.
  void NoteTtlSamples(const std::vector<Memtable::TtlSample>& live);
  void ExpireMemtable(SteadyTime deadline);
  void ExpireSegments(SteadyTime deadline);
  // Walks a bounded slice of the `due` segments from the sweep's cursor.
  SweepStep ExpireSegmentsStep(const std::vector<std::shared_ptr<SegmentReader>>& due,
                               std::int64_t now);
  // Makes room under max_memory for the tombstone a reap may add. False when it cannot.
  bool RoomForTombstone();

  // --- segments ------------------------------------------------------------------------------
  // Newest version of a key in the segments (value or tombstone); views into lookup_buf_.
  bool LookupSegments(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                      SegmentRecord* rec);
  // Commits the MANIFEST for the current segments, naming `log_floor` as the first log recovery
  // needs and `map` as the database mapping at that log's start; it is written, and the files it
  // made obsolete are deleted, in the background, which then runs `done` (on its thread).
  void CommitManifest(std::uint64_t log_floor, const DbMapping& map,
                      std::function<void()> done = nullptr);
  void MaybeStartCompaction();
  void FinishCompaction();
  void CancelCompaction();
  // After a compaction removed expired values: they stop counting unless something newer
  // (memtable or a later segment) shadows them. `newer` indexes the first later segment.
  void AccountCompactedExpiries(const std::vector<std::string>& keys,
                                const std::vector<std::uint32_t>& namespaces, std::size_t newer);

  // After a log failure: retries (rate-limited) what makes the log trustworthy again.
  Status RetryLog();
  Status Recover();
  // Replays the logs (oldest first), then cuts torn tails and deals with corruption as
  // options_.log_corruption_policy says.
  Status CreateLog();
  // Options::reload, between the logs before reload_before_log and the rest (ReplayLogs).
  Status Reload();
  Status ReplayLogs(const std::vector<std::uint64_t>& logs);
  Status CountSegmentKeys();

  Options options_;
  FileDescriptor lock_fd_;
  ManifestWriter manifest_writer_;  // its thread stops (having finished) before the lock goes
  Memtable memtable_;
  WTinyLfu tiny_lfu_{&memtable_};  // attached (observing the memtable) under allkeys-tinylfu
  std::uint64_t prefetched_[kPrefetchLag] = {};  // PrefetchKey's hashes, oldest next
  std::size_t prefetch_next_ = 0;
  std::int64_t opened_at_ms_ = 0;  // Inspect: keys only on disk count as idle since then
  std::unique_ptr<CommitLog> log_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t live_keys_ = 0;  // of every database
  std::uint64_t keys_with_expiry_ = 0;
  // Databases: the mapping to namespaces (map_.ns[db]), its inverse for the namespaces it does
  // not map to themselves, and each database's counts.
  DbMapping map_;  // may list more databases than databases_ (CheckDatabases)
  std::uint32_t databases_ = 1;
  std::unordered_map<std::uint32_t, DbIndex> db_of_ns_;
  std::vector<DbCounts> db_counts_;
  DbCounts garbage_counts_;
  // The mapping at the start of the log a MANIFEST names as the floor: the committed one, and the
  // one of the log a running checkpoint will make the floor.
  DbMapping floor_map_;
  DbMapping checkpoint_map_;
  std::mt19937_64 rng_;
  EvictionPool eviction_pool_;
  ValueCompressor compressor_;  // holds a compressed value between compression and insertion
  // Typed values' serialized forms, for the log: a compressor of their own, so that its record
  // of what shrank (ValueCompressor::kRefusedRun) and the strings' do not mix.
  ValueCompressor object_compressor_;
  std::string object_buf_;  // PutObject's serialized form of a built object, for the log
  bool bulk_load_ = false;  // BeginBulkLoad: puts are not logged
  bool bulk_source_kept_ = false;  // BeginBulkLoad(source_kept): the load checkpoints nothing
  // EndBulkLoadUnsaved's load on its way to a durable checkpoint: kFrozen while a checkpoint
  // frozen after it runs, kInstalled once it is installed and its MANIFEST (the
  // manifest_writer_ commit bulk_save_commit_) is queued.
  enum class BulkSave { kSaved, kUnsaved, kFrozen, kInstalled };
  BulkSave bulk_save_ = BulkSave::kSaved;
  std::uint64_t bulk_save_commit_ = 0;
  bool recovering_ = false;  // Open's replay: no checkpoint, no memory limit
  Engine* facade_ = nullptr;  // what Options::reload writes through
  // The segments before the bulk load's own checkpoints, and the memtable's removals and the
  // compactions when it began: while both stay, a key the memtable lacks is in none of the
  // segments from bulk_first_segment_ on (LookupSegments).
  std::size_t bulk_first_segment_ = 0;
  std::uint64_t bulk_removals_ = 0;
  std::uint64_t bulk_compactions_ = 0;
  // The bytes of the bulk load's puts since the last freeze, what their records would have
  // taken: MaybeCheckpoint counts them as log bytes.
  std::uint64_t unlogged_bytes_ = 0;
  std::string lookup_buf_;      // the segment block of the last lookup
  // A segment's object that Get could not cache (noeviction, full): valid until the next call.
  std::unique_ptr<ValueObject> uncached_object_;
  Status replay_error_;  // an object record that recovery could not apply

  std::vector<std::shared_ptr<SegmentReader>> segments_;  // oldest first
  std::vector<std::string> obsolete_files_;  // deleted once a MANIFEST no longer lists them
  std::vector<std::uint64_t> old_logs_;      // logs before the current one still on disk
  std::uint64_t log_floor_ = 0;              // the first log the MANIFEST makes recovery replay

  // Background compaction: the task reads compaction_job_ until it is collected.
  BackgroundTask<CompactionResult> compaction_task_;
  std::atomic<bool> compaction_cancel_{false};
  CompactionJob compaction_job_;
  // Background checkpoint: frozen_ are the entries it reads, checkpoint_log_floor_ the log
  // that holds every write after them.
  BackgroundTask<CheckpointResult> checkpoint_task_;
  std::vector<Memtable::Entry*> frozen_;
  // The running background checkpoint's job, and its frozen objects by entry: those the loop must
  // not change before the job has serialized them (SettleFrozenObject).
  std::shared_ptr<CheckpointJob> running_job_;
  std::unordered_map<const Memtable::Entry*, std::size_t> frozen_objects_;
  // The frozen objects serialized through snapshots (object.h), ended at the install.
  std::vector<ValueObject*> snapshotted_;
  // The loop's time on the running background checkpoint so far (EngineStats).
  std::chrono::steady_clock::duration checkpoint_loop_time_{};
  std::chrono::steady_clock::time_point checkpoint_started_{};  // of the running one (Stats)
  std::uint64_t checkpoint_log_floor_ = 0;
  bool sync_held_ = false;  // it holds the log's sync thread (CommitLog::HoldSync)
  WritePacer pacer_;
  bool pacing_ = false;              // writers are being slowed (PaceWrites)
  std::uint64_t paced_log_end_ = 0;  // log_->appended() when PaceWrites last ran
  std::unordered_set<std::uint64_t> uncompactable_;  // segments a compaction found corrupt
  DiskExpirySweep disk_sweep_;
  // Why writes are refused: the log's failure, until a RetryLog succeeds.
  Status log_error_;
  Status segment_read_error_;  // the last failed segment read (EngineStats)
  // A read error not yet taken by the caller (TakeReadError), and the key whose lookup failed
  // ("" for a scan): a write to that key is refused until then, since its command decided on
  // what the read wrongly found missing.
  Status read_error_;
  std::string read_error_key_;
  std::chrono::steady_clock::time_point last_log_retry_{};
  EngineStats stats_;  // event counters; sizes are filled in by Stats()
  // Atomic groups (BeginAtomic): how deep, and the checkpoint work deferred to the commit.
  int atomic_depth_ = 0;
  bool checkpoint_deferred_ = false;  // Engine::Checkpoint was called inside the group
  bool clear_deferred_ = false;       // a Clear inside the group: its sync and checkpoint
  std::vector<LogRepair> log_repairs_;
  bool removal_paused_ = false;  // PauseKeyRemoval
  bool active_expire_ = true;    // SetActiveExpire
  std::uint64_t latency_threshold_ms_ = 0;
  Engine::LatencyListener latency_listener_;
};

}  // namespace dynakv::storage
