// Blocking list commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP), each scenario run against the
// server under test and against redis-server 7 with the same steps: timeouts (fractional, 0 =
// forever, bad values), FIFO service among several blocked clients, a disconnect while blocked,
// wake-ups by another client's push, BLMOVE feeding a client blocked on its destination, and the
// RESP3 null of a timeout. Replies must be the same on both servers.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "blocking_scenario.h"
#include "harness.h"

using std::chrono::milliseconds;

using Run = dynakv::itest::ScenarioRun;
using dynakv::itest::OnBoth;

TEST_CASE("blocking pops time out as Redis's, and reject bad timeouts with its errors") {
  const auto transcript = OnBoth([](Run& r) {
    for (const char* timeout : {"abc", "-1", "-0.5", "1e30", "inf", "nan", ""}) {
      r.Note(r.Do({"BLPOP", "none", timeout}));
      r.Note(r.Do({"BLMOVE", "none", "other", "LEFT", "RIGHT", timeout}));
      r.Note(r.Do({"BLMPOP", timeout, "1", "none", "LEFT"}));
    }
    r.Note(r.Do({"BLMOVE", "none", "other", "UP", "RIGHT", "0"}));
    r.Note(r.Do({"BLMPOP", "0", "0", "none", "LEFT"}));
    r.Note(r.Do({"BLMPOP", "0", "1", "none", "LEFT", "COUNT", "0"}));
    r.Note(r.Do({"SET", "str", "v"}));
    r.Note(r.Do({"BLPOP", "none", "str", "0"}));  // WRONGTYPE at once
    r.Note(r.Do({"BRPOPLPUSH", "str", "x", "0"}));
    const auto start = std::chrono::steady_clock::now();
    r.Note(r.Do({"BLPOP", "none", "0.25"}));
    r.Note(r.Do({"BRPOP", "none", "none2", "0.1"}));
    r.Note(r.Do({"BLMOVE", "none", "other", "LEFT", "RIGHT", "0.1"}));
    r.Note(r.Do({"BRPOPLPUSH", "none", "other", "0.1"}));
    r.Note(r.Do({"BLMPOP", "0.1", "2", "none", "none2", "RIGHT", "COUNT", "3"}));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    r.Note(elapsed >= milliseconds(600) && elapsed < milliseconds(3000) ? "waited" : "wrong wait");
    // RESP3: a timeout is a null.
    const std::size_t c = r.Send({"BLPOP", "none", "0.05"}, true);
    r.Note(r.Raw(c, 3));
    const std::size_t d = r.Send({"BLMOVE", "none", "x", "LEFT", "LEFT", "0.05"}, true);
    r.Note(r.Raw(d, 3));
    // Data present: no wait at all.
    r.Note(r.Do({"RPUSH", "full", "a", "b", "c", "d"}));
    r.Note(r.Do({"BLPOP", "none", "full", "0"}));
    r.Note(r.Do({"BRPOP", "full", "0"}));
    r.Note(r.Do({"BLMPOP", "0", "2", "none", "full", "LEFT", "COUNT", "5"}));
    r.Note(r.Do({"EXISTS", "full"}));
  });
  std::string text;
  for (const std::string& line : transcript) text += "\n    " + line;
  CAPTURE(text);
  CHECK(transcript.size() > 30);
  CHECK(std::find(transcript.begin(), transcript.end(), "waited") != transcript.end());
}

TEST_CASE("blocked clients are served in FIFO order per key, after the pushing command") {
  const auto transcript = OnBoth([](Run& r) {
    const std::size_t a = r.Send({"BLPOP", "q", "0"});
    r.AwaitBlocked(1);
    const std::size_t b = r.Send({"BRPOP", "other", "q", "0"});
    r.AwaitBlocked(2);
    const std::size_t c = r.Send({"BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2"});
    r.AwaitBlocked(3);
    // One push of two elements: the first two waiters get one each, in the order they came.
    r.Note(r.Do({"RPUSH", "q", "x", "y"}));
    r.Note(r.Reply1(a));
    r.Note(r.Reply1(b));
    r.AwaitBlocked(1);
    r.Note(r.Do({"LPUSH", "q", "z", "w", "v"}));
    r.Note(r.Reply1(c));
    r.Note(r.Do({"LRANGE", "q", "0", "-1"}));
    r.AwaitBlocked(0);
    // A push to another key wakes a client blocked on several keys with that key.
    const std::size_t d = r.Send({"BLPOP", "k1", "k2", "k3", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"RPUSH", "k3", "three"}));
    r.Note(r.Reply1(d));
    r.Note(r.Do({"DEL", "q"}));
  });
  const std::vector<std::string> served = {"blocked=3", "(integer) 2", R"(["q", "x"])",
                                           R"(["q", "y"])"};
  CHECK(std::search(transcript.begin(), transcript.end(), served.begin(), served.end()) !=
        transcript.end());
}

TEST_CASE("a client that disconnects while blocked is forgotten; its element goes elsewhere") {
  OnBoth([](Run& r) {
    const std::size_t gone = r.Send({"BLPOP", "q", "0"});
    r.AwaitBlocked(1);
    const std::size_t stays = r.Send({"BRPOP", "q", "0"});
    r.AwaitBlocked(2);
    r.Close(gone);
    r.AwaitBlocked(1);
    r.Note(r.Do({"RPUSH", "q", "a", "b"}));
    r.Note(r.Reply1(stays));
    r.Note(r.Do({"LRANGE", "q", "0", "-1"}));
    r.AwaitBlocked(0);
    // A timeout still pending when its client closes does nothing afterwards.
    const std::size_t timed = r.Send({"BLPOP", "t", "0.2"});
    r.AwaitBlocked(1);
    r.Close(timed);
    r.AwaitBlocked(0);
    r.Note(r.Do({"RPUSH", "t", "kept"}));
    r.Note(r.Do({"LRANGE", "t", "0", "-1"}));
  });
}

TEST_CASE("BLMOVE wakes on a push by another client, and its push wakes a client on the target") {
  const auto transcript = OnBoth([](Run& r) {
    const std::size_t mover = r.Send({"BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"});
    r.AwaitBlocked(1);
    const std::size_t popper = r.Send({"BLPOP", "dst", "0"});
    r.AwaitBlocked(2);
    r.Note(r.Do({"RPUSH", "src", "a", "b"}));
    r.Note(r.Reply1(mover));
    r.Note(r.Reply1(popper));
    r.AwaitBlocked(0);
    r.Note(r.Do({"LRANGE", "src", "0", "-1"}));
    r.Note(r.Do({"EXISTS", "dst"}));
    // BRPOPLPUSH onto itself rotates once data comes.
    const std::size_t rot = r.Send({"BRPOPLPUSH", "ring", "ring", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"RPUSH", "ring", "1", "2", "3"}));
    r.Note(r.Reply1(rot));
    r.Note(r.Do({"LRANGE", "ring", "0", "-1"}));
    // A blocked client's next request waits behind it, then runs.
    const std::size_t queued = r.Send({"BLPOP", "later", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"LPUSHX", "later", "nothing"}));  // LPUSHX on a missing key wakes no one
    r.Note(r.Do({"LPUSH", "later", "now"}));
    r.Note(r.Reply1(queued));
    // A list arriving by RENAME or COPY wakes clients blocked on the new name too.
    const std::size_t renamed = r.Send({"BLPOP", "target", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"RPUSH", "staging", "s1", "s2"}));
    r.Note(r.Do({"RENAME", "staging", "target"}));
    r.Note(r.Reply1(renamed));
    r.Note(r.Do({"LRANGE", "target", "0", "-1"}));
    const std::size_t copied = r.Send({"BRPOP", "copy", "0"});
    r.AwaitBlocked(1);
    r.Note(r.Do({"SET", "copy-src-str", "v"}));
    r.Note(r.Do({"COPY", "copy-src-str", "copy"}));  // a string wakes no one
    r.Note(r.Do({"DEL", "copy"}));
    r.Note(r.Do({"COPY", "target", "copy"}));
    r.Note(r.Reply1(copied));
    r.AwaitBlocked(0);
  });
  const std::vector<std::string> served = {"(integer) 2", R"("b")", R"(["dst", "b"])"};
  CHECK(std::search(transcript.begin(), transcript.end(), served.begin(), served.end()) !=
        transcript.end());
}
