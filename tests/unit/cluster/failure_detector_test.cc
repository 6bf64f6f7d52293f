#include "cluster/failure_detector.h"

#include <doctest/doctest.h>

#include <cmath>

namespace dynakv::cluster {
namespace {

FailureDetectorOptions Options(double threshold = 8, std::int64_t down_after_ms = 5000) {
  FailureDetectorOptions options;
  options.phi_threshold = threshold;
  options.down_after_ms = down_after_ms;
  options.bootstrap_interval_ms = 1000;
  options.window_size = 10;
  return options;
}

// Heartbeats for `id` every `interval` ms from `start`, `count` of them; returns the last time.
std::int64_t Beat(FailureDetector& detector, const std::string& id, std::int64_t start,
                  std::int64_t interval, int count) {
  std::int64_t t = start;
  for (int i = 0; i < count; ++i, t += interval) detector.Report(id, t);
  return t - interval;
}

TEST_CASE("failure detector: an unknown member is down; a new one is up from its first report") {
  FailureDetector detector(Options());
  CHECK(detector.Evaluate("x", 0) == Liveness::kDown);
  CHECK(detector.Phi("x", 0) == 0);
  CHECK(detector.SilenceMs("x", 0) == -1);
  CHECK_FALSE(detector.Watching("x"));

  detector.Report("x", 10'000);
  CHECK(detector.Watching("x"));
  CHECK(detector.Evaluate("x", 10'000) == Liveness::kUp);
  CHECK(detector.Phi("x", 10'000) == 0);
  // Until an interval is measured, phi is scaled by the bootstrap interval.
  CHECK(detector.MeanIntervalMs("x") == 1000);
  CHECK(detector.Phi("x", 11'000) == doctest::Approx(1 / std::log(10.0)));
}

TEST_CASE("failure detector: phi follows the exponential model of the mean interval") {
  FailureDetector detector(Options());
  const std::int64_t last = Beat(detector, "x", 0, 100, 11);  // ten intervals of 100 ms
  CHECK(detector.MeanIntervalMs("x") == 100);
  CHECK(detector.Phi("x", last + 100) == doctest::Approx(100 / (100 * std::log(10.0))));
  // phi 8 = 8 * ln(10) mean intervals = 1842 ms of silence.
  CHECK(detector.Evaluate("x", last + 1800) == Liveness::kUp);
  CHECK(detector.Evaluate("x", last + 1900) == Liveness::kSuspect);
  CHECK(detector.Phi("x", last + 1900) > 8);
  // A heartbeat clears the suspicion.
  detector.Report("x", last + 1950);
  CHECK(detector.Evaluate("x", last + 1950) == Liveness::kUp);
}

TEST_CASE("failure detector: down after the hard bound whatever phi says") {
  // A threshold so high phi alone would never suspect.
  FailureDetector detector(Options(1e9, 3000));
  const std::int64_t last = Beat(detector, "x", 0, 100, 5);
  CHECK(detector.Evaluate("x", last + 2999) == Liveness::kUp);
  CHECK(detector.Evaluate("x", last + 3000) == Liveness::kDown);
  CHECK(detector.SilenceMs("x", last + 3000) == 3000);
  detector.Report("x", last + 3500);
  CHECK(detector.Evaluate("x", last + 3500) == Liveness::kUp);
}

TEST_CASE("failure detector: suspicion adapts to each member's rhythm") {
  FailureDetector detector(Options(3));
  Beat(detector, "fast", 0, 50, 11);
  Beat(detector, "slow", 0, 400, 11);
  // At the same silence, the member that usually beats often is the suspicious one.
  const std::int64_t fast_last = 500, slow_last = 4000;
  CHECK(detector.Evaluate("fast", fast_last + 400) == Liveness::kSuspect);
  CHECK(detector.Evaluate("slow", slow_last + 400) == Liveness::kUp);
  CHECK(detector.Phi("fast", fast_last + 400) > detector.Phi("slow", slow_last + 400));
}

TEST_CASE("failure detector: an outage is not learned as the member's rhythm") {
  FailureDetector detector(Options(8, 2000));
  std::int64_t last = Beat(detector, "x", 0, 100, 6);
  CHECK(detector.MeanIntervalMs("x") == 100);
  // Silent for longer than the down bound, then back.
  last += 10'000;
  detector.Report("x", last);
  CHECK(detector.MeanIntervalMs("x") == 100);
  CHECK(detector.Evaluate("x", last + 1) == Liveness::kUp);
  // A just-shorter gap does count.
  detector.Report("x", last + 1999);
  CHECK(detector.MeanIntervalMs("x") > 100);
}

TEST_CASE("failure detector: the window keeps only the latest intervals") {
  FailureDetector detector(Options());  // window of 10
  const std::int64_t last = Beat(detector, "x", 0, 1000, 11);
  CHECK(detector.MeanIntervalMs("x") == 1000);
  Beat(detector, "x", last + 10, 10, 10);  // ten 10 ms intervals replace the ten 1000 ms ones
  CHECK(detector.MeanIntervalMs("x") == 10);
}

TEST_CASE("failure detector: same-millisecond reports and a clock going back stay sane") {
  FailureDetector detector(Options());
  detector.Report("x", 1000);
  detector.Report("x", 1000);  // two gossipers reported the same advance at once
  CHECK(detector.MeanIntervalMs("x") == 1);
  detector.Report("x", 900);  // out of order: ignored as a sample, not a step back
  CHECK(detector.SilenceMs("x", 1000) == 0);
  CHECK(detector.Phi("x", 950) == 0);
  CHECK(std::isfinite(detector.Phi("x", 1'000'000)));
}

TEST_CASE("failure detector: bursts of learned advances do not shrink the mean below the floor") {
  FailureDetectorOptions options = Options();
  options.min_interval_ms = 200;
  FailureDetector detector(options);
  // One advance learned through several gossip paths a few ms apart, as while views converge.
  const std::int64_t last = Beat(detector, "x", 0, 2, 6);
  CHECK(detector.MeanIntervalMs("x") == 200);
  // phi 8 needs 8 * ln(10) * 200 ms = 3684 ms of silence, not 37 ms.
  CHECK(detector.Evaluate("x", last + 500) == Liveness::kUp);
  CHECK(detector.Evaluate("x", last + 3700) == Liveness::kSuspect);
  // A measured mean above the floor is used as is.
  Beat(detector, "x", last + 400, 400, 11);
  CHECK(detector.MeanIntervalMs("x") == 400);
}

TEST_CASE("failure detector: a restart forgets the previous process's history") {
  FailureDetector detector(Options());
  const std::int64_t last = Beat(detector, "x", 0, 10, 11);
  CHECK(detector.MeanIntervalMs("x") == 10);
  detector.Restart("x", last + 100);
  CHECK(detector.MeanIntervalMs("x") == 1000);  // the bootstrap interval again
  CHECK(detector.Evaluate("x", last + 200) == Liveness::kUp);
  detector.Forget("x");
  CHECK_FALSE(detector.Watching("x"));
  CHECK(detector.Evaluate("x", last + 200) == Liveness::kDown);
  CHECK(std::string(LivenessName(Liveness::kSuspect)) == "suspect");
}

}  // namespace
}  // namespace dynakv::cluster
