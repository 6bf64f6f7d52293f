// OBJECT IDLETIME and MEMORY USAGE's view of a key, RESTORE's IDLETIME, and a string's hint.
#include <algorithm>

#include "engine_impl.h"
#include "lfu.h"

namespace dynakv::storage {

std::optional<KeyUsage> EngineImpl::Inspect(DbIndex db, std::string_view key) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (!st) return std::nullopt;
  KeyUsage usage;
  if (const Memtable::Entry* e = st->entry) {
    // Redis's estimateObjectIdleTime: the clock may have wrapped since the access. "Now" is the
    // clock touches record (advanced on every tick), so a key touched since the last tick is
    // idle 0, as in Redis, whose idle times also read its cached clock.
    const std::uint32_t now = memtable_.access_clock();
    const std::uint32_t then = e->accessed_at();
    usage.idle_seconds = now >= then ? now - then : now + (Memtable::kAccessClockMax - then);
    usage.memory_bytes = e->alloc_size();
    usage.lfu_frequency = memtable_.LfuCount(*e);
    return usage;
  }
  usage.in_memory = false;
  usage.idle_seconds = std::max<std::int64_t>(0, (Now() - opened_at_ms_) / 1000);
  usage.memory_bytes = Memtable::EntrySize(ns, key.size(), st->disk.stored.size(), st->disk.raw_len,
                                           st->disk.compressed());
  return usage;
}

bool EngineImpl::SetIdleTime(DbIndex db, std::string_view key, std::int64_t idle_seconds) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (!st || st->entry == nullptr) return false;
  // objectSetLRUOrLFU: an access time before the clock's zero wraps around.
  std::int64_t at = static_cast<std::int64_t>(memtable_.access_clock()) - idle_seconds;
  if (at < 0) at += Memtable::kAccessClockMax;
  if (at < 0) at = 0;
  // Under an LFU policy the bits hold the frequency: an idle time is ignored, as in Redis.
  if (!memtable_.lfu()) st->entry->set_accessed_at(static_cast<std::uint32_t>(at));
  return true;
}

bool EngineImpl::SetHint(DbIndex db, std::string_view key, std::uint8_t hint) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (!st || st->entry == nullptr || st->entry->has(Memtable::kObject)) return false;
  st->entry->hint = hint & 3;
  return true;
}

bool EngineImpl::SetLfuFrequency(DbIndex db, std::string_view key, int frequency) {
  const std::uint32_t ns = map_.ns[db];
  std::optional<KeyState> st = LiveState(HashKey(key, ns), ns, key);
  if (!st || st->entry == nullptr) return false;
  if (memtable_.lfu()) {
    const auto counter = static_cast<std::uint8_t>(std::clamp(frequency, 0, 255));
    st->entry->set_accessed_at(lfu::Pack(lfu::Minutes(Now()), counter));
  }
  return true;
}

}  // namespace dynakv::storage
