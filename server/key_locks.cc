#include "key_locks.h"

namespace dynakv::server {

bool KeyLocks::Free(const std::vector<std::string>& keys,
                    const std::unordered_set<std::string>& claimed) const {
  for (const std::string& key : keys) {
    if (held_.contains(key) || claimed.contains(key)) return false;
  }
  return true;
}

void KeyLocks::Acquire(std::vector<std::string> keys, std::function<void()> start) {
  std::unordered_set<std::string> claimed;  // keys earlier waiters are queued for
  for (const Waiter& waiter : waiting_) claimed.insert(waiter.keys.begin(), waiter.keys.end());
  if (!Free(keys, claimed)) {
    waiting_.push_back(Waiter{std::move(keys), std::move(start)});
    return;
  }
  held_.insert(keys.begin(), keys.end());
  start();
}

void KeyLocks::Release(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) held_.erase(key);
  std::vector<std::function<void()>> ready;
  std::unordered_set<std::string> claimed;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (Free(it->keys, claimed)) {
      held_.insert(it->keys.begin(), it->keys.end());
      ready.push_back(std::move(it->start));
      it = waiting_.erase(it);
    } else {
      claimed.insert(it->keys.begin(), it->keys.end());
      ++it;
    }
  }
  // Started only once the queue is consistent again.
  for (auto& start : ready) start();
}

}  // namespace dynakv::server
