// SLOWLOG's entries: commands that ran for at least slowlog-log-slower-than microseconds, newest
// first, at most slowlog-max-len of them, as Redis 7.0's slowlog.c keeps them (ids count every
// entry ever logged; arguments past 32 and bytes past 128 of an argument are cut, with a note of
// how many were left out).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::server {

class SlowLog {
 public:
  struct Entry {
    std::uint64_t id;
    std::int64_t unix_seconds;
    std::uint64_t duration_us;
    std::vector<std::string> argv;  // cut as Redis cuts them
    std::string peer;               // "ip:port"
    std::string client_name;
  };

  // Logs the command when `slower_than` >= 0, `max_len` > 0 and it took at least `slower_than`
  // microseconds; keeps the newest `max_len` entries. `redacted[i]`: argument i is shown as
  // "(redacted)" (a password).
  void Push(const std::vector<std::string_view>& argv, const std::vector<bool>& redacted,
            std::uint64_t duration_us, std::string_view peer, std::string_view client_name,
            long long slower_than, long long max_len);
  // slowlog-max-len lowered: the oldest entries past it go at once, as Redis trims on CONFIG SET.
  void Trim(long long max_len);
  void Reset() { entries_.clear(); }
  const std::deque<Entry>& entries() const { return entries_; }  // newest first

 private:
  std::deque<Entry> entries_;
  std::uint64_t next_id_ = 0;
};

}  // namespace dynakv::server
