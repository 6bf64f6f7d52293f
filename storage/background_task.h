// One piece of work run on its own thread, whose result the owner collects on its own thread:
// the pattern checkpoints and compactions share. The owner polls done() (from its periodic tick
// or after writes) and calls Wait() to join and take the result; Wait() before done() blocks,
// which is how the owner applies backpressure.
//
// The thread runs at a lower CPU priority (thread_priority.h) so that, sharing a core with the
// event loop, it takes the time the loop leaves idle instead of stretching request latency. When
// the owner must wait for it, Wait() first asks for its normal priority back, so that a thread
// the owner is blocked on is not also starved by other processes.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "thread_priority.h"

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
  void Start(std::function<Result()> work, BackgroundPriority priority) {
    done_.store(false, std::memory_order_relaxed);
    tid_ = 0;
    hastened_ = false;
    thread_ = std::thread([this, priority, work = std::move(work)] {
      {
        // Under the lock, so a Wait() that came first is not undone.
        std::lock_guard<std::mutex> lock(priority_mu_);
        tid_ = gettid();
        if (!hastened_) SetCurrentThreadPriority(priority);
      }
      result_ = work();
      done_.store(true, std::memory_order_release);
    });
  }
  bool running() const { return thread_.joinable(); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Joins the thread (blocking until the work is done) and hands over its result.
  Result Wait() {
    if (!done()) Hasten();
    thread_.join();
    return std::exchange(result_, Result{});
  }
  // The owner will soon wait (writers are being slowed for it): normal priority from now on.
  void Hasten() {
    std::lock_guard<std::mutex> lock(priority_mu_);
    hastened_ = true;
    if (tid_ != 0) RestoreThreadPriority(tid_);
  }

 private:
  std::thread thread_;
  std::atomic<bool> done_{false};
  Result result_{};
  std::mutex priority_mu_;
  pid_t tid_ = 0;          // the thread's kernel id once it runs
  bool hastened_ = false;  // the owner waits: run at normal priority
};

}  // namespace dynakv::storage
