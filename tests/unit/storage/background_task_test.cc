// BackgroundTask: the result crosses threads intact, the thread runs at the asked priority, and a
// Wait() on unfinished work gives the thread its normal priority back (where the kernel allows).
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "background_task.h"

namespace dynakv::storage {

namespace {

struct Observed {
  int policy_before = -1;  // while the owner had not waited yet
  int nice_before = 0;
  int policy_after = -1;   // once the owner was waiting
  int nice_after = 0;
};

// Runs a task that records its own scheduling before and after the owner starts to Wait().
Observed RunObserved(BackgroundPriority priority) {
  BackgroundTask<Observed> task;
  std::atomic<bool> observed_before{false};
  std::atomic<bool> owner_waiting{false};
  task.Start(
      [&] {
        Observed o;
        o.policy_before = sched_getscheduler(0);
        o.nice_before = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
        observed_before = true;
        while (!owner_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        // Wait() hastens before it joins; give it the moment it needs.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        o.policy_after = sched_getscheduler(0);
        o.nice_after = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
        return o;
      },
      priority);
  while (!observed_before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(task.running());
  CHECK_FALSE(task.done());
  owner_waiting = true;
  Observed o = task.Wait();
  CHECK_FALSE(task.running());
  return o;
}

// Whether this process may give a thread back a higher priority (root or CAP_SYS_NICE).
bool MayRaisePriority() {
  rlimit limit{};
  return geteuid() == 0 || (getrlimit(RLIMIT_NICE, &limit) == 0 && limit.rlim_cur >= 20);
}

}  // namespace

TEST_CASE("background task: idle priority while it runs alone, normal once the owner waits") {
  const Observed o = RunObserved(BackgroundPriority::kIdle);
  CHECK(o.policy_before == SCHED_IDLE);
  if (MayRaisePriority()) {
    CHECK(o.policy_after == SCHED_OTHER);
    CHECK(o.nice_after == 0);
  }
}

TEST_CASE("background task: auto is idle where the priority can be given back, else low") {
  CHECK(ResolveBackgroundPriority(BackgroundPriority::kAuto) ==
        (MayRaisePriority() ? BackgroundPriority::kIdle : BackgroundPriority::kLow));
  CHECK(ResolveBackgroundPriority(BackgroundPriority::kLow) == BackgroundPriority::kLow);
  const Observed o = RunObserved(BackgroundPriority::kAuto);
  CHECK(o.policy_before == (MayRaisePriority() ? SCHED_IDLE : SCHED_OTHER));
}

TEST_CASE("background task: low priority is nice 10, restored to 0 once the owner waits") {
  const Observed o = RunObserved(BackgroundPriority::kLow);
  CHECK(o.policy_before == SCHED_OTHER);
  CHECK(o.nice_before == 10);
  if (MayRaisePriority()) CHECK(o.nice_after == 0);
}

TEST_CASE("background task: normal priority is left alone; a finished task is not hastened") {
  const Observed o = RunObserved(BackgroundPriority::kNormal);
  CHECK(o.policy_before == SCHED_OTHER);
  CHECK(o.nice_before == 0);

  BackgroundTask<int> task;
  task.Start([] { return 42; }, BackgroundPriority::kIdle);
  while (!task.done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(task.Wait() == 42);
  // Reusable once waited for.
  task.Start([] { return 7; }, BackgroundPriority::kLow);
  CHECK(task.Wait() == 7);
}

}  // namespace dynakv::storage
