#include "slowlog.h"

#include <ctime>

namespace dynakv::server {
namespace {

constexpr std::size_t kMaxArgs = 32;         // Redis's SLOWLOG_ENTRY_MAX_ARGC
constexpr std::size_t kMaxArgBytes = 128;    // Redis's SLOWLOG_ENTRY_MAX_STRING

}  // namespace

void SlowLog::Push(const std::vector<std::string_view>& argv, const std::vector<bool>& redacted,
                   std::uint64_t duration_us, std::string_view peer, std::string_view client_name,
                   long long slower_than, long long max_len) {
  if (slower_than < 0 || max_len <= 0) return;
  if (duration_us < static_cast<std::uint64_t>(slower_than)) return;
  Entry entry{next_id_++, static_cast<std::int64_t>(std::time(nullptr)), duration_us, {},
              std::string(peer), std::string(client_name)};
  const std::size_t kept = std::min(argv.size(), kMaxArgs);
  for (std::size_t i = 0; i < kept; ++i) {
    if (kept != argv.size() && i == kept - 1) {
      entry.argv.push_back("... (" + std::to_string(argv.size() - kept + 1) + " more arguments)");
    } else if (i < redacted.size() && redacted[i]) {
      entry.argv.emplace_back("(redacted)");
    } else if (argv[i].size() > kMaxArgBytes) {
      std::string cut(argv[i].substr(0, kMaxArgBytes));
      cut += "... (" + std::to_string(argv[i].size() - kMaxArgBytes) + " more bytes)";
      entry.argv.push_back(std::move(cut));
    } else {
      entry.argv.emplace_back(argv[i]);
    }
  }
  entries_.push_front(std::move(entry));
  Trim(max_len);
}

void SlowLog::Trim(long long max_len) {
  while (!entries_.empty() && static_cast<long long>(entries_.size()) > max_len) {
    entries_.pop_back();
  }
}

}  // namespace dynakv::server
