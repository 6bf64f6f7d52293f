// Write pacing: slows writers down smoothly while the disk is behind, instead of stopping them
// all at once when the commit log reaches its stall size (engine_checkpoint.cc).
//
// The disk is behind when the next checkpoint is due while the previous one still runs. From
// then on (fraction 0) until the log reaches its stall size (fraction 1) logged bytes may go at
// min_rate / fraction bytes per second: the allowed rate falls from unbounded to min_rate as the
// log grows, a proportional controller that settles where writes come in as fast as the
// checkpoint drains them. It is a token bucket (RocksDB's delayed-write rate): each write moves a
// virtual clock on by bytes / rate, and the writer sleeps only while that clock is ahead of the
// real one, so a writer already slower than the rate (a busy machine, a sleep that overslept) is
// not slowed further. Sleeps last at least kMinSleep (each costs a context switch; RocksDB sleeps
// in 1 ms steps too) and at most kMaxSleep (one huge value must not stop the owner for seconds:
// the stall size still bounds the log).
// On a shared core the sleeps are what lets the checkpoint run at all (it runs at idle priority:
// thread_priority.h), so the waits are spread over every write as short ones rather than piled
// into one wait for the whole checkpoint at the stall size, which was the p99 of large writes.
#pragma once

#include <chrono>
#include <cstdint>

namespace dynakv::storage {

class WritePacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::microseconds kMinSleep{1000};
  static constexpr std::chrono::microseconds kMaxSleep{20000};

  // `min_rate`: bytes per second at fraction 1; 0 turns pacing off.
  explicit WritePacer(std::uint64_t min_rate = 0) : min_rate_(min_rate) {}
  void set_min_rate(std::uint64_t min_rate) { min_rate_ = min_rate; }

  // `bytes` were appended at `now`, at `fraction` (clamped to [0, 1]) of the way from the pacing
  // start to the stall size. Returns how long the writer should sleep now (often zero).
  std::chrono::microseconds Owe(std::uint64_t bytes, double fraction, Clock::time_point now);
  // The disk caught up (the pacing zone was left): the next write starts a fresh bucket.
  void Reset() { paid_until_ = Clock::time_point{}; }

 private:
  std::uint64_t min_rate_;
  // The virtual clock: when the bytes written so far may have been written at the allowed rate.
  Clock::time_point paid_until_{};
};

}  // namespace dynakv::storage
