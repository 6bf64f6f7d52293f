#include "command_stats.h"

namespace dynakv::server {
namespace {

constexpr std::size_t kMaxErrorCodes = 128;  // Redis's ERROR_STATS_NUMBER

}  // namespace

void CommandStats::CountError(std::string_view message) {
  std::string_view code = "ERR";
  const std::size_t space = message.substr(0, 31).find(' ');
  if (space != std::string_view::npos && space > 0) code = message.substr(0, space);
  auto it = errors_.find(code);
  if (it != errors_.end()) {
    ++it->second;
  } else if (errors_.size() < kMaxErrorCodes) {
    errors_.emplace(std::string(code), 1);
  }
}

void CommandStats::Reset() {
  for (Counters& c : counters_) c = Counters{};
  errors_.clear();
}

}  // namespace dynakv::server
