// The per-node storage engine: an LZ4-compressed, LRU-bounded memtable in front of a commit log
// and immutable on-disk segments. It is single-threaded from the caller's point of view (the
// server's event loop); background threads it owns (fsync, checkpoints, compaction) never change
// the memtable. It knows nothing of the network.
//
// Numbered databases (Redis's SELECT): every key lives in a database 0..Options::databases-1, and
// the key calls take the database first (the forms without one are database 0, what cluster mode
// and everything before databases use). Inside, a database is a mapping to a physical namespace,
// a small integer carried by memtable entries, log records and segment records next to the key:
//  - database 0 maps to namespace 0 until a FLUSHDB of it (FLUSHALL maps it back), and a key of
//    namespace 0 is hashed, logged and stored exactly as before databases existed: the data
//    directories of older versions open with all their keys in database 0, and the hot path of
//    database 0 costs one more array read;
//  - SWAPDB exchanges two databases' namespaces: O(1), one log record, no key rewritten;
//  - FLUSHDB maps the database to a namespace never used before: one log record, other databases
//    untouched. The old namespace's memtable entries are dropped at once (O(memtable)); its
//    segment records are never looked up again and compaction drops them. Fresh namespaces run
//    from 2^20 to 2^32 - 1: about 4.29 billion FLUSHDBs between two FLUSHALLs (which start the
//    numbering again), after which FlushDb refuses. A FLUSHDB of the only non-empty database is a
//    FLUSHALL;
//  - the mapping is recorded in the MANIFEST as of the first log recovery replays, and the log
//    records replay its changes;
//  - per-database key counts make DBSIZE O(1).
// Why namespaces and not one engine per database: MOVE, SWAPDB and FLUSHALL must be atomic in one
// commit log, and the memory limit, checkpoints and compaction stay one mechanism.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object.h"
#include "storage/options.h"
#include "storage/shared_value.h"
#include "storage/status.h"

namespace dynakv::storage {

class EngineImpl;

// What OBJECT IDLETIME and MEMORY USAGE report of a key (Engine::Inspect).
struct KeyUsage {
  // Seconds since the last access, by a 24-bit seconds clock that wraps as Redis's LRU clock
  // does. A key held only on disk (offloaded) counts as idle since the engine opened.
  std::int64_t idle_seconds = 0;
  // Bytes the key costs in memory: its table entry, key and value as stored (the compressed
  // size when compressed; a typed value's own MemoryUsage). A key held only on disk: the same
  // for its stored (compressed, serialized) form, what reading it back would take at least.
  std::uint64_t memory_bytes = 0;
  bool in_memory = true;
  // Under an LFU policy: Redis's logarithmic access counter, decayed to now (OBJECT FREQ).
  int lfu_frequency = 0;
};

// One piece of a change to a string value (Engine::PatchString).
struct BytePatch {
  std::uint64_t offset = 0;
  std::string_view bytes;
};
// What PatchString does, on a string held elsewhere (a keyspace without the engine's PATCH).
void ApplyBytePatches(std::string* value, const std::vector<BytePatch>& pieces);

// The InvalidArgument message of Engine::PatchString when the key holds a typed value.
inline constexpr std::string_view kHoldsTypedValue = "the key holds a typed value";

// What making room before a command found (Redis's performEvictions).
enum class EvictionResult {
  kOk,       // under maxmemory, or the policy frees memory otherwise (offload)
  kRunning,  // over it still: the tenacity time limit stopped this round, more goes later
  kFail,     // over it and nothing the policy may evict is left: deny-oom commands are refused
};

// A value found by Engine::Get. It refers to memory inside the engine and is valid only until the
// next call on the engine (any call: a lookup may move data), so copy it out right away.
class ValueRef {
 public:
  ValueRef(const char* data, std::uint32_t stored_size, std::uint32_t raw_size, bool compressed,
           std::int64_t expire_at_ms, const std::shared_ptr<SharedValue>* shared = nullptr,
           std::uint8_t hint = 0)
      : data_(data),
        stored_size_(stored_size),
        raw_size_(raw_size),
        compressed_(compressed),
        expire_at_ms_(expire_at_ms),
        shared_(shared),
        hint_(hint) {}
  // A typed value (storage/object.h): the bytes accessors below do not apply.
  ValueRef(ValueObject* object, std::int64_t expire_at_ms)
      : data_(nullptr),
        stored_size_(0),
        raw_size_(0),
        compressed_(false),
        expire_at_ms_(expire_at_ms),
        object_(object) {}

  // Non-null for a typed value (a hash, ...), which the caller may read but must change only
  // through Engine::Mutate. Null for a string, the only kind the other accessors describe.
  ValueObject* object() const { return object_; }

  std::size_t size() const { return raw_size_; }  // the value's real (uncompressed) length
  std::int64_t expire_at_ms() const { return expire_at_ms_; }  // 0: no expiry
  // Writes exactly size() bytes to `dst` (decompressing if needed).
  void CopyTo(char* dst) const;
  // The value's bytes when it is stored as is (not compressed): callers append them straight
  // to a buffer instead of sizing one first (whose zero-filling costs as much as the copy).
  std::optional<std::string_view> Uncompressed() const {
    if (compressed_) return std::nullopt;
    return std::string_view(data_, raw_size_);
  }
  std::string ToString() const;
  bool compressed() const { return compressed_; }
  // A large value's stored bytes (compressed() says in which form) as a reference that keeps
  // them alive and unchanged after the engine lets go of them (storage/shared_value.h); nullptr
  // for a value held inline. The pointer itself is valid as the ValueRef is: copy what it
  // points to to keep it.
  const std::shared_ptr<SharedValue>* shared() const { return shared_; }
  // The hint the string was last written with (Put's, PatchString's), while it stays in memory;
  // 0 for a value read back from disk or replayed from the log (hints are not logged).
  std::uint8_t hint() const { return hint_; }

 private:
  const char* data_;
  std::uint32_t stored_size_;
  std::uint32_t raw_size_;
  bool compressed_;
  std::int64_t expire_at_ms_;
  const std::shared_ptr<SharedValue>* shared_ = nullptr;
  std::uint8_t hint_ = 0;
  ValueObject* object_ = nullptr;
};

struct EngineStats {
  std::uint64_t keys = 0;  // live keys (expired ones not yet reaped included, as Redis)
  std::uint64_t keys_with_expiry = 0;
  std::uint64_t memtable_entries = 0;
  std::uint64_t memtable_bytes = 0;     // what max_memory bounds
  std::uint64_t compressed_values = 0;  // memtable values stored LZ4-compressed
  // Compressed values the hot-value rule (Options::hot_value_reads) decompressed to keep.
  std::uint64_t hot_values_decompressed = 0;
  std::uint64_t log_bytes = 0;          // current commit log size
  std::uint64_t segments = 0;
  std::uint64_t segment_bytes = 0;
  std::uint64_t checkpoints = 0;     // memtable -> segment writes
  std::uint64_t write_stalls = 0;    // writes that waited for a checkpoint (log at stall size)
  std::uint64_t write_stall_us = 0;  // the time they waited, in microseconds
  // Writes slowed while the disk was behind (Options::log_pacing_min_rate): the sleeps, and
  // their total time in microseconds.
  std::uint64_t write_delays = 0;
  std::uint64_t write_delay_us = 0;
  std::uint64_t compactions = 0;
  std::uint64_t offloaded_keys = 0;  // entries dropped from memory because they are on disk
  std::uint64_t evicted_keys = 0;    // entries deleted by an allkeys-*/volatile-* policy
  // allkeys-tinylfu: its own memory (policy_bytes: the sketch with its doorkeeper, 10 to 20
  // bytes a key, and the 16-byte list nodes; not in memtable_bytes, but max_memory bounds the
  // sum), the bytes of its window, probation and protected lists, and window candidates
  // admitted to / refused by the main region (refused ones are evicted_keys the window loses).
  std::uint64_t policy_bytes = 0;
  std::uint64_t sketch_bytes = 0;
  std::uint64_t window_bytes = 0;
  std::uint64_t probation_bytes = 0;
  std::uint64_t protected_bytes = 0;
  std::uint64_t admitted_keys = 0;
  std::uint64_t rejected_keys = 0;
  std::uint64_t expired_keys = 0;
  // Active expiry as Redis's expire cycle counts it: the share of keys with a TTL that its
  // memtable sweeps found expired (a moving average, 0..1), the sweeps the time budget cut
  // short while they were still worth going on, and the time the cycles took.
  double expired_stale_ratio = 0;
  std::uint64_t expire_time_cap_reached = 0;
  std::uint64_t expire_cycle_us = 0;
  std::uint64_t disk_expire_scanned = 0;  // segment records active expiry looked at
  std::uint64_t segment_reads = 0;        // lookups that read a segment block
  std::uint64_t bloom_skips = 0;          // segment lookups avoided by a bloom filter
  std::uint64_t recovered_records = 0;    // log records replayed at open
  std::uint64_t truncated_log_bytes = 0;  // torn tails cut at open
  // Corrupt logs cut at open under LogCorruptionPolicy::kDropAndRepair, and the bytes (and
  // records that verified) they lost from the bad record on.
  std::uint64_t corrupt_logs_repaired = 0;
  std::uint64_t corrupt_log_bytes_dropped = 0;
  std::uint64_t corrupt_log_records_dropped = 0;
  std::uint64_t io_errors = 0;  // failed checkpoints, compactions and segment reads
  // Segment blocks that failed to read or verify during a lookup or scan (also in io_errors),
  // and the last such error naming the file: a segment that went bad after it was opened.
  std::uint64_t segment_read_errors = 0;
  std::string segment_read_error;
  std::uint64_t log_write_errors = 0;  // failed commit-log writes, syncs and retries
  std::string log_error;               // why writes are refused now; empty when they are not
  bool compaction_running = false;
  bool checkpoint_running = false;  // a background checkpoint is writing its segment
  // The event loop's share of background checkpoints, in microseconds: freezing the memtable,
  // installing the segment, and any wait of a write for a frozen collection's serialization. The
  // last checkpoint's, and the largest since the engine opened.
  std::uint64_t checkpoint_loop_last_us = 0;
  std::uint64_t checkpoint_loop_max_us = 0;
  // Checkpoints as INFO shows Redis's AOF rewrites (the log is rewritten into a segment): the
  // last one's time from start to install (-1 before the first), the running one's so far (-1
  // when none runs), whether the last one failed and how many failed in a row since one worked.
  std::int64_t checkpoint_last_ms = -1;
  std::int64_t checkpoint_current_ms = -1;
  bool checkpoint_last_failed = false;
  std::uint64_t checkpoint_failures_in_a_row = 0;
  std::uint64_t dirty_entries = 0;        // changes only the commit log holds (since a checkpoint)
  std::uint64_t log_buffered_bytes = 0;   // log records not yet handed to the kernel
};

// A corrupt commit log that Open cut under LogCorruptionPolicy::kDropAndRepair.
struct LogRepair {
  std::string path;     // the log, now ending at `offset`
  std::string kept_as;  // a copy of every byte it had
  std::string problem;  // what was found (the text a refused open would have returned)
  std::uint64_t offset = 0;
  std::uint64_t dropped_bytes = 0;
  std::uint64_t dropped_records = 0;  // records that verified after the bad one
};

class Engine {
 public:
  // Opens (creating if needed) the data directory: loads segments, replays the commit logs,
  // cutting a torn tail (a bad record nothing valid follows). A log corrupt in the middle makes
  // it fail with Corruption, changing nothing, unless the options say kDropAndRepair.
  static Status Open(const Options& options, std::unique_ptr<Engine>* engine);
  ~Engine();  // writes and fsyncs the log, waits for background work
  Engine(const Engine&) = delete;
  // Only Open makes engines; the token it alone can name keeps the constructor out of reach.
  class OpenToken {
    friend class Engine;
    OpenToken() = default;
  };
  Engine(OpenToken, std::unique_ptr<EngineImpl> impl);
  Engine& operator=(const Engine&) = delete;

  // --- reads. Expired keys are reaped lazily here, like Redis. -------------------------------
  // A segment block that cannot be read or fails its checksum makes a lookup answer "no key"
  // (never an older segment's stale copy) and leaves the error for TakeReadError: the caller
  // must take it after each command's reads and fail the command. Until it is taken, a Put to
  // the key whose lookup failed is refused with it.
  std::optional<ValueRef> Get(DbIndex db, std::string_view key);
  bool Exists(DbIndex db, std::string_view key);
  // nullopt: no such key; 0: key without expiry; otherwise absolute unix ms.
  std::optional<std::int64_t> GetExpireAt(DbIndex db, std::string_view key);
  // A live key's idle time and memory; looking does not count as an access (Redis's
  // LOOKUP_NOTOUCH), nor does it bring an offloaded key back into memory.
  std::optional<KeyUsage> Inspect(DbIndex db, std::string_view key);
  // Moves a key's last access back to `idle_seconds` ago (RESTORE ... IDLETIME). Not logged:
  // access times are not persisted, as Redis's are not. False when the key is not in memory.
  bool SetIdleTime(DbIndex db, std::string_view key, std::int64_t idle_seconds);
  // Under an LFU policy: sets the key's access counter (RESTORE ... FREQ), else does nothing, as
  // SetIdleTime does nothing under one (Redis's objectSetLRUOrLFU). False when not in memory.
  bool SetLfuFrequency(DbIndex db, std::string_view key, int frequency);
  // Gives the string value of `key` another hint (Put's) without writing it: nothing is logged,
  // as hints never are. False when the key holds no string in memory (a typed value, or one only
  // a segment has: it would get hint 0 when read back anyway).
  bool SetHint(DbIndex db, std::string_view key, std::uint8_t hint);
  std::optional<ValueRef> Get(std::string_view key) { return Get(0, key); }
  bool Exists(std::string_view key) { return Exists(0, key); }
  std::optional<std::int64_t> GetExpireAt(std::string_view key) { return GetExpireAt(0, key); }
  std::optional<KeyUsage> Inspect(std::string_view key) { return Inspect(0, key); }
  bool SetIdleTime(std::string_view key, std::int64_t idle_seconds) {
    return SetIdleTime(0, key, idle_seconds);
  }
  bool SetLfuFrequency(std::string_view key, int frequency) {
    return SetLfuFrequency(0, key, frequency);
  }

  // --- writes: logged to the commit log buffer, then applied to the memtable. ----------------
  // expire_at_ms: absolute unix ms, 0 for none. Fails only with OutOfMemory (noeviction) or an
  // I/O error of the log. `hint` (0..3) is the caller's note about the value, which the engine
  // gives no meaning: ValueRef::hint() returns it while the value stays in memory (it is not
  // logged, so a restart, an offload or MOVE's replay forgets it; MOVE itself keeps it).
  Status Put(DbIndex db, std::string_view key, std::string_view value, std::int64_t expire_at_ms,
             std::uint8_t hint = 0);
  Status Put(std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
    return Put(0, key, value, expire_at_ms);
  }
  // Typed values (storage/object.h). PutObject stores a whole value given in its serialized form
  // (RENAME, COPY): it is logged as is and decoded into the memtable. InvalidArgument when the
  // bytes are not a value the codec knows.
  Status PutObject(DbIndex db, std::string_view key, std::string_view serialized,
                   std::int64_t expire_at_ms);
  Status PutObject(std::string_view key, std::string_view serialized, std::int64_t expire_at_ms) {
    return PutObject(0, key, serialized, expire_at_ms);
  }
  // The same with the value already built (an RDB import's): outside a bulk load it is
  // serialized for the log, never decoded again; in one, it goes to the memtable as it is.
  // InvalidArgument for a null object.
  Status PutObject(DbIndex db, std::string_view key, std::unique_ptr<ValueObject> object,
                   std::int64_t expire_at_ms);
  // A hint before a write of `key` in `db` soon after (a bulk load writing keys in a row): the
  // memtable's bucket for it is fetched into the cache meanwhile. Changes nothing.
  void PrefetchKey(DbIndex db, std::string_view key);
  // Applies one operation (ObjectCodec::Apply) to the typed value at `key`, creating it when the
  // key does not exist (without expiry), and logs only the operation: a write to one element
  // costs O(element) log bytes, whatever the value's size. A value left empty is deleted.
  // InvalidArgument when the key holds a string or the codec refuses `op` (nothing changes then);
  // *result gets the codec's answer. Fails otherwise as Put does.
  Status Mutate(DbIndex db, std::string_view key, std::string_view op, std::int64_t* result);
  Status Mutate(std::string_view key, std::string_view op, std::int64_t* result) {
    return Mutate(0, key, op, result);
  }
  // Writes each piece's bytes at its offset of the string value at `key` (in order), growing the
  // value with zero bytes to hold them all (a piece without bytes only grows it); a missing key
  // is an empty string, created without expiry, and an existing key keeps its expiry. Logs only
  // the pieces (a PATCH record), so SETBIT on a 64 MB bitmap costs a few log bytes. A value
  // changed this way is held uncompressed in memory from then on (as Redis holds it), so further
  // changes cost O(change) (checkpoints still compress it, off the loop). InvalidArgument
  // (kHoldsTypedValue) when the key holds a typed value, or when the value would pass UINT32_MAX
  // bytes; fails otherwise as Put does. The value gets `hint` (as Put's).
  Status PatchString(DbIndex db, std::string_view key, const std::vector<BytePatch>& pieces,
                     std::uint8_t hint = 0);
  Status PatchString(std::string_view key, const std::vector<BytePatch>& pieces) {
    return PatchString(0, key, pieces);
  }
  // Returns whether the key existed.
  bool Delete(DbIndex db, std::string_view key);
  bool Delete(std::string_view key) { return Delete(0, key); }
  // 0 removes the expiry (PERSIST). A time in the past deletes the key. Returns false when the
  // key does not exist.
  bool SetExpireAt(DbIndex db, std::string_view key, std::int64_t expire_at_ms);
  bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) {
    return SetExpireAt(0, key, expire_at_ms);
  }
  // FLUSHALL: every key of every database, in memory and on disk. Every database maps to its own
  // namespace again (database 0 to namespace 0).
  void Clear();

  // --- databases ------------------------------------------------------------------------------
  std::uint32_t Databases() const;
  // FLUSHDB: every key of `db`; one log record, the other databases untouched. Fails only when
  // the log refuses writes (LogStatus).
  Status FlushDb(DbIndex db);
  // SWAPDB: the two databases exchange their keys; one log record, O(1).
  Status SwapDb(DbIndex a, DbIndex b);
  // MOVE: the key, its value and its expiry go from `from` to `to`, as one log record. *moved is
  // false (and nothing changes) when the key is not in `from` or already in `to`, as in Redis.
  // Fails as Put does.
  Status Move(DbIndex from, std::string_view key, DbIndex to, bool* moved);

  // --- atomic groups -------------------------------------------------------------------------
  // The writes between BeginAtomic and the matching CommitAtomic (a transaction, a command that
  // writes several keys) apply to the memtable at once, so later reads see them, but reach the
  // commit log as ONE record at CommitAtomic (log_format.h's GROUP): after a crash all of them
  // are there or none. Groups nest; only the outermost commit writes. While a group is open no
  // checkpoint freezes the memtable (a segment must never hold part of a group that is not in
  // the log): checkpoints, and the memory limit's need for them, wait for the commit, so memory
  // may pass max_memory for the length of a group. LogEnd() grows at the commit.
  // A group cannot be rolled back: it bounds what a crash loses, not what a failed write leaves.
  void BeginAtomic();
  void CommitAtomic();
  // RAII for the two.
  class AtomicGroup {
   public:
    explicit AtomicGroup(Engine& engine) : engine_(engine) { engine_.BeginAtomic(); }
    ~AtomicGroup() { engine_.CommitAtomic(); }
    AtomicGroup(const AtomicGroup&) = delete;
    AtomicGroup& operator=(const AtomicGroup&) = delete;

   private:
    Engine& engine_;
  };

  // --- bulk loads ----------------------------------------------------------------------------
  // A bulk load whose source stays readable until it ends (an RDB import at start): between
  // BeginBulkLoad and EndBulkLoad, Put and PutObject write no commit-log records (every other
  // write is logged as always). They count toward the log's checkpoint size as their records
  // would, so checkpoints come as often as without a bulk load; EndBulkLoad makes the rest
  // durable with a last one (it returns once the segment and its MANIFEST are durable). Until it
  // returns ok, a crash loses any of those writes that a checkpoint did not happen to cover, and
  // a restart cannot tell: the caller must make such a crash detectable itself (rdb_import.h: a
  // marker file), and must not acknowledge those writes to anyone. Not for writes a client waits
  // on; not inside an atomic group (EndBulkLoad's checkpoint would be deferred). While it runs,
  // a key the memtable lacks is looked up only in the segments older than the load
  // (engine_segments.cc).
  //
  // `source_kept`: the caller keeps the source, unchanged, until the load is saved, and can load
  // it again into a recovering engine (Options::reload). Then the load starts no checkpoint of
  // its own (without max_memory, which may need them to make room), and may end with
  // EndBulkLoadUnsaved instead of EndBulkLoad. A log with records in it is rotated first, so
  // that every record of the returned log on is written after the load began.
  std::uint64_t BeginBulkLoad(bool source_kept = false);
  Status EndBulkLoad();
  // Ends a `source_kept` load without waiting for its checkpoint: one starts in the background
  // now (an ordinary one: clients may write meanwhile, each write logged). Until
  // bulk_load_saved() the load's writes are durable only as the caller's source is: a crash
  // meanwhile must be followed by a recovery that reloads it (Options::reload, before the log
  // BeginBulkLoad returned), so that the later writes replay on top of it.
  void EndBulkLoadUnsaved();
  // False from EndBulkLoadUnsaved until a checkpoint frozen after it, and its MANIFEST, are
  // durable (the engine retries a failed one); true otherwise.
  bool bulk_load_saved() const;
  bool bulk_loading() const;
  // A hint that about `keys` new keys are about to be written (an RDB file's RESIZEDB): the
  // memtable's bucket array grows once now instead of doubling (and rehashing) on the way.
  // Ignored under max_memory, whose count the array is part of.
  void ReserveKeys(std::uint64_t keys);

  // --- iteration ----------------------------------------------------------------------------
  // Keys are visited in hash order, so a cursor is a position in hash space: start with 0, a
  // returned 0 means done. As with Redis SCAN, a key present for the whole scan is returned at
  // least once, and `count` is a hint.
  std::uint64_t Scan(DbIndex db, std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys);
  std::optional<std::string> RandomKey(DbIndex db);
  // The keys of one database (O(1)), and how many of them have an expiry (INFO keyspace).
  std::uint64_t KeyCount(DbIndex db) const;
  std::uint64_t KeysWithExpiry(DbIndex db) const;
  // Redis's avg_ttl: the active expire cycle's running estimate of the milliseconds left to the
  // keys with a TTL it samples (0 before it sampled any, and once none is left).
  std::int64_t AvgTtlMs(DbIndex db) const;
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, std::vector<std::string>* keys) {
    return Scan(0, cursor, count, keys);
  }
  std::optional<std::string> RandomKey() { return RandomKey(0); }
  // Database 0's keys (the only database of cluster mode); Stats().keys counts all of them.
  std::uint64_t KeyCount() const { return KeyCount(0); }

  // --- housekeeping, driven by the owner's event loop -----------------------------------------
  // Writes buffered log records to the file (and fsyncs under FsyncPolicy::kAlways). The server
  // calls it once per loop iteration before sending replies: that is the group commit, and it
  // makes every acknowledged write durable under `always`.
  // The read error (Corruption or IoError) of a lookup or scan since the last call, or ok.
  Status TakeReadError();
  // After a failure it returns the failure, and retries at most every log_retry_interval_ms.
  Status FlushLog();
  // Ok, or why writes must be refused: the commit log failed and no retry has succeeded yet
  // (Options::log_retry_interval_ms says how it recovers). Reads work meanwhile.
  const Status& LogStatus() const;
  // Commit-log positions in bytes, growing with every write. A reply acknowledging a write made
  // when LogEnd() was p may leave once DurableLogEnd() >= p: the write is then in the file (and
  // synced, under FsyncPolicy::kAlways) or in a checkpoint.
  std::uint64_t LogEnd() const;
  std::uint64_t DurableLogEnd() const;
  // Periodic work (the server calls it hz times a second): an active-expiry step bounded in time,
  // installing a finished background compaction and starting the next one.
  void Tick();
  // Forces a checkpoint: dirty memtable entries go to a new segment and the log restarts. Unlike
  // the checkpoints writes trigger, which run in the background, it returns once the segment is
  // written and installed.
  Status Checkpoint();

  // Replaces Options::on_key_removed (the owner may be built after the engine).
  void SetOnKeyRemoved(std::function<void(DbIndex db, std::string_view key, KeyRemoval why)> listener);
  void SetMaxMemory(std::uint64_t bytes);
  void SetEvictionPolicy(EvictionPolicy policy);
  void SetEvictionTuning(const EvictionTuning& tuning);
  // Evicts as the policy says until under maxmemory (or out of time, or of victims).
  EvictionResult PerformEvictions();
  // While paused, the engine deletes no key by itself, as Redis 7 during CLIENT PAUSE: active
  // expiry rests, a lookup finds an expired key absent without deleting it, and the policies
  // that delete victims evict nothing (offloading, which loses nothing, goes on).
  void PauseKeyRemoval(bool paused);
  // DEBUG SET-ACTIVE-EXPIRE: whether Tick's active expiry runs (lookups still reap).
  void SetActiveExpire(bool enabled);
  // Redis's latency monitor events of the engine's own work, reported to `listener` when they
  // took at least `threshold_ms` (0: not timed at all): "expire-cycle" (an active-expiry
  // cycle), "expire-del" (deleting one expired key), "eviction-cycle" (making room under
  // maxmemory), "eviction-del" (deleting one victim).
  using LatencyListener = std::function<void(std::string_view event, std::uint64_t ms)>;
  void SetLatencyMonitor(std::uint64_t threshold_ms, LatencyListener listener);
  void SetFsyncPolicy(FsyncPolicy policy);
  FsyncPolicy fsync_policy() const;
  void SetCompressionThreshold(std::size_t bytes);
  // Options::hot_value_reads, at run time.
  void SetHotValueReads(std::uint32_t reads);
  EngineStats Stats() const;
  // CONFIG RESETSTAT: the counters of events INFO stats shows (expired, evicted and offloaded
  // keys, segment reads, bloom skips, TinyLFU admissions) restart from 0. Errors and what
  // recovery found are kept: they describe the data, not the traffic.
  void ResetStatCounters();
  // What Open cut under kDropAndRepair, for the owner to log.
  const std::vector<LogRepair>& LogRepairs() const;

 private:
  std::unique_ptr<EngineImpl> impl_;
};

// The 64-bit hash that orders keys in memory and on disk (and hence SCAN cursors).
std::uint64_t HashKey(std::string_view key);
// The same for a key of physical namespace `ns` (a seeded hash; HashKey(key, 0) == HashKey(key)),
// so that one key in several databases does not pile up in one memtable chain.
std::uint64_t HashKey(std::string_view key, std::uint32_t ns);

}  // namespace dynakv::storage
