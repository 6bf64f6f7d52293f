// Knobs of the storage engine. The server fills them from conf/*.toml; tests set them directly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace dynakv::storage {

class Engine;
class ObjectCodec;

// When the commit log is forced to stable storage, with Redis's appendfsync meanings.
enum class FsyncPolicy { kAlways, kEverySec, kNo };

// What happens when the memtable reaches max_memory.
// The Redis policies (all but kOffload and kAllKeysTinyLfu) delete their victims, with Redis's
// meaning: allkeys-* choose among every key, volatile-* only among keys with a TTL.
enum class EvictionPolicy {
  kOffload,     // least-recently-used entries move to on-disk segments and stay readable (default)
  kAllKeysLru,  // pure cache: least-recently-used entries are deleted, like Redis allkeys-lru
  kNoEviction,  // writes fail with OutOfMemory, like Redis noeviction
  kAllKeysLfu,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,  // the key nearest to its expiry goes first
  // Ours: W-TinyLFU admission (tiny_lfu.h) in front of a sampled main region; deletes.
  kAllKeysTinyLfu,
};

inline bool IsLfuPolicy(EvictionPolicy p) {
  return p == EvictionPolicy::kAllKeysLfu || p == EvictionPolicy::kVolatileLfu;
}
inline bool IsVolatilePolicy(EvictionPolicy p) {
  return p == EvictionPolicy::kVolatileLru || p == EvictionPolicy::kVolatileLfu ||
         p == EvictionPolicy::kVolatileRandom || p == EvictionPolicy::kVolatileTtl;
}
// Victims are deleted (a cache), not moved to disk or refused.
inline bool DeletesVictims(EvictionPolicy p) {
  return p != EvictionPolicy::kOffload && p != EvictionPolicy::kNoEviction;
}

// Redis's maxmemory-samples, maxmemory-eviction-tenacity, lfu-log-factor and lfu-decay-time.
struct EvictionTuning {
  int samples = 5;
  int tenacity = 10;
  int lfu_log_factor = 10;
  int lfu_decay_time = 1;
};

// CPU priority of checkpoint and compaction threads (thread_priority.h says why and what each
// costs).
enum class BackgroundPriority {
  kAuto,    // kIdle where the process may give a thread its priority back, else kLow
  kIdle,    // SCHED_IDLE: runs only on time the loop and other processes leave
  kLow,     // nice +10
  kNormal,  // the loop's own priority
};

// What opening does with a commit log that is corrupt in the middle: a bad record that valid
// records follow (a torn tail, nothing valid after it, is always cut: log_check.cc).
enum class LogCorruptionPolicy {
  kRefuse,  // Open fails with Corruption naming the file and offset; nothing is changed
  // The log is cut at the bad record (its bytes kept as <log>.corrupt) and the engine opens
  // without what followed. For a replica whose peers can refill it (anti-entropy).
  kDropAndRepair,
};

// A numbered database: 0 .. Options::databases - 1 (callers check the range; the engine asserts).
using DbIndex = std::uint32_t;

// Why the engine removed a key by itself (Options::on_key_removed).
enum class KeyRemoval {
  kExpired,  // reaped past its expiry time: by a lookup (lazily) or by active expiry
  kEvicted,  // deleted by an allkeys-*/volatile-* policy to stay under max_memory
};

struct Options {
  std::string dir = "data";
  // Numbered databases (engine.h), as Redis's `databases`. A data directory holding keys in a
  // database at or above it refuses to open (as Redis refuses such an RDB).
  std::uint32_t databases = 16;
  // Bytes of memtable data (keys, values, per-entry overhead). 0 means unbounded.
  std::uint64_t max_memory = 0;
  EvictionPolicy eviction = EvictionPolicy::kOffload;
  EvictionTuning eviction_tuning;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // Values at least this long are LZ4-compressed (kept raw when compression does not shrink them).
  std::size_t compression_threshold = 64;
  // The hot-value rule (Engine::Get): a compressed value of at least kSharedValueMin raw bytes
  // that is read this many times within about a second (a count halved every second) is kept
  // decompressed from then on, so its reads cost no decompression, when it compresses 8x or
  // less and its raw form fits under max_memory without evicting anything. 0: never.
  std::uint32_t hot_value_reads = 8;
  // Once the commit log holds this many bytes the dirty memtable entries are written to a segment
  // and the log restarts, which bounds recovery time and disk use. The segment is written in the
  // background while writes continue.
  std::uint64_t log_checkpoint_bytes = 64ull << 20;
  // When the next checkpoint is due while one still runs, the disk is behind. Writes go on until
  // the log holds this many times log_checkpoint_bytes and wait only then, which bounds the log
  // (and replay time). Letting it grow first is what lets the disk catch up: the larger next
  // checkpoint writes each key once however often it changed, and writers do not stall the loop
  // at every threshold. 1: wait as soon as the second checkpoint is due.
  int log_stall_factor = 4;
  // Between those two points writers are slowed, not stopped (write_pacer.h): once the next
  // checkpoint is due while one runs, every byte logged waits a little, more the nearer the log
  // is to its stall size, where writes go at this many bytes per second (RocksDB's
  // delayed_write_rate default). 0: no pacing, writers run until the stall size and wait there.
  std::uint64_t log_pacing_min_rate = 16ull << 20;
  BackgroundPriority background_priority = BackgroundPriority::kAuto;
  LogCorruptionPolicy log_corruption_policy = LogCorruptionPolicy::kRefuse;
  // Segments merge (size-tiered) once this many of similar size exist.
  int compaction_trigger = 4;
  // Wall clock in unix milliseconds; expiry times are absolute so they survive restarts.
  // Tests inject a fake clock.
  std::function<std::int64_t()> clock_ms;
  // After the commit log failed (write or fdatasync), writes are refused and FlushLog retries at
  // most this often: a failed write() is retried as is; after a failed fdatasync the memtable is
  // checkpointed and the log restarts in a new file (commit_log.h says why).
  std::uint32_t log_retry_interval_ms = 1000;
  // Rebuilds typed values (storage/object.h) from segments and the log; must outlive the engine.
  // Without one, a typed value met on disk is reported as corruption.
  const ObjectCodec* object_codec = nullptr;
  // Told of every key the engine removes by itself (never of the caller's own deletes), on the
  // owner's thread, right after the removal, from inside whatever call caused it (a Get that
  // reaped, Tick's active expiry, a write that evicted): it must not call back into the engine.
  // The server turns it into its "key modified" signal (WATCH, later keyspace notifications).
  // Not called while Open replays the log.
  std::function<void(DbIndex db, std::string_view key, KeyRemoval why)> on_key_removed;
  // Recovery of a bulk load that ended unsaved (Engine::EndBulkLoadUnsaved) and was not saved
  // before the engine stopped: Open replays the logs before `reload_before_log`, then calls
  // `reload` once, with the engine in a bulk load (source kept), to load the source again, then
  // replays that log and the later ones (the writes made after the load) on top of it, and
  // checkpoints the result. A non-ok status fails Open. No checkpoint runs until the replay ends.
  // Not called when the MANIFEST's floor is past that log: a checkpoint saved the load then.
  std::uint64_t reload_before_log = 0;
  std::function<Status(Engine& engine)> reload;
  // Tests only: runs before each write() and fdatasync() of the commit log ("write" / "sync"), on
  // the owner's or the everysec thread; a non-zero result fails the call with that errno.
  std::function<int(std::string_view call)> log_fault_hook;
  // Tests only: runs on a background checkpoint's thread after it wrote its segment, before the
  // engine installs it. Blocking here holds the checkpoint in progress.
  std::function<void()> background_checkpoint_hook;
};

}  // namespace dynakv::storage
