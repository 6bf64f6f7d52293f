// Blocking sorted set pops (BZPOPMIN BZPOPMAX BZMPOP), each scenario run against the server under
// test and against redis-server 7 with the same steps: timeouts and bad timeouts, immediate pops,
// FIFO service of blocked clients woken by ZADD or a store, a disconnect while blocked, a ZADD
// that wakes no BLPOP waiter, and the RESP3 shapes. Replies must be the same on both servers.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "blocking_scenario.h"
#include "harness.h"


using Run = dynakv::itest::ScenarioRun;
using dynakv::itest::OnBoth;

TEST_CASE("blocking sorted set pops: timeouts, bad timeouts, immediate pops, RESP3 shapes") {
  OnBoth([](Run& r) {
    r.Note(r.Do({"BZPOPMIN", "none", "0.05"}));
    r.Note(r.Do({"BZPOPMIN", "none", "-1"}));
    r.Note(r.Do({"BZPOPMAX", "none", "abc"}));
    r.Note(r.Do({"BZMPOP", "0.05", "1", "none", "MIN"}));
    r.Note(r.Do({"BZMPOP", "0", "0", "none", "MIN"}));
    r.Note(r.Do({"BZMPOP", "0", "1", "none", "MID"}));
    r.Note(r.Do({"ZADD", "z", "1", "a", "2", "b", "3", "c"}));
    r.Note(r.Do({"SET", "s", "v"}));
    r.Note(r.Do({"BZPOPMIN", "none", "z", "0"}));
    r.Note(r.Do({"BZPOPMAX", "z", "0"}));
    r.Note(r.Do({"BZPOPMIN", "s", "z", "0"}));
    r.Note(r.Do({"BZMPOP", "0", "2", "none", "z", "MAX", "COUNT", "5"}));
    r.Note(r.Do({"EXISTS", "z"}));
    // RESP3: a timeout is a null, a pop's score a double.
    const std::size_t t = r.Send({"BZPOPMIN", "none", "0.05"}, true);
    r.Note(r.Raw(t, 3));
    r.Note(r.Do({"ZADD", "y", "1.5", "m"}));
    const std::size_t p = r.Send({"BZPOPMIN", "y", "0"}, true);
    r.Note(r.Raw(p, 24));
  });
}

TEST_CASE("blocked sorted set pops are served in FIFO order by ZADD and stores; BLPOP is not") {
  OnBoth([](Run& r) {
    const std::size_t a = r.Send({"BZPOPMIN", "q", "0"});
    r.AwaitBlocked(1);
    const std::size_t b = r.Send({"BZPOPMAX", "other", "q", "0"});
    r.AwaitBlocked(2);
    const std::size_t c = r.Send({"BZMPOP", "0", "1", "q", "MIN", "COUNT", "2"});
    r.AwaitBlocked(3);
    const std::size_t l = r.Send({"BLPOP", "q", "1"});
    r.AwaitBlocked(4);
    r.Note(r.Do({"ZADD", "q", "1", "x", "2", "y", "3", "z", "4", "w"}));
    r.Note(r.Reply1(a));
    r.Note(r.Reply1(b));
    r.Note(r.Reply1(c));
    r.Note(r.Do({"ZRANGE", "q", "0", "-1"}));
    r.Note(r.Reply1(l));  // a sorted set does not serve BLPOP: it times out
    // A store wakes a waiter too; one that disconnected is forgotten.
    const std::size_t gone = r.Send({"BZPOPMIN", "dst", "0"});
    r.AwaitBlocked(1);
    r.Close(gone);
    const std::size_t d = r.Send({"BZPOPMAX", "dst", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"ZADD", "src", "5", "p", "6", "q"}));
    r.Note(r.Do({"ZRANGESTORE", "dst", "src", "0", "-1"}));
    r.Note(r.Reply1(d));
    r.Note(r.Do({"ZRANGE", "dst", "0", "-1", "WITHSCORES"}));
  });
}
