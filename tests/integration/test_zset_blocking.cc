// Blocking sorted set pops (BZPOPMIN BZPOPMAX BZMPOP), each scenario run against the server under
// test and against redis-server 7 with the same steps: timeouts and bad timeouts, immediate pops,
// FIFO service of blocked clients woken by ZADD or a store, a disconnect while blocked, a ZADD
// that wakes no BLPOP waiter, and the RESP3 shapes. Replies must be the same on both servers.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::Flags;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::WaitFor;
using std::chrono::milliseconds;

namespace {

std::string Str(const Reply& r) {
  std::ostringstream out;
  out << r;
  return out.str();
}

// One server and what the scenario saw on it, step by step.
class Run {
 public:
  explicit Run(int port) : port_(port), control_(port) {}

  // Sends a command on a new connection without waiting for its reply; returns its index.
  std::size_t Send(const std::vector<std::string>& argv, bool resp3 = false) {
    auto socket = std::make_unique<RawSocket>(port_);
    if (resp3) {
      REQUIRE(socket->Send(EncodeCommand({"HELLO", "3"})));
      socket->ReadUntil("proto", milliseconds(2000));
      socket->ReadUntil("modules", milliseconds(2000));
      socket->ReadBytes(4, milliseconds(2000));  // "*0\r\n": the end of HELLO's reply
    }
    REQUIRE(socket->Send(EncodeCommand(argv)));
    sockets_.push_back(std::move(socket));
    return sockets_.size() - 1;
  }
  // Waits until `n` clients are blocked (INFO), as seen by both servers the same way.
  void AwaitBlocked(long long n) {
    const bool reached =
        WaitFor([&] { return ReadInfoNumber(control_, "clients", "blocked_clients") == n; },
                std::chrono::seconds(5));
    Note("blocked=" + std::to_string(reached ? n : -1));
  }
  // The reply of connection `i` (or "none" if nothing came within `wait`).
  std::string Reply1(std::size_t i, milliseconds wait = milliseconds(3000)) {
    std::vector<Reply> replies = sockets_[i]->ReadReplies(1, wait);
    return replies.empty() ? "none" : Str(replies.front());
  }
  std::string Raw(std::size_t i, std::size_t bytes) {
    return sockets_[i]->ReadBytes(bytes, milliseconds(3000));
  }
  void Close(std::size_t i) { sockets_[i]->Close(); }
  std::string Do(const std::vector<std::string>& argv) { return Str(control_.Command(argv)); }
  void Note(const std::string& s) { transcript_.push_back(s); }
  const std::vector<std::string>& transcript() const { return transcript_; }

 private:
  int port_;
  Client control_;
  std::vector<std::unique_ptr<RawSocket>> sockets_;
  std::vector<std::string> transcript_;
};

using Scenario = void (*)(Run&);

// Runs `scenario` on both servers; the transcripts must be equal. Returns ours.
std::vector<std::string> OnBoth(Scenario scenario) {
  ServerProcess ours(Flags{});
  ours.Start();
  Run a(ours.port());
  scenario(a);
  const std::string redis = dynakv::itest::ReferenceRedis();
  if (redis.empty() || dynakv::itest::TestingRealRedis()) {
    MESSAGE("not compared: needs redis-server installed and a different server under test");
    return a.transcript();
  }
  ServerProcess reference(Flags{}, redis);
  reference.Start();
  Run b(reference.port());
  scenario(b);
  if (a.transcript() != b.transcript()) {
    std::string ours_text;
    std::string redis_text;
    for (const std::string& line : a.transcript()) ours_text += "\n    " + line;
    for (const std::string& line : b.transcript()) redis_text += "\n    " + line;
    CAPTURE(ours_text);
    CAPTURE(redis_text);
    CHECK(a.transcript() == b.transcript());
  }
  return a.transcript();
}

}  // namespace

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
