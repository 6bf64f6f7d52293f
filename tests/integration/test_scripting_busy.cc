// A script that runs past busy-reply-threshold, against the server under test and redis-server 7
// side by side: other clients (connected before, and new ones) get -BUSY, SCRIPT KILL stops a
// script that has not written and its caller gets the kill error, a script that wrote cannot be
// killed (UNKILLABLE) and runs to its end; afterwards the node serves as before. The transcripts
// of both servers must be the same.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using std::chrono::milliseconds;

namespace {

std::vector<std::string> Scenario(int port) {
  std::vector<std::string> transcript;
  auto note = [&](const std::string& what, const Reply& reply) {
    transcript.push_back(what + " -> " + dynakv::itest::ReplyText(reply));
  };
  Client before(port);  // connected before the script starts
  note("PING", before.Command({"PING"}));
  RawSocket caller(port);
  REQUIRE(caller.Send(EncodeCommand({"EVAL", "local i = 0 while true do i = i + 1 end", "0"})));
  std::this_thread::sleep_for(milliseconds(600));
  note("PING (connected before)", before.Command({"PING"}));
  Client fresh(port);  // accepted while the script runs
  note("GET (new connection)", fresh.Command({"GET", "x"}));
  note("SCRIPT KILL", fresh.Command({"SCRIPT", "KILL"}));
  const std::vector<Reply> killed = caller.ReadReplies(1, milliseconds(10000));
  REQUIRE(killed.size() == 1);
  note("the killed script", killed[0]);
  note("PING after", before.Command({"PING"}));
  note("SCRIPT KILL after", before.Command({"SCRIPT", "KILL"}));

  // A script that wrote runs to its end: about 1.5 s by the server's clock.
  REQUIRE(caller.Send(EncodeCommand(
      {"EVAL",
       "redis.call('set', 'w', '1') local t = redis.call('time') "
       "local stop = t[1] * 1000000 + t[2] + 1500000 "
       "repeat t = redis.call('time') until t[1] * 1000000 + t[2] >= stop return 'done'",
       "0"})));
  std::this_thread::sleep_for(milliseconds(600));
  note("SCRIPT KILL of a writer", before.Command({"SCRIPT", "KILL"}));
  note("GET while it runs", fresh.Command({"GET", "w"}));
  const std::vector<Reply> done = caller.ReadReplies(1, milliseconds(10000));
  REQUIRE(done.size() == 1);
  note("the writing script", done[0]);
  note("GET after", fresh.Command({"GET", "w"}));
  return transcript;
}

}  // namespace

TEST_CASE("a script past busy-reply-threshold: -BUSY, SCRIPT KILL, UNKILLABLE, as Redis 7") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  const dynakv::itest::Flags flags = {"--busy-reply-threshold", "200"};
  dynakv::itest::ReferencePair servers(flags, flags);
  auto& [ours, reference] = servers;
  const std::vector<std::string> expected = Scenario(reference.port());
  const std::vector<std::string> got = Scenario(ours.port());
  // What the reference answered is what the scenario is about.
  REQUIRE(expected.size() == 11);
  CHECK(expected[1].find("BUSY Redis is busy running a script") != std::string::npos);
  CHECK(expected[3].find("OK") != std::string::npos);
  CHECK(expected[4].find("Script killed by user with SCRIPT KILL") != std::string::npos);
  CHECK(expected[6].find("NOTBUSY") != std::string::npos);
  CHECK(expected[7].find("UNKILLABLE") != std::string::npos);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expected[i]);
  // The old name is the same setting.
  Client client(ours.port());
  CHECK(client.Command({"CONFIG", "SET", "lua-time-limit", "700"}) == Reply::Status("OK"));
  CHECK(client.Command({"CONFIG", "GET", "busy-reply-threshold"}) ==
        Reply::Bulks({"busy-reply-threshold", "700"}));
}
