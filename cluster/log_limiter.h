// Rate limit for warnings a peer can trigger at will (strangers opening connections, a member
// refusing ours): at most one line per interval, and the next line that gets through says how
// many were held back, so a flood costs the log a line per interval, not a line per event.
#pragma once

#include <cstdint>
#include <string>

namespace dynakv::cluster {

class LogLimiter {
 public:
  explicit LogLimiter(std::uint64_t interval_ms) : interval_ms_(interval_ms) {}

  // Whether a line may be written at `now_ms` (uv_now time). When it may, *note is what to
  // append to it (" (N more like it since the last report)", or empty); when not, the event is
  // counted for the next line.
  bool Allow(std::uint64_t now_ms, std::string* note) {
    if (logged_once_ && now_ms - last_ms_ < interval_ms_) {
      ++held_back_;
      return false;
    }
    note->clear();
    if (held_back_ > 0) {
      *note = " (" + std::to_string(held_back_) + " more like it since the last report)";
    }
    logged_once_ = true;
    last_ms_ = now_ms;
    held_back_ = 0;
    return true;
  }

 private:
  const std::uint64_t interval_ms_;
  std::uint64_t last_ms_ = 0;
  std::uint64_t held_back_ = 0;
  bool logged_once_ = false;
};

}  // namespace dynakv::cluster
