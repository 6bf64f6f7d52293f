// WAIT and DEBUG against redis-server 7.0, reply for reply: WAIT's argument errors on a master
// without replicas; WAIT on a replica of a Redis master (REPLICAOF), which Redis refuses before
// it looks at the arguments, also inside MULTI; and DEBUG's subcommands that answer the same on
// both (SLEEP, SET-ACTIVE-EXPIRE, OBJECT's errors) and the ones Redis 7.0 does not have (JMAP),
// which get its unknown-subcommand error.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "client.h"
#include "harness.h"
#include "reference_pair.h"
#include "replica_util.h"
#include "server_process.h"

namespace dynakv::itest {
namespace {

const Flags kReferenceFlags = {"--enable-debug-command", "yes"};

}  // namespace

TEST_CASE("WAIT's replies and errors on a master without replicas are Redis 7.0's") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{"WAIT", "0", "0"},
                                             {"WAIT", "1", "10"},
                                             {"WAIT", "-1", "0"},
                                             {"WAIT", "x", "0"},
                                             {"WAIT", "1", "-1"},
                                             {"WAIT", "1", "1.5"},
                                             {"WAIT", "1", "x"},
                                             {"WAIT", "99999999999999999999", "0"},
                                             {"WAIT", "1"},
                                             {"WAIT", "1", "0", "0"}}) {
    CheckSameReply(a, b, argv);
  }
  CheckSameReply(a, b, {"SET", "k", "v"});
  CheckSameReply(a, b, {"WAIT", "1", "10"});
  CheckSameReply(a, b, {"MULTI"});
  CheckSameReply(a, b, {"WAIT", "1", "0"});
  CheckSameReply(a, b, {"EXEC"});
}

TEST_CASE("WAIT on a REPLICAOF replica is refused as a Redis replica refuses it") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ServerProcess master({"--appendonly", "no", "--repl-diskless-sync-delay", "0"}, ReferenceRedis());
  master.Start();
  Client redis(master.port());
  REQUIRE(redis.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  const std::string master_port = std::to_string(master.port());
  ServerProcess redis_replica({}, ReferenceRedis());
  redis_replica.Start();
  ServerProcess node;
  node.Start();
  Client ours(node.port());
  Client theirs(redis_replica.port());
  REQUIRE(ours.Command({"REPLICAOF", "127.0.0.1", master_port}) == Reply::Status("OK"));
  REQUIRE(theirs.Command({"REPLICAOF", "127.0.0.1", master_port}) == Reply::Status("OK"));
  WaitLinkUp(ours, node);
  WaitLinkUp(theirs, redis_replica);
  WaitOffsetsMatch(redis, ours, node);
  WaitOffsetsMatch(redis, theirs, redis_replica);

  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{"WAIT", "0", "0"},
                                             {"WAIT", "1", "0"},
                                             {"WAIT", "1", "100"},
                                             {"WAIT", "x", "0"},
                                             {"WAIT", "1", "-1"},
                                             {"WAIT", "1", "1.5"},
                                             {"WAIT", "1"}}) {
    CheckSameReply(ours, theirs, argv);
  }
  const Reply refused = ours.Command({"WAIT", "1", "0"});
  CHECK(refused.type == Reply::Type::kError);
  CHECK(refused.str.starts_with("ERR WAIT cannot be used with replica instances."));
  // Queued inside MULTI, refused inside EXEC's reply.
  CheckSameReply(ours, theirs, {"MULTI"});
  CheckSameReply(ours, theirs, {"WAIT", "1", "0"});
  CheckSameReply(ours, theirs, {"EXEC"});
  // A master again after REPLICAOF NO ONE: its count, as a master without replicas.
  REQUIRE(ours.Command({"REPLICAOF", "NO", "ONE"}) == Reply::Status("OK"));
  CHECK(ours.Command({"WAIT", "1", "10"}) == Reply::Int(0));
}

TEST_CASE("DEBUG subcommands answer as Redis 7.0's; JMAP and others Redis lacks are unknown") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  CheckSameReply(a, b, {"SET", "k", "hello"});
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"DEBUG", "JMAP"},
           {"DEBUG", "jmap"},
           {"DEBUG", "JMAP", "x"},
           {"DEBUG", "NOSUCH"},
           {"DEBUG", "no\r\nsuch"},
           {"DEBUG", std::string(200, 'x')},
           {"DEBUG"},
           {"DEBUG", "SLEEP"},
           {"DEBUG", "SLEEP", "0"},
           {"DEBUG", "sleep", "0.01"},
           {"DEBUG", "SLEEP", "abc"},
           {"DEBUG", "SLEEP", "0", "1"},
           {"DEBUG", "SET-ACTIVE-EXPIRE"},
           {"DEBUG", "SET-ACTIVE-EXPIRE", "0"},
           {"DEBUG", "SET-ACTIVE-EXPIRE", "1"},
           {"DEBUG", "set-active-expire", "x"},
           {"DEBUG", "SET-ACTIVE-EXPIRE", "1", "2"},
           {"DEBUG", "OBJECT"},
           {"DEBUG", "OBJECT", "nosuch"},
           {"DEBUG", "OBJECT", "k", "x"},
       }) {
    CheckSameReply(a, b, argv);
  }
  // SET-ACTIVE-EXPIRE x is 0 (atoi): a key past its TTL stays until it is read, on both.
  CheckSameReply(a, b, {"DEBUG", "SET-ACTIVE-EXPIRE", "x"});
  CheckSameReply(a, b, {"SET", "gone", "v", "PX", "1"});
  CheckSameReply(a, b, {"DEBUG", "SLEEP", "0.3"});
  CheckSameReply(a, b, {"DBSIZE"});
  CheckSameReply(a, b, {"GET", "gone"});
  CheckSameReply(a, b, {"DBSIZE"});
  CheckSameReply(a, b, {"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  // HELP lists the shared subcommands with Redis's lines.
  const Reply help = a.Command({"DEBUG", "HELP"});
  const Reply redis_help = b.Command({"DEBUG", "HELP"});
  REQUIRE(help.type == Reply::Type::kArray);
  REQUIRE(redis_help.type == Reply::Type::kArray);
  CHECK(help.elements.front() == redis_help.elements.front());
  auto lines_of = [](const Reply& reply, const std::string& subcommand) {
    std::vector<std::string> lines;
    bool in = false;
    for (const Reply& line : reply.elements) {
      if (line.str.starts_with(subcommand + " ") || line.str == subcommand) {
        in = true;
      } else if (!line.str.starts_with(" ")) {
        in = false;
      }
      if (in) lines.push_back(line.str);
    }
    return lines;
  };
  for (const char* subcommand : {"SLEEP", "SET-ACTIVE-EXPIRE", "OBJECT", "HELP"}) {
    CAPTURE(subcommand);
    CHECK(!lines_of(help, subcommand).empty());
    CHECK(lines_of(help, subcommand) == lines_of(redis_help, subcommand));
  }
  CHECK(lines_of(help, "JMAP").empty());
}

}  // namespace dynakv::itest
