// Housekeeping: the memory limit, FLUSHALL and the periodic tick.
#include <string>

#include "engine_impl.h"

namespace dynakv::storage {

bool EngineImpl::MakeRoom(std::size_t extra, std::uint64_t keep_hash, std::string_view keep_key) {
  // Clean entries are copies of segment data, so dropping them loses nothing and is not an
  // eviction in the Redis sense.
  auto droppable = [&](const Memtable::Entry& e) {
    return !e.has(Memtable::kDirty) && !(e.hash == keep_hash && e.key() == keep_key);
  };
  while (memtable_.bytes() + extra > options_.max_memory) {
    Memtable::Entry* victim = memtable_.SampleLru(rng_, droppable);
    if (victim == nullptr) return false;
    memtable_.Erase(victim);
    ++stats_.offloaded_keys;
  }
  return true;
}

void EngineImpl::EnforceMemoryLimit(const Memtable::Entry* keep) {
  if (options_.max_memory == 0 || memtable_.bytes() <= options_.max_memory) return;
  // Checkpoints can free the kept entry's memory address, so identify it by key.
  std::string keep_key;
  std::uint64_t keep_hash = 0;
  const bool protect = keep != nullptr && keep->alloc_size() <= options_.max_memory;
  if (protect) {
    keep_key = keep->key();
    keep_hash = keep->hash;
  }
  auto spared = [&](const Memtable::Entry& e) {
    return protect && e.hash == keep_hash && e.key() == keep_key;
  };

  // Tombstones leave memory only through a checkpoint; one per call is enough to drop them all.
  bool checkpointed = false;
  auto checkpoint_once = [&] {
    if (checkpointed || memtable_.dirty_count() == 0) return false;
    checkpointed = true;
    return Checkpoint().ok();
  };
  // Each round frees memory, checkpoints once, or gives up, so this terminates.
  int fruitless_rounds = 0;
  while (memtable_.bytes() > options_.max_memory && fruitless_rounds < 8) {
    const std::size_t before = memtable_.bytes();
    switch (options_.eviction) {
      case EvictionPolicy::kOffload: {
        Memtable::Entry* victim =
            memtable_.SampleLru(rng_, [&](const Memtable::Entry& e) { return !spared(e); });
        if (victim == nullptr) return;
        if (victim->has(Memtable::kDirty)) {
          // Offloading must not lose the write: put every dirty entry on disk first, which
          // also makes the memtable's next victims cheap to drop.
          if (!checkpoint_once()) return;
          continue;
        }
        memtable_.Erase(victim);
        ++stats_.offloaded_keys;
        break;
      }
      case EvictionPolicy::kNoEviction: {
        Memtable::Entry* victim = memtable_.SampleLru(
            rng_, [&](const Memtable::Entry& e) { return !e.has(Memtable::kDirty) && !spared(e); });
        if (victim == nullptr) {
          // Tombstones (deletes and expiries of on-disk keys) are no data to refuse writes for.
          if (memtable_.tombstone_count() > 0 && checkpoint_once()) continue;
          return;
        }
        memtable_.Erase(victim);
        ++stats_.offloaded_keys;
        break;
      }
      case EvictionPolicy::kAllKeysLru: {
        Memtable::Entry* victim = memtable_.SampleLru(rng_, [&](const Memtable::Entry& e) {
          return !e.has(Memtable::kTombstone) && !spared(e);
        });
        if (victim == nullptr) {
          if (memtable_.tombstone_count() > 0 && checkpoint_once()) continue;
          return;
        }
        KeyState st;
        st.entry = victim;
        st.exists = true;
        st.on_disk = victim->has(Memtable::kOnDisk);
        st.expire_at_ms = victim->expire_at_ms;
        const std::string key(victim->key());
        // Like Redis, an eviction is a delete that reaches the log (and later the replicas).
        LogDelete(key);
        ApplyDelete(victim->hash, key, st);
        ++stats_.evicted_keys;
        break;
      }
    }
    fruitless_rounds = memtable_.bytes() < before ? 0 : fruitless_rounds + 1;
    // Evicting on-disk keys leaves tombstones as big as the entries they replace.
    if (fruitless_rounds > 0 && memtable_.tombstone_count() > 0) checkpoint_once();
  }
}

void EngineImpl::AfterWrite(const Memtable::Entry* written) {
  EnforceMemoryLimit(written);
  if (options_.log_checkpoint_bytes != 0 && log_->bytes() >= options_.log_checkpoint_bytes) {
    Checkpoint();
  }
}

void EngineImpl::Clear() {
  CancelCompaction();
  // Durable first: if we crash before the new MANIFEST, replaying CLEAR redoes the job.
  LogRecord rec;
  rec.type = LogRecordType::kClear;
  log_->Add(rec);
  if (!log_->Sync().ok()) ++stats_.io_errors;
  ApplyClear();
  // With an empty memtable this writes no segment: it only starts a new log and a MANIFEST
  // without segments, then deletes the old files.
  Checkpoint();
}

void EngineImpl::Tick() {
  ActiveExpireCycle();
  FinishCompaction();
  MaybeStartCompaction();
  if (options_.log_checkpoint_bytes != 0 && log_->bytes() >= options_.log_checkpoint_bytes) {
    Checkpoint();
  }
  EnforceMemoryLimit(nullptr);
}

}  // namespace dynakv::storage
