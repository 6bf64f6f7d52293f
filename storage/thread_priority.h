// CPU priority of the storage engine's background threads (checkpoints, compactions).
//
// They share cores with the event loop, and their work is never what a request waits for until
// the engine blocks on it. At kIdle (SCHED_IDLE) the kernel preempts them the moment the loop
// wakes; at kLow (nice +10) it may let them run to the next scheduler tick first: on kernels with
// lazy preemption (Linux 6.13+) that is up to 4 ms, which was the p99 of GETs served during a
// compaction (16 KB GET -P 1: p99 4.4 ms at kLow, 0.85 ms at kIdle, throughput +20%).
// kIdle's price: next to other busy processes an idle-policy thread barely runs, so an engine
// that must wait for one asks the kernel to give it normal priority back (BackgroundTask::Wait).
// Only a privileged process (root, or a RLIMIT_NICE of 20) may; kAuto therefore means kIdle only
// there, and kLow otherwise, where a starved thread would hold its waiter until the core frees.
// RocksDB offers the same choice (Env::CpuPriority).
#pragma once

#include <sys/types.h>

#include "storage/options.h"

namespace dynakv::storage {

// kAuto made concrete for this process; other values as they are.
BackgroundPriority ResolveBackgroundPriority(BackgroundPriority priority);

// Applies `priority` to the calling thread. Best effort: a refusal leaves it as it was.
void SetCurrentThreadPriority(BackgroundPriority priority);

// Gives thread `tid` (of this process) normal priority back; false when the kernel refuses.
bool RestoreThreadPriority(pid_t tid);

}  // namespace dynakv::storage
