#include "manifest_writer.h"

#include "file_util.h"

namespace dynakv::storage {

ManifestWriter::ManifestWriter(std::string dir) : dir_(std::move(dir)) {
  thread_ = std::thread([this] { Loop(); });
}

ManifestWriter::~ManifestWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ManifestWriter::Commit(Manifest manifest, std::vector<std::string> obsolete,
                            std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Job{++committed_, std::move(manifest), std::move(obsolete), std::move(done)});
  }
  cv_.notify_all();
}

Status ManifestWriter::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
  return last_;
}

void ManifestWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Status s = WriteManifest(dir_, job.manifest);
    if (s.ok()) {
      // Failing to delete leaves garbage that the next open removes, nothing worse.
      for (const std::string& path : job.obsolete) RemoveFile(path);
      durable_.store(job.number, std::memory_order_release);
    } else {
      failures_.fetch_add(1, std::memory_order_relaxed);
    }
    if (job.done) job.done();
    lock.lock();
    last_ = std::move(s);
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace dynakv::storage
