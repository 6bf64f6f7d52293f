// Housekeeping: the memory limit, FLUSHALL and the periodic tick.
#include <string>
#include <utility>

#include "engine_impl.h"
#include "lfu.h"

namespace dynakv::storage {

bool EngineImpl::MakeRoom(std::size_t extra, std::uint64_t keep_hash, std::string_view keep_key,
                          bool may_wait) {
  // Clean entries are copies of segment data, so dropping them loses nothing and is not an
  // eviction in the Redis sense.
  auto droppable = [&](const Memtable::Entry& e) {
    return Clean(e) && !(e.hash == keep_hash && e.key() == keep_key);
  };
  while (CountedBytes() + extra > options_.max_memory) {
    Memtable::Entry* victim = memtable_.SampleLru(rng_, droppable);
    if (victim == nullptr) {
      // A running checkpoint turns its entries clean (and frees the ones replaced meanwhile).
      if (!may_wait || !checkpoint_task_.running()) return false;
      FinishCheckpoint(/*wait=*/true);
      continue;
    }
    memtable_.Erase(victim);
    ++stats_.offloaded_keys;
  }
  return true;
}

EvictionResult EngineImpl::EnforceMemoryLimit(const Memtable::Entry* keep) {
  // Open's replay (and reload) ends first: Recover enforces the limit once it is done.
  if (options_.max_memory == 0 || recovering_ || CountedBytes() <= options_.max_memory) {
    return EvictionResult::kOk;
  }
  // CLIENT PAUSE: no victim is deleted (Redis's performEvictions answers EVICT_OK then).
  if (removal_paused_ && DeletesVictims(options_.eviction)) return EvictionResult::kOk;
  // Redis's "eviction-cycle": the whole of making room, whichever way this returns.
  struct CycleLatency {
    EngineImpl* engine;
    std::chrono::steady_clock::time_point started;
    ~CycleLatency() { engine->LatencyEnd("eviction-cycle", started); }
  } cycle_latency{this, LatencyStart()};
  // Checkpoints can free the kept entry's memory address, so identify it by key.
  struct Kept {
    bool protect = false;
    std::uint64_t hash = 0;
    std::string key;
  } kept;
  kept.protect = keep != nullptr && keep->alloc_size() <= options_.max_memory;
  if (kept.protect) {
    kept.key = keep->key();
    kept.hash = keep->hash;
  }
  // Captures one reference, so that making a std::function of it allocates nothing.
  auto spared = [&kept](const Memtable::Entry& e) {
    return kept.protect && e.hash == kept.hash && e.key() == kept.key;
  };

  // Only clean entries can go; dirty and frozen ones (and tombstones) need a checkpoint first.
  // This waits for the running checkpoint, or forces one, at most once each per call.
  bool checkpointed = false;
  auto clean_more = [&] {
    if (checkpoint_task_.running()) return FinishCheckpoint(/*wait=*/true).ok();
    if (checkpointed || memtable_.dirty_count() == 0) return false;
    checkpointed = true;
    return Checkpoint().ok();
  };
  // Each round frees memory, makes entries clean, or gives up, so this terminates.
  int fruitless_rounds = 0;
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t time_limit_us = EvictionTimeLimitUs();
  std::uint64_t evicted = 0;
  while (CountedBytes() > options_.max_memory && fruitless_rounds < 8) {
    const std::size_t before = CountedBytes();
    switch (options_.eviction) {
      case EvictionPolicy::kOffload: {
        Memtable::Entry* victim =
            memtable_.SampleLru(rng_, [&](const Memtable::Entry& e) { return !spared(e); });
        if (victim == nullptr) return EvictionResult::kOk;
        if (!Clean(*victim)) {
          // Offloading must not lose the write. Rather than wait for the disk, get a checkpoint
          // going and offload the least recently used clean entry meanwhile; only when there
          // is none does the write wait.
          if (!checkpoint_task_.running()) StartCheckpoint();
          victim = memtable_.SampleLru(
              rng_, [&](const Memtable::Entry& e) { return Clean(e) && !spared(e); });
          if (victim == nullptr) {
            if (!clean_more()) return EvictionResult::kOk;
            break;  // a round without freeing anything: bounded below
          }
        }
        memtable_.Erase(victim);
        ++stats_.offloaded_keys;
        break;
      }
      case EvictionPolicy::kNoEviction: {
        Memtable::Entry* victim = memtable_.SampleLru(
            rng_, [&](const Memtable::Entry& e) { return Clean(e) && !spared(e); });
        if (victim == nullptr) {
          // Tombstones (deletes and expiries of on-disk keys) are no data to refuse writes for,
          // and a running checkpoint's entries are about to be clean.
          const bool worth_it = memtable_.tombstone_count() > 0 || checkpoint_task_.running();
          if (worth_it && clean_more()) continue;
          return EvictionResult::kFail;
        }
        memtable_.Erase(victim);
        ++stats_.offloaded_keys;
        break;
      }
      default: {  // the Redis policies and ours: victims are deleted
        Memtable::Entry* victim = PickVictim(spared);
        if (victim == nullptr) {
          if (memtable_.tombstone_count() > 0 && clean_more()) continue;
          return EvictionResult::kFail;
        }
        Evict(victim);
        // Redis's tenacity: checked every 16 keys, the rest waits for the next write or tick.
        if (time_limit_us != UINT64_MAX && (++evicted & 15) == 0 &&
            std::chrono::steady_clock::now() - started >=
                std::chrono::microseconds(time_limit_us)) {
          return CountedBytes() > options_.max_memory ? EvictionResult::kRunning
                                                         : EvictionResult::kOk;
        }
        break;
      }
    }
    fruitless_rounds = CountedBytes() < before ? 0 : fruitless_rounds + 1;
    // Evicting on-disk keys leaves tombstones as big as the entries they replace.
    if (fruitless_rounds > 0 && memtable_.tombstone_count() > 0) clean_more();
  }
  if (CountedBytes() <= options_.max_memory) return EvictionResult::kOk;
  return options_.eviction == EvictionPolicy::kOffload ? EvictionResult::kOk
                                                       : EvictionResult::kFail;
}

void EngineImpl::AfterWrite(const Memtable::Entry* written) {
  // Under allkeys-tinylfu the written key is spared nothing: it is the admission window's
  // newest key, and when the window holds no other, the candidate that must beat the main
  // region's victim (a one-hit key is refused at once, as in Caffeine).
  EnforceMemoryLimit(tiny_lfu_.attached() ? nullptr : written);
  if (atomic_depth_ == 0) MaybeCheckpoint();
}

void EngineImpl::BeginAtomic() {
  if (atomic_depth_++ == 0) log_->BeginGroup();
}

void EngineImpl::CommitAtomic() {
  if (--atomic_depth_ > 0) return;
  log_->EndGroup();
  if (clear_deferred_) {
    // The Clear's own sequel (below), now that its record is in the log with the whole group.
    clear_deferred_ = false;
    checkpoint_deferred_ = false;
    if (!log_->Sync().ok()) ++stats_.io_errors;
    Checkpoint();
  } else if (std::exchange(checkpoint_deferred_, false)) {
    Checkpoint();
  }
  MaybeCheckpoint();
  EnforceMemoryLimit(nullptr);
}

void EngineImpl::Clear() {
  CancelCompaction();
  FinishCheckpoint(/*wait=*/true);  // its segment would bring cleared keys back
  // Durable first: if we crash before the new MANIFEST, replaying CLEAR redoes the job.
  LogRecord rec;
  rec.type = LogRecordType::kClear;
  log_->Add(rec);
  if (atomic_depth_ > 0) {
    // Inside a group the record waits for the commit, and so must everything that makes the
    // clear durable without it: the old segments stay listed (their files are deleted only by
    // the checkpoint's MANIFEST), so a crash before the commit finds them as they were.
    ApplyClear();
    clear_deferred_ = true;
    return;
  }
  if (!log_->Sync().ok()) ++stats_.io_errors;
  ApplyClear();
  // With an empty memtable this writes no segment: it only starts a new log and a MANIFEST
  // without segments, then deletes the old files.
  Checkpoint();
}

void EngineImpl::Tick() {
  memtable_.SetAccessClock(AccessClockNow());
  memtable_.SetLfuClock(lfu::Minutes(Now()));
  ActiveExpireCycle();
  FinishCompaction();
  MaybeStartCompaction();
  MaybeCheckpoint();
  EnforceMemoryLimit(nullptr);
}

}  // namespace dynakv::storage
