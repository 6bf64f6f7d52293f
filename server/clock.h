// Wall-clock time in unix milliseconds: expiry times are absolute (EXPIREAT, PXAT) and persisted.
#pragma once

#include <chrono>
#include <cstdint>

namespace dynakv::server {

inline std::int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace dynakv::server
