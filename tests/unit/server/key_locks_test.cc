// KeyLocks: read-modify-write commands on one key through one coordinator run one at a time, in
// arrival order, and a multi-key command is not overtaken forever.

#include "key_locks.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace dynakv::server {
namespace {

TEST_CASE("commands on different keys run at once; on the same key, in order") {
  KeyLocks locks;
  std::vector<std::string> ran;
  locks.Acquire({"a"}, [&] { ran.push_back("a1"); });
  locks.Acquire({"b"}, [&] { ran.push_back("b1"); });
  locks.Acquire({"a"}, [&] { ran.push_back("a2"); });
  locks.Acquire({"a"}, [&] { ran.push_back("a3"); });
  CHECK(ran == std::vector<std::string>{"a1", "b1"});
  CHECK(locks.waiting() == 2);

  locks.Release({"b"});
  CHECK(ran.size() == 2);
  locks.Release({"a"});
  CHECK(ran == std::vector<std::string>{"a1", "b1", "a2"});
  locks.Release({"a"});
  CHECK(ran.back() == "a3");
  locks.Release({"a"});
  CHECK(locks.held() == 0);
  CHECK(locks.waiting() == 0);
}

TEST_CASE("a waiting multi-key command holds back later commands on its keys") {
  KeyLocks locks;
  std::vector<std::string> ran;
  locks.Acquire({"a"}, [&] { ran.push_back("a"); });
  locks.Acquire({"a", "b"}, [&] { ran.push_back("ab"); });
  // "b" is free, but the waiting "ab" is queued for it: without this rule a stream of "b"
  // commands could keep "ab" waiting forever.
  locks.Acquire({"b"}, [&] { ran.push_back("b"); });
  locks.Acquire({"c"}, [&] { ran.push_back("c"); });
  CHECK(ran == std::vector<std::string>{"a", "c"});

  locks.Release({"a"});
  CHECK(ran == std::vector<std::string>{"a", "c", "ab"});
  locks.Release({"a", "b"});
  CHECK(ran.back() == "b");
  locks.Release({"b"});
  locks.Release({"c"});
  CHECK(locks.held() == 0);
}

TEST_CASE("one release can start several waiters") {
  KeyLocks locks;
  int started = 0;
  locks.Acquire({"x", "y"}, [&] { ++started; });
  locks.Acquire({"x"}, [&] { ++started; });
  locks.Acquire({"y"}, [&] { ++started; });
  CHECK(started == 1);
  locks.Release({"x", "y"});
  CHECK(started == 3);
  CHECK(locks.held() == 2);
}

}  // namespace
}  // namespace dynakv::server
