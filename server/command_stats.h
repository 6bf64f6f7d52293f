// What INFO commandstats, errorstats and latencystats report, kept as Redis 7.0 keeps it: per
// command (and subcommand) the calls that ran, their time, the calls refused before running
// (rejected_calls: arity, NOAUTH, ACL, OOM...) and the calls that ran and replied with an error
// (failed_calls), with a latency histogram per command while latency-tracking is on; and per
// error code (the reply's first word: ERR, WRONGTYPE...) the error replies sent.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "latency_histogram.h"

namespace dynakv::server {

class CommandStats {
 public:
  struct Counters {
    std::uint64_t calls = 0;
    std::uint64_t nanoseconds = 0;
    std::uint64_t rejected_calls = 0;
    std::uint64_t failed_calls = 0;
    std::unique_ptr<LatencyHistogram> histogram;  // made on the first tracked call
  };

  // `commands`: the number of entries of the command table (CommandTable::entries), whose ids
  // index the counters.
  explicit CommandStats(std::size_t commands) : counters_(commands) {}

  // A call of command `id` that ran for `ns` nanoseconds (and `failed`: replied an error);
  // `track_latency` adds it to the command's histogram, in nanoseconds as Redis records them.
  void Called(int id, std::uint64_t ns, bool failed, bool track_latency) {
    Counters& c = counters_[static_cast<std::size_t>(id)];
    ++c.calls;
    c.nanoseconds += ns;
    if (failed) ++c.failed_calls;
    if (track_latency) {
      if (!c.histogram) c.histogram = std::make_unique<LatencyHistogram>();
      c.histogram->Record(static_cast<std::int64_t>(ns));
    }
  }
  void Rejected(int id) { ++counters_[static_cast<std::size_t>(id)].rejected_calls; }
  const Counters& Of(int id) const { return counters_[static_cast<std::size_t>(id)]; }
  std::size_t size() const { return counters_.size(); }

  // An error reply's message (without the '-'): counted under its code, its first word when
  // there is a space in the first 32 bytes of the reply, else ERR (Redis's afterErrorReply).
  // Past 128 codes new ones are no longer listed (Redis's ERROR_STATS_NUMBER).
  void CountError(std::string_view message);
  const std::map<std::string, std::uint64_t, std::less<>>& errors() const { return errors_; }

  // CONFIG RESETSTAT: every counter, histogram and error code back to nothing.
  void Reset();

 private:
  std::vector<Counters> counters_;
  std::map<std::string, std::uint64_t, std::less<>> errors_;
};

}  // namespace dynakv::server
