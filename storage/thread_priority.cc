#include "thread_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace dynakv::storage {

namespace {

constexpr int kLowNice = 10;

// Whether the kernel will let this process raise a thread back to nice 0 / SCHED_OTHER: root
// (assumed to hold CAP_SYS_NICE), or an RLIMIT_NICE that allows nice 0 (20 - 0).
bool MayRestorePriority() {
  rlimit limit{};
  return geteuid() == 0 || (getrlimit(RLIMIT_NICE, &limit) == 0 && limit.rlim_cur >= 20);
}

}  // namespace

BackgroundPriority ResolveBackgroundPriority(BackgroundPriority priority) {
  if (priority != BackgroundPriority::kAuto) return priority;
  static const bool may_restore = MayRestorePriority();
  return may_restore ? BackgroundPriority::kIdle : BackgroundPriority::kLow;
}

void SetCurrentThreadPriority(BackgroundPriority priority) {
  // On Linux both calls act on one thread when given its id (0: the caller).
  switch (ResolveBackgroundPriority(priority)) {
    case BackgroundPriority::kIdle: {
      const sched_param param{};
      (void)sched_setscheduler(0, SCHED_IDLE, &param);
      break;
    }
    case BackgroundPriority::kLow:
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kLowNice);
      break;
    case BackgroundPriority::kAuto:  // resolved above
    case BackgroundPriority::kNormal:
      break;
  }
}

bool RestoreThreadPriority(pid_t tid) {
  const sched_param param{};
  const bool policy_ok = sched_setscheduler(tid, SCHED_OTHER, &param) == 0;
  const bool nice_ok = setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 0) == 0;
  return policy_ok && nice_ok;
}

}  // namespace dynakv::storage
