// Redis's LFU counter (evict.c), kept in the 24 bits an entry holds its access clock in when an
// LFU policy is selected, as Redis keeps it in the object's lru field: the high 16 bits are the
// minute of the last decrement ("ldt"), the low 8 bits a logarithmic access counter.
#pragma once

#include <cstdint>

namespace dynakv::storage::lfu {

constexpr std::uint8_t kInitVal = 5;  // LFU_INIT_VAL: new keys are not evicted at once

// Minutes on a 16-bit wrapping clock (LFUGetTimeInMinutes).
inline std::uint32_t Minutes(std::int64_t now_ms) {
  return static_cast<std::uint32_t>(now_ms / 60000) & 0xffff;
}
inline std::uint32_t Pack(std::uint32_t minutes, std::uint8_t counter) {
  return ((minutes & 0xffff) << 8) | counter;
}
inline std::uint8_t Counter(std::uint32_t field) { return field & 0xff; }

// LFUTimeElapsed: minutes since `ldt`, across one wrap.
inline std::uint32_t Elapsed(std::uint32_t ldt, std::uint32_t now) {
  return now >= ldt ? now - ldt : 65535 - ldt + now;
}

// LFUDecrAndReturn: the counter less one per `decay_time` minutes since the last decrement.
inline std::uint8_t Decayed(std::uint32_t field, std::uint32_t now_minutes, int decay_time) {
  const std::uint32_t counter = Counter(field);
  const std::uint32_t periods = decay_time > 0 ? Elapsed(field >> 8, now_minutes) / decay_time : 0;
  return static_cast<std::uint8_t>(periods > counter ? 0 : counter - periods);
}

// LFULogIncr: the more accesses counted, the less likely one more is; `r` is uniform in [0, 1).
inline std::uint8_t LogIncr(std::uint8_t counter, int log_factor, double r) {
  if (counter == 255) return 255;
  const double base = counter > kInitVal ? counter - kInitVal : 0;
  const double p = 1.0 / (base * log_factor + 1);
  return r < p ? static_cast<std::uint8_t>(counter + 1) : counter;
}

}  // namespace dynakv::storage::lfu
