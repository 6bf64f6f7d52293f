// Writes MANIFESTs, and deletes the files each one makes obsolete, on a background thread, in the
// order they were committed. A MANIFEST write costs two fsyncs, and deleting a 64 MB log frees
// its blocks inside the unlink call: tens of milliseconds under write load, which the event loop
// must not wait for.
//
// The engine changes its in-memory state at once and commits the MANIFEST describing it here.
// Until that MANIFEST is durable the previous one rules, and every file it names still exists:
// files are deleted only after a MANIFEST that no longer needs them is durable. So a crash at any
// point recovers from a complete, consistent set of files. A failed write deletes nothing; the
// next commit describes the whole state again, and files left behind are removed at open.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "manifest.h"
#include "storage/status.h"

namespace dynakv::storage {

class ManifestWriter {
 public:
  explicit ManifestWriter(std::string dir);
  ~ManifestWriter();  // finishes what is queued
  ManifestWriter(const ManifestWriter&) = delete;
  ManifestWriter& operator=(const ManifestWriter&) = delete;

  // Queues `manifest`; once it is durable, the `obsolete` files are deleted. `done`, if set,
  // runs on the writer's thread after the write, whether it succeeded or not.
  void Commit(Manifest manifest, std::vector<std::string> obsolete,
              std::function<void()> done = nullptr);
  // Waits until everything committed so far is done. Returns the status of the last write.
  Status Wait();
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Commits are numbered from 1 in the order made (committed(): the last one's number, owner
  // thread only). durable(): the number of the last one written successfully; since each
  // MANIFEST describes the whole state, every commit up to it is durable in effect.
  std::uint64_t committed() const { return committed_; }
  std::uint64_t durable() const { return durable_.load(std::memory_order_acquire); }

 private:
  struct Job {
    std::uint64_t number = 0;
    Manifest manifest;
    std::vector<std::string> obsolete;
    std::function<void()> done;
  };
  void Loop();

  const std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool busy_ = false;      // guarded by mu_: a job is being worked on
  bool stop_ = false;      // guarded by mu_
  Status last_;            // guarded by mu_
  std::atomic<std::uint64_t> failures_{0};
  std::uint64_t committed_ = 0;
  std::atomic<std::uint64_t> durable_{0};
  std::thread thread_;
};

}  // namespace dynakv::storage
