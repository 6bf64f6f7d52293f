// The Redis eviction policies' choice of victims (evict.c), approximated as Redis does: each
// eviction samples maxmemory-samples keys into a pool of the best 16 victims seen so far.
#include <cmath>
#include <limits>
#include <string>

#include "engine_impl.h"
#include "lfu.h"

namespace dynakv::storage {

void EngineImpl::SetEvictionPolicy(EvictionPolicy policy) {
  options_.eviction = policy;
  eviction_pool_.Clear();  // its scores meant the old policy's order
  ApplyAccessMode();
}

void EngineImpl::SetEvictionTuning(const EvictionTuning& tuning) {
  options_.eviction_tuning = tuning;
  ApplyAccessMode();
}

void EngineImpl::ApplyAccessMode() {
  const EvictionTuning& t = options_.eviction_tuning;
  memtable_.SetLfu(IsLfuPolicy(options_.eviction), t.lfu_log_factor, t.lfu_decay_time);
  tiny_lfu_.SetMaxMemory(options_.max_memory);
  const bool tiny_lfu = options_.eviction == EvictionPolicy::kAllKeysTinyLfu;
  if (tiny_lfu && !tiny_lfu_.attached()) tiny_lfu_.Attach();
  if (!tiny_lfu) tiny_lfu_.Detach();
}

EvictionResult EngineImpl::PerformEvictions() {
  if (options_.max_memory == 0 || CountedBytes() <= options_.max_memory) {
    return EvictionResult::kOk;
  }
  if (!DeletesVictims(options_.eviction)) {
    return options_.eviction == EvictionPolicy::kOffload ? EvictionResult::kOk
                                                         : EvictionResult::kFail;
  }
  return EnforceMemoryLimit(nullptr);
}

std::uint64_t EngineImpl::EvictionTimeLimitUs() const {
  const int tenacity = options_.eviction_tuning.tenacity;
  // 0 too is a limit: a round stops after its first 16 keys.
  if (tenacity <= 10) return 50ull * static_cast<std::uint64_t>(std::max(tenacity, 0));
  if (tenacity < 100) return static_cast<std::uint64_t>(500.0 * std::pow(1.15, tenacity - 10.0));
  return UINT64_MAX;  // no limit
}

Memtable::Entry* EngineImpl::PickVictim(const std::function<bool(const Memtable::Entry&)>& spared) {
  const EvictionPolicy policy = options_.eviction;
  const bool volatile_only = IsVolatilePolicy(policy);
  if (volatile_only && memtable_.expiring_count() == 0) return nullptr;
  if (policy == EvictionPolicy::kAllKeysTinyLfu) return tiny_lfu_.Victim(spared);  // no tombstones
  auto eligible = [&](const Memtable::Entry& e) {
    return !e.has(Memtable::kTombstone) && !spared(e) && (!volatile_only || e.expire_at_ms != 0);
  };
  if (policy == EvictionPolicy::kAllKeysRandom || policy == EvictionPolicy::kVolatileRandom) {
    return memtable_.SampleRandom(rng_, eligible);
  }
  // Higher is a better victim: older, rarer, or nearer to expiring.
  auto score = [&](const Memtable::Entry& e) -> std::uint64_t {
    switch (policy) {
      case EvictionPolicy::kAllKeysLfu:
      case EvictionPolicy::kVolatileLfu:
        return 255 - memtable_.LfuCount(e);
      case EvictionPolicy::kVolatileTtl:
        return std::numeric_limits<std::uint64_t>::max() -
               static_cast<std::uint64_t>(e.expire_at_ms);
      default:
        return memtable_.Age(e);
    }
  };
  const std::size_t samples =
      static_cast<std::size_t>(std::max(1, options_.eviction_tuning.samples));
  // A candidate may be gone or changed since it was pooled: re-check it, and sample again when
  // the pool runs dry. Sampling finds an eligible entry whenever one exists, so an empty
  // sampling means there is none.
  for (;;) {
    bool sampled = false;
    memtable_.Sample(rng_, eligible, samples, [&](Memtable::Entry& e) {
      sampled = true;
      eviction_pool_.Offer(score(e), e.hash, e.key());
    });
    std::uint64_t hash = 0;
    std::string key;
    while (eviction_pool_.PopBest(&hash, &key)) {
      Memtable::Entry* e = memtable_.Find(hash, key);
      if (e != nullptr && eligible(*e)) return e;
    }
    if (!sampled) return nullptr;
  }
}

void EngineImpl::Evict(Memtable::Entry* victim) {
  KeyState st;
  st.entry = victim;
  st.exists = true;
  st.on_disk = OnDisk(*victim);
  st.expire_at_ms = victim->expire_at_ms;
  const std::string key(victim->key());
  const std::uint32_t ns = victim->ns();
  const auto started = LatencyStart();
  // Like Redis, an eviction is a delete that reaches the log (and later the replicas).
  LogDelete(ns, key);
  ApplyDelete(victim->hash, ns, key, st);
  LatencyEnd("eviction-del", started);
  ++stats_.evicted_keys;
  NotifyRemoved(ns, key, KeyRemoval::kEvicted);
}

}  // namespace dynakv::storage
