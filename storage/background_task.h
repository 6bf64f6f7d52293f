// One piece of work run on its own thread, whose result the owner collects on its own thread:
// the pattern checkpoints and compactions share. The owner polls done() (from its periodic tick
// or after writes) and calls Wait() to join and take the result; Wait() before done() blocks,
// which is how the owner applies backpressure.
#pragma once

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
  std::thread thread_;
  std::atomic<bool> done_{false};
  Result result_{};
};

}  // namespace dynakv::storage
