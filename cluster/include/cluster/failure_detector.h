// The phi-accrual failure detector (Hayashibara et al.; as Cassandra uses it): instead of a
// yes/no timeout, a suspicion level phi that grows the longer a member's heartbeat has not
// advanced, scaled by how often it usually advances. Phi = -log10(P(a heartbeat this late)),
// with inter-arrival times approximated as exponentially distributed (Cassandra's choice):
//   phi(t) = t / (mean * ln 10),   t = time since the last advance.
// So phi 8 means "one chance in 10^8 that a live member is this late", about 18 mean intervals.
//
// Two verdicts come out of it: suspect once phi passes a threshold (adaptive: a member with a
// steady, frequent heartbeat is suspected sooner), and down once no advance has been seen for a
// hard bound (an operator's guarantee of how long a dead member goes unnoticed, whatever the
// history says). Time is passed in by the caller, so the detector is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace dynakv::cluster {

enum class Liveness { kUp, kSuspect, kDown };
const char* LivenessName(Liveness liveness);  // "up", "suspect", "down"

struct FailureDetectorOptions {
  double phi_threshold = 8.0;
  std::int64_t down_after_ms = 5000;
  // The mean assumed until a member has a measured interval (the gossip interval).
  std::int64_t bootstrap_interval_ms = 1000;
  std::size_t window_size = 100;  // intervals remembered per member
  // The least mean phi is scaled by. A member's heartbeat advances once per its gossip interval,
  // but while views converge one advance can be learned through several paths milliseconds
  // apart; without a floor those bursts make a member look like a fast beater and a healthy
  // one is suspected after a few hundred ms of ordinary gossip jitter. 0: no floor.
  std::int64_t min_interval_ms = 0;
};

class FailureDetector {
 public:
  explicit FailureDetector(FailureDetectorOptions options) : options_(options) {}

  // `id`'s heartbeat advanced at `now_ms`. The first report starts watching it: a member is
  // given the benefit of the doubt from the moment it is known.
  void Report(std::string_view id, std::int64_t now_ms);
  // Forgets `id`'s history and reports a heartbeat: a restarted process's rhythm says nothing
  // about its predecessor's.
  void Restart(std::string_view id, std::int64_t now_ms);
  void Forget(std::string_view id);

  bool Watching(std::string_view id) const;
  // 0 for a member not watched.
  double Phi(std::string_view id, std::int64_t now_ms) const;
  // Time since the last advance; -1 for a member not watched.
  std::int64_t SilenceMs(std::string_view id, std::int64_t now_ms) const;
  // kDown for a member not watched.
  Liveness Evaluate(std::string_view id, std::int64_t now_ms) const;
  // The mean interval phi is scaled by (the bootstrap interval until one was measured).
  double MeanIntervalMs(std::string_view id) const;

  const FailureDetectorOptions& options() const { return options_; }

 private:
  struct History {
    std::int64_t last_ms = 0;
    std::deque<std::int64_t> intervals;
    std::int64_t sum = 0;
  };
  double Mean(const History& history) const;

  FailureDetectorOptions options_;
  std::map<std::string, History, std::less<>> members_;
};

}  // namespace dynakv::cluster
