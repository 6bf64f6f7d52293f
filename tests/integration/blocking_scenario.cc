#include "blocking_scenario.h"

#include <doctest/doctest.h>

#include <sstream>

#include "harness.h"

namespace dynakv::itest {

using std::chrono::milliseconds;

namespace {

std::string Str(const Reply& r) {
  std::ostringstream out;
  out << r;
  return out.str();
}

}  // namespace

std::size_t ScenarioRun::Send(const std::vector<std::string>& argv, bool resp3) {
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

void ScenarioRun::AwaitBlocked(long long n) {
  const bool reached =
      WaitFor([&] { return ReadInfoNumber(control_, "clients", "blocked_clients") == n; },
              std::chrono::seconds(5));
  Note("blocked=" + std::to_string(reached ? n : -1));
}

std::string ScenarioRun::Reply1(std::size_t i, milliseconds wait) {
  std::vector<Reply> replies = sockets_[i]->ReadReplies(1, wait);
  return replies.empty() ? "none" : Str(replies.front());
}

std::string ScenarioRun::Raw(std::size_t i, std::size_t bytes) {
  return sockets_[i]->ReadBytes(bytes, milliseconds(3000));
}

void ScenarioRun::Close(std::size_t i) { sockets_[i]->Close(); }

std::string ScenarioRun::Do(const std::vector<std::string>& argv) {
  return Str(control_.Command(argv));
}

std::vector<std::string> OnBoth(Scenario scenario) {
  ServerProcess ours(Flags{});
  ours.Start();
  ScenarioRun a(ours.port());
  scenario(a);
  const std::string redis = ReferenceRedis();
  if (redis.empty() || TestingRealRedis()) {
    MESSAGE("not compared: needs redis-server installed and a different server under test");
    return a.transcript();
  }
  ServerProcess reference(Flags{}, redis);
  reference.Start();
  ScenarioRun b(reference.port());
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

}  // namespace dynakv::itest
