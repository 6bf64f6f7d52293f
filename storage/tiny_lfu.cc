// allkeys-tinylfu: W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
// Admission Policy"; the policy behind Caffeine) approximated by sampling, as Redis approximates
// LRU, so that it costs no list links in the entry:
//  - new keys enter an admission window of 1% of maxmemory (entries not in_main), where
//    the least recently used one (sampled) is the candidate to leave it;
//  - the main region holds the admitted keys; its victim is the sampled entry with the lowest
//    sketch frequency, the least recently used among equals. That plays the part of the
//    segmented LRU's probation segment: keys seen once go before keys seen again, which the
//    protected segment would hold;
//  - while the main region has room, a candidate is simply admitted; else the candidate and the
//    main victim compete on their frequencies (FrequencySketch), the loser is evicted. A tie
//    keeps the incumbent, so a one-pass scan cannot flush a frequently used working set; a
//    candidate of frequency 6 or more also wins 1 time in 128, as in Caffeine, so an attacker
//    cannot pin a victim with a forged frequency.
#include <algorithm>

#include "engine_impl.h"

namespace dynakv::storage {

Memtable::Entry* EngineImpl::PickTinyLfuVictim(
    const std::function<bool(const Memtable::Entry&)>& eligible) {
  using Entry = Memtable::Entry;
  sketch_.EnsureCapacity(memtable_.size());
  const std::size_t window_target = std::max<std::uint64_t>(options_.max_memory / 100, 1);
  const std::size_t main_target = options_.max_memory - window_target;
  const std::size_t samples =
      static_cast<std::size_t>(std::max(5, options_.eviction_tuning.samples));
  auto in_window = [&](const Entry& e) { return eligible(e) && !e.in_main; };
  auto in_main = [&](const Entry& e) { return eligible(e) && e.in_main; };
  auto main_victim = [&]() {
    Entry* best = nullptr;
    int best_frequency = 0;
    memtable_.Sample(rng_, in_main, samples, [&](Entry& e) {
      const int f = sketch_.Frequency(e.hash);
      if (best == nullptr || f < best_frequency ||
          (f == best_frequency && memtable_.Age(e) > memtable_.Age(*best))) {
        best = &e;
        best_frequency = f;
      }
    });
    return best;
  };
  while (memtable_.window_bytes() > window_target) {
    Entry* candidate = memtable_.SampleLru(rng_, in_window, samples);
    if (candidate == nullptr) break;
    const std::size_t main_bytes = memtable_.bytes() - memtable_.window_bytes();
    Entry* victim = nullptr;
    if (main_bytes + candidate->alloc_size() > main_target) victim = main_victim();
    if (victim == nullptr) {  // room in the main region
      memtable_.Admit(candidate);
      continue;
    }
    const int candidate_frequency = sketch_.Frequency(candidate->hash);
    const int victim_frequency = sketch_.Frequency(victim->hash);
    if (candidate_frequency > victim_frequency ||
        (candidate_frequency >= 6 && (rng_() & 127) == 0)) {
      memtable_.Admit(candidate);
      ++stats_.admitted_keys;
      return victim;
    }
    ++stats_.rejected_keys;
    return candidate;
  }
  // The window is within its share, so the main region is over its own.
  if (Entry* victim = main_victim()) return victim;
  return memtable_.SampleLru(rng_, in_window, samples);
}

}  // namespace dynakv::storage
