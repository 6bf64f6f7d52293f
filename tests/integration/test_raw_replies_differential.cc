// Byte-for-byte replies and messages against redis-server 7, where hiredis would blur them: the
// RESTORE keyspace events, the null ARRAY (*-1, not $-1) of BLMOVE and BRPOPLPUSH timing out in
// RESP2, and PUBLISH/SUBSCRIBE queued in MULTI (and EXEC refused on a subscribed connection).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "pubsub_pair.h"
#include "reference_pair.h"

using dynakv::itest::PubSubPair;
using dynakv::itest::RawSocket;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferencePair;

namespace {

// The payload of a RESP2 bulk frame ("$<n>\r\n<payload>\r\n").
std::string BulkPayload(const std::string& frame) {
  const std::size_t start = frame.find("\r\n") + 2;
  return frame.substr(start, frame.size() - start - 2);
}

// Sends `commands` pipelined, then a PING with the marker `tag`, and returns every byte that
// came back up to the marker's reply: queued commands and EXEC's arrays as they are, unlike a
// PubSubPair step whose own PING would be queued in MULTI.
std::string RunRaw(RawSocket& socket, const std::vector<std::vector<std::string>>& commands,
                   const std::string& tag) {
  std::string bytes;
  for (const auto& argv : commands) bytes += dynakv::itest::EncodeCommand(argv);
  bytes += dynakv::itest::EncodeCommand({"PING", tag});
  REQUIRE(socket.Send(bytes));
  std::string out = socket.ReadUntil(tag, std::chrono::seconds(10));
  REQUIRE(out.ends_with(tag));
  return out;
}

// Runs the same commands on connection `conn` of both servers, then drains every listener;
// everything each one got must be byte for byte Redis's.
struct RawPair {
  RawPair(int ours_port, int reference_port, const std::vector<int>& protocols) {
    for (int protocol : protocols) {
      ours.push_back(std::make_unique<RawSocket>(ours_port));
      reference.push_back(std::make_unique<RawSocket>(reference_port));
      if (protocol == 3) {
        RunRaw(*ours.back(), {{"HELLO", "3"}}, "hello");
        RunRaw(*reference.back(), {{"HELLO", "3"}}, "hello");
      }
    }
  }
  void Run(std::size_t conn, const std::vector<std::vector<std::string>>& commands) {
    std::string script;
    for (const auto& argv : commands) script += dynakv::itest::DescribeCommand(argv) + "; ";
    CAPTURE(script);
    const std::string tag = "raw-marker-" + std::to_string(++marker);
    const std::string want = RunRaw(*reference[conn], commands, tag);
    const std::string got = RunRaw(*ours[conn], commands, tag);
    CHECK(got == want);
    for (std::size_t other = 0; other < ours.size(); ++other) {
      if (other == conn) continue;
      CAPTURE(other);
      const std::string other_want = RunRaw(*reference[other], {}, tag);
      const std::string other_got = RunRaw(*ours[other], {}, tag);
      CHECK(other_got == other_want);
    }
  }
  std::vector<std::unique_ptr<RawSocket>> ours;
  std::vector<std::unique_ptr<RawSocket>> reference;
  int marker = 0;
};

}  // namespace

TEST_CASE("RESTORE fires restore (class g), and del when REPLACE meets an expired TTL") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), {2, 2, 3});
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  pair.Step(2, {"SUBSCRIBE", "__keyevent@0__:restore", "__keyspace@0__:k"});
  pair.Step(0, {"RPUSH", "src", "a", "b", "c"});
  pair.Step(0, {"DUMP", "src"});
  REQUIRE(!pair.LastReference(0).empty());
  const std::string payload = BulkPayload(pair.LastReference(0).front());
  for (const char* classes : {"KEA", "Eg", "Kg", "El", "KEg"}) {
    pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", classes});
    pair.Step(0, {"RESTORE", "k", "0", payload});
    pair.Step(0, {"RESTORE", "k", "0", payload});  // BUSYKEY: no event
    pair.Step(0, {"RESTORE", "k", "100000", payload, "REPLACE"});
    pair.Step(0, {"RESTORE", "k", "1", payload, "REPLACE", "ABSTTL"});  // expired: del
    pair.Step(0, {"RESTORE", "k", "1", payload, "REPLACE", "ABSTTL"});  // nothing to delete
    pair.Step(0, {"RESTORE", "k", "0", "bad payload"});
    pair.Step(0, {"EXISTS", "k"});
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("BLMOVE and BRPOPLPUSH time out with a null array in RESP2, a null bulk in MULTI") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  RawPair pair(ours.port(), reference.port(), {2, 3});
  for (std::size_t conn : {0, 1}) {
    pair.Run(conn, {{"BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"}});
    pair.Run(conn, {{"BRPOPLPUSH", "none", "dst", "0.05"}});
    pair.Run(conn, {{"BLPOP", "none", "0.05"}});
    pair.Run(conn, {{"BLMPOP", "0.05", "1", "none", "LEFT"}});
    pair.Run(conn, {{"BZPOPMIN", "none", "0.05"}});
    pair.Run(conn, {{"MULTI"},
                    {"BLMOVE", "none", "dst", "LEFT", "RIGHT", "0"},
                    {"BRPOPLPUSH", "none", "dst", "0"},
                    {"BLPOP", "none", "0"},
                    {"EXEC"}});
  }
}

TEST_CASE("PUBLISH and SUBSCRIBE queued in MULTI, and commands of a subscribed RESP2 connection") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  // 0 (RESP2) and 1 (RESP3) run transactions; 2 listens to everything.
  RawPair pair(ours.port(), reference.port(), {2, 3, 2});
  pair.Run(2, {{"SUBSCRIBE", "ch", "other"}});
  for (std::size_t conn : {0, 1}) {
    pair.Run(conn, {{"MULTI"},
                    {"PUBLISH", "ch", "before"},
                    {"SUBSCRIBE", "ch"},
                    {"PUBLISH", "ch", "inside"},
                    {"PSUBSCRIBE", "c*"},
                    {"PUBLISH", "ch", "both"},
                    {"PUBSUB", "NUMSUB", "ch"},
                    {"EXEC"}});
    pair.Run(conn, {{"PUBLISH", "other", "after"}});
    // Subscribed now: RESP2 refuses MULTI, PUBLISH and EXEC (EXEC in EXECABORT wording).
    pair.Run(conn, {{"MULTI"}, {"PUBLISH", "ch", "x"}, {"EXEC"}, {"EXEC", "extra"}, {"DISCARD"}});
    pair.Run(conn, {{"UNSUBSCRIBE", "ch"}, {"PUNSUBSCRIBE", "c*"}});
    pair.Run(conn, {{"EXEC"}, {"EXEC", "extra"}});
    pair.Run(conn, {{"MULTI"}, {"SUBSCRIBE", "ch"}, {"DISCARD"}, {"PUBSUB", "NUMSUB", "ch"}});
  }
}
