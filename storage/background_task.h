// One piece of work run on its own thread, whose result the owner collects on its own thread:
// the pattern checkpoints and compactions share. The owner polls done() (from its periodic tick
// or after writes) and calls Wait() to join and take the result; Wait() before done() blocks,
// which is how the owner applies backpressure.
//
// The thread runs at a lower CPU priority (nice +kBackgroundNice, as RocksDB lowers its
// compaction pool): where it shares a core with the event loop it takes the time the loop leaves
// idle instead of stretching request latency. It cannot starve: when the owner needs the result
// it blocks in Wait(), and the core is then the task's. Not SCHED_IDLE, although that cut the
// p99 of 1 KB GETs after a write burst from 2.5 to 0.85 ms on a pinned core: it yields to every
// other process on the machine too, and with two busy neighbours the storage tests ran 9x slower
// (checkpoints the loop waits for barely ran).
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

namespace dynakv::storage {

template <typename Result>
class BackgroundTask {
 public:
  BackgroundTask() = default;
  ~BackgroundTask() {
    if (thread_.joinable()) thread_.join();
  }
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Not while running(). `work` must only touch what the owner leaves alone until Wait().
  void Start(std::function<Result()> work) {
    done_.store(false, std::memory_order_relaxed);
    thread_ = std::thread([this, work = std::move(work)] {
      // Best effort: a failure (e.g. a sandbox refusing it) leaves the normal priority.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
      result_ = work();
      done_.store(true, std::memory_order_release);
    });
  }
  bool running() const { return thread_.joinable(); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Joins the thread (blocking until the work is done) and hands over its result.
  Result Wait() {
    thread_.join();
    return std::exchange(result_, Result{});
  }

 private:
  static constexpr int kBackgroundNice = 10;

  std::thread thread_;
  std::atomic<bool> done_{false};
  Result result_{};
};

}  // namespace dynakv::storage
