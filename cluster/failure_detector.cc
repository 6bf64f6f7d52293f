#include "cluster/failure_detector.h"

#include <algorithm>
#include <cmath>

namespace dynakv::cluster {

const char* LivenessName(Liveness liveness) {
  switch (liveness) {
    case Liveness::kUp:
      return "up";
    case Liveness::kSuspect:
      return "suspect";
    case Liveness::kDown:
      return "down";
  }
  return "?";
}

void FailureDetector::Report(std::string_view id, std::int64_t now_ms) {
  auto it = members_.find(id);
  if (it == members_.end()) {
    members_.emplace(std::string(id), History{now_ms, {}, 0});
    return;
  }
  History& history = it->second;
  const std::int64_t interval = now_ms - history.last_ms;
  history.last_ms = std::max(history.last_ms, now_ms);
  // A gap as long as the down bound is an outage (or a partition), not the member's rhythm:
  // learning it would make the detector slow to notice the next failure. Two advances learned
  // in the same millisecond (from two gossipers) count as a 1 ms interval, not 0, so the mean
  // stays positive.
  if (interval < 0 || interval >= options_.down_after_ms) return;
  const std::int64_t sample = std::max<std::int64_t>(interval, 1);
  history.intervals.push_back(sample);
  history.sum += sample;
  while (history.intervals.size() > std::max<std::size_t>(options_.window_size, 1)) {
    history.sum -= history.intervals.front();
    history.intervals.pop_front();
  }
}

void FailureDetector::Restart(std::string_view id, std::int64_t now_ms) {
  Forget(id);
  Report(id, now_ms);
}

void FailureDetector::Forget(std::string_view id) {
  auto it = members_.find(id);
  if (it != members_.end()) members_.erase(it);
}

bool FailureDetector::Watching(std::string_view id) const { return members_.contains(id); }

double FailureDetector::Mean(const History& history) const {
  if (history.intervals.empty()) {
    return static_cast<double>(std::max<std::int64_t>(options_.bootstrap_interval_ms, 1));
  }
  const double measured =
      static_cast<double>(history.sum) / static_cast<double>(history.intervals.size());
  return std::max(measured, static_cast<double>(options_.min_interval_ms));
}

double FailureDetector::MeanIntervalMs(std::string_view id) const {
  auto it = members_.find(id);
  return it == members_.end() ? 0 : Mean(it->second);
}

std::int64_t FailureDetector::SilenceMs(std::string_view id, std::int64_t now_ms) const {
  auto it = members_.find(id);
  if (it == members_.end()) return -1;
  return std::max<std::int64_t>(now_ms - it->second.last_ms, 0);
}

double FailureDetector::Phi(std::string_view id, std::int64_t now_ms) const {
  auto it = members_.find(id);
  if (it == members_.end()) return 0;
  const double silence =
      static_cast<double>(std::max<std::int64_t>(now_ms - it->second.last_ms, 0));
  return silence / (Mean(it->second) * std::log(10.0));
}

Liveness FailureDetector::Evaluate(std::string_view id, std::int64_t now_ms) const {
  const std::int64_t silence = SilenceMs(id, now_ms);
  if (silence < 0 || silence >= options_.down_after_ms) return Liveness::kDown;
  return Phi(id, now_ms) > options_.phi_threshold ? Liveness::kSuspect : Liveness::kUp;
}

}  // namespace dynakv::cluster
