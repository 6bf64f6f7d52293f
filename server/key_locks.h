// Per-key exclusion for the coordinator's read-modify-write commands. INCR through one node is
// a quorum read, then a quorum write of the new value; two such commands on the same key must
// not interleave (both would read 5 and write 6), so the second waits for the first. Waiters
// run in arrival order, and a waiter holds back later ones that share a key with it, so a
// multi-key command cannot starve.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

namespace dynakv::server {

class KeyLocks {
 public:
  // Runs `start` (now or from a later Release) once it holds every key in `keys`, which must be
  // distinct. `start` may call Release (of its own keys) and Acquire synchronously: both run
  // starts only once their own bookkeeping is done.
  void Acquire(std::vector<std::string> keys, std::function<void()> start);
  // Frees keys taken by Acquire and starts the waiters that can now run.
  void Release(const std::vector<std::string>& keys);

  std::size_t held() const { return held_.size(); }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct Waiter {
    std::vector<std::string> keys;
    std::function<void()> start;
  };

  bool Free(const std::vector<std::string>& keys,
            const std::unordered_set<std::string>& claimed) const;

  std::unordered_set<std::string> held_;
  std::deque<Waiter> waiting_;
};

}  // namespace dynakv::server
