// WritePacer: a token bucket whose rate falls as the log nears its stall size; the writer sleeps
// only while the bytes it wrote are ahead of that rate, between kMinSleep and kMaxSleep.
#include "write_pacer.h"

#include <doctest/doctest.h>

namespace dynakv::storage {

using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {
const WritePacer::Clock::time_point kT0 = WritePacer::Clock::time_point{} + std::chrono::hours(1);
}

TEST_CASE("write pacer: nothing is owed at the start of the zone or with pacing off") {
  WritePacer off(0);
  CHECK(off.Owe(1u << 30, 1.0, kT0) == microseconds(0));
  WritePacer pacer(1'000'000);  // 1 MB/s at the stall size
  CHECK(pacer.Owe(1u << 20, 0.0, kT0) == microseconds(0));
  CHECK(pacer.Owe(1u << 20, -0.5, kT0) == microseconds(0));
}

TEST_CASE("write pacer: a writer ahead of the rate sleeps until the rate catches up") {
  WritePacer pacer(1'000'000);
  // 100 bytes at fraction 1 cost 100 us: the tenth such write at the same instant sleeps 1 ms.
  for (int i = 0; i < 9; ++i) CHECK(pacer.Owe(100, 1.0, kT0) == microseconds(0));
  CHECK(pacer.Owe(100, 1.0, kT0) == microseconds(1000));
  // After that sleep the bucket is even: halfway into the zone bytes cost half as much.
  const auto t1 = kT0 + milliseconds(1);
  for (int i = 0; i < 19; ++i) CHECK(pacer.Owe(100, 0.5, t1) == microseconds(0));
  CHECK(pacer.Owe(100, 0.5, t1) == microseconds(1000));
  // Past the stall size counts as the stall size.
  const auto t2 = t1 + milliseconds(1);
  for (int i = 0; i < 9; ++i) CHECK(pacer.Owe(100, 3.0, t2) == microseconds(0));
  CHECK(pacer.Owe(100, 3.0, t2) == microseconds(1000));
}

TEST_CASE("write pacer: a writer slower than the rate is not slowed, and idle time is no credit") {
  WritePacer pacer(1'000'000);
  // 500 bytes every millisecond is half the rate: never a sleep, however long it goes on.
  for (int i = 0; i < 100; ++i)
    CHECK(pacer.Owe(500, 1.0, kT0 + milliseconds(i)) == microseconds(0));
  // After a long pause a burst pays from the moment it starts, not from the pause's credit.
  const auto later = kT0 + std::chrono::seconds(10);
  for (int i = 0; i < 9; ++i) CHECK(pacer.Owe(100, 1.0, later) == microseconds(0));
  CHECK(pacer.Owe(100, 1.0, later) == microseconds(1000));
  // A sleep that overslept (woken 5 ms late) leaves the writer behind: the next write is free.
  CHECK(pacer.Owe(900, 1.0, later + milliseconds(6)) == microseconds(0));
}

TEST_CASE("write pacer: one huge write sleeps kMaxSleep at most and the rest is forgiven") {
  WritePacer pacer(1'000'000);
  CHECK(pacer.Owe(10'000'000, 1.0, kT0) == WritePacer::kMaxSleep);  // 10 s owed
  const auto after = kT0 + WritePacer::kMaxSleep;
  CHECK(pacer.Owe(100, 1.0, after) == microseconds(0));  // starts afresh
}

TEST_CASE("write pacer: Reset starts a fresh bucket") {
  WritePacer pacer(1'000'000);
  CHECK(pacer.Owe(900, 1.0, kT0) == microseconds(0));
  pacer.Reset();
  CHECK(pacer.Owe(900, 1.0, kT0) == microseconds(0));
  CHECK(pacer.Owe(200, 1.0, kT0) == microseconds(1100));
}

}  // namespace dynakv::storage
