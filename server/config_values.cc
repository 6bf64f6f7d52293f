// Config values as text: memory sizes in Redis units, and the names of the storage policies.
#include "config.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ascii.h"

namespace dynakv::server {

bool ParseBool(std::string_view value, bool* out, std::string* reason) {
  if (EqualsIgnoreCase(value, "yes") || EqualsIgnoreCase(value, "true")) {
    *out = true;
  } else if (EqualsIgnoreCase(value, "no") || EqualsIgnoreCase(value, "false")) {
    *out = false;
  } else {
    *reason = "argument must be 'yes' or 'no'";
    return false;
  }
  return true;
}

bool ParseMemory(std::string_view text, std::uint64_t* bytes) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return false;
  std::string_view unit = text.substr(digits);
  std::uint64_t multiplier;
  if (unit.empty() || EqualsIgnoreCase(unit, "b")) {
    multiplier = 1;
  } else if (EqualsIgnoreCase(unit, "k")) {
    multiplier = 1000;
  } else if (EqualsIgnoreCase(unit, "kb")) {
    multiplier = 1024;
  } else if (EqualsIgnoreCase(unit, "m")) {
    multiplier = 1000 * 1000;
  } else if (EqualsIgnoreCase(unit, "mb")) {
    multiplier = 1024 * 1024;
  } else if (EqualsIgnoreCase(unit, "g")) {
    multiplier = 1000ull * 1000 * 1000;
  } else if (EqualsIgnoreCase(unit, "gb")) {
    multiplier = 1024ull * 1024 * 1024;
  } else {
    return false;
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const unsigned digit = static_cast<unsigned>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  if (value > UINT64_MAX / multiplier) return false;
  *bytes = value * multiplier;
  return true;
}

std::string BytesToHuman(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f%s", value, kUnits[unit]);
  return buf;
}

std::string_view EvictionPolicyName(storage::EvictionPolicy policy) {
  switch (policy) {
    case storage::EvictionPolicy::kOffload:
      return "offload";
    case storage::EvictionPolicy::kAllKeysLru:
      return "allkeys-lru";
    case storage::EvictionPolicy::kNoEviction:
      return "noeviction";
    case storage::EvictionPolicy::kAllKeysLfu:
      return "allkeys-lfu";
    case storage::EvictionPolicy::kAllKeysRandom:
      return "allkeys-random";
    case storage::EvictionPolicy::kVolatileLru:
      return "volatile-lru";
    case storage::EvictionPolicy::kVolatileLfu:
      return "volatile-lfu";
    case storage::EvictionPolicy::kVolatileRandom:
      return "volatile-random";
    case storage::EvictionPolicy::kVolatileTtl:
      return "volatile-ttl";
    case storage::EvictionPolicy::kAllKeysTinyLfu:
      return "allkeys-tinylfu";
  }
  return "offload";
}

storage::EvictionTuning EvictionTuningOf(const Config& config) {
  storage::EvictionTuning tuning;
  tuning.samples = config.maxmemory_samples;
  tuning.tenacity = config.maxmemory_eviction_tenacity;
  tuning.lfu_log_factor = config.lfu_log_factor;
  tuning.lfu_decay_time = config.lfu_decay_time;
  return tuning;
}

std::string_view BackgroundPriorityName(storage::BackgroundPriority priority) {
  switch (priority) {
    case storage::BackgroundPriority::kAuto:
      return "auto";
    case storage::BackgroundPriority::kIdle:
      return "idle";
    case storage::BackgroundPriority::kLow:
      return "low";
    case storage::BackgroundPriority::kNormal:
      return "normal";
  }
  return "?";
}

std::string_view FsyncPolicyName(storage::FsyncPolicy policy) {
  switch (policy) {
    case storage::FsyncPolicy::kAlways:
      return "always";
    case storage::FsyncPolicy::kEverySec:
      return "everysec";
    case storage::FsyncPolicy::kNo:
      return "no";
  }
  return "everysec";
}

std::string_view AclPubsubDefaultName(AclPubsubDefault value) {
  return value == AclPubsubDefault::kAllChannels ? "allchannels" : "resetchannels";
}

std::string_view LogCorruptionPolicyName(storage::LogCorruptionPolicy policy) {
  switch (policy) {
    case storage::LogCorruptionPolicy::kRefuse:
      return "refuse";
    case storage::LogCorruptionPolicy::kDropAndRepair:
      return "drop-and-repair";
  }
  return "refuse";
}

}  // namespace dynakv::server
