// EVAL/EVALSHA/FCALL in cluster mode: a script runs at the coordinator over its declared keys,
// which share a hash tag, as one read-modify-write operation; library patterns (a lock, a token
// bucket) through different coordinators; Redis Cluster's errors for undeclared keys.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;

namespace {

constexpr const char* kAcquire = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])";
constexpr const char* kRelease =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";
// A token bucket (rate tokens per second, up to capacity), as rate-limit libraries write it.
constexpr const char* kTokenBucket = R"(
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local tokens = tonumber(redis.call('GET', KEYS[1])) or capacity
local last = tonumber(redis.call('GET', KEYS[2])) or now
local filled = math.min(capacity, tokens + math.max(0, now - last) * rate)
local allowed = filled >= requested
if allowed then filled = filled - requested end
redis.call('SET', KEYS[1], filled, 'EX', 3600)
redis.call('SET', KEYS[2], now, 'EX', 3600)
if allowed then return 1 else return 0 end
)";

bool NonLocalKeyError(const Reply& reply) {
  return reply.IsError() &&
         reply.str.starts_with("ERR Script attempted to access a non local key in a cluster node");
}

}  // namespace

TEST_CASE("cluster EVAL: a lock and a token bucket through different coordinators") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  std::vector<Client> nodes;
  for (int i = 0; i < 3; ++i) nodes.emplace_back(cluster.node(i).port());
  REQUIRE(UntilAvailable(nodes[0], {"DEL", "{lock}:job"}) == Reply::Int(0));

  // The lock: only the holder's token releases it, whichever node each call goes through.
  CHECK(nodes[0].Command({"EVAL", kAcquire, "1", "{lock}:job", "token-a", "30000"}) ==
        Reply::Status("OK"));
  CHECK(nodes[1].Command({"EVAL", kAcquire, "1", "{lock}:job", "token-b", "30000"}) ==
        Reply::Nil());
  CHECK(nodes[2].Command({"EVAL", kRelease, "1", "{lock}:job", "token-b"}) == Reply::Int(0));
  CHECK(nodes[2].Command({"GET", "{lock}:job"}) == Reply::Bulk("token-a"));
  CHECK(nodes[2].Command({"PTTL", "{lock}:job"}).integer > 20000);
  CHECK(nodes[1].Command({"EVAL", kRelease, "1", "{lock}:job", "token-a"}) == Reply::Int(1));
  CHECK(nodes[2].Command({"EVAL", kAcquire, "1", "{lock}:job", "token-b", "30000"}) ==
        Reply::Status("OK"));
  CHECK(nodes[0].Command({"GET", "{lock}:job"}) == Reply::Bulk("token-b"));

  // The bucket holds 5 tokens and refills 1 per second; calls rotate over the coordinators.
  const std::vector<std::string> bucket = {"{rl:alice}:tokens", "{rl:alice}:ts"};
  auto take = [&](int i, const std::string& now) {
    return nodes[i % 3].Command(
        {"EVAL", kTokenBucket, "2", bucket[0], bucket[1], "1", "5", now, "1"});
  };
  int allowed = 0;
  for (int i = 0; i < 8; ++i) allowed += take(i, "1000") == Reply::Int(1) ? 1 : 0;
  CHECK(allowed == 5);
  allowed = 0;
  for (int i = 0; i < 4; ++i) allowed += take(i, "1003") == Reply::Int(1) ? 1 : 0;
  CHECK(allowed == 3);
  for (Client& c : nodes) CHECK(c.Command({"GET", bucket[0]}) == Reply::Bulk("0"));

  // EVALSHA finds a script loaded on that node (each node has its cache, as in Redis Cluster).
  const std::string release_v2 = std::string(kRelease) + " -- loaded";
  const Reply sha = nodes[0].Command({"SCRIPT", "LOAD", release_v2});
  REQUIRE(sha.type == Reply::Type::kString);
  CHECK(nodes[1].Command({"EVALSHA", sha.str, "1", "{lock}:job", "x"}) ==
        Reply::Error("NOSCRIPT No matching script. Please use EVAL."));
  CHECK(nodes[0].Command({"EVALSHA", sha.str, "1", "{lock}:job", "token-b"}) == Reply::Int(1));
  CHECK(nodes[1].Command({"EXISTS", "{lock}:job"}) == Reply::Int(0));
  CHECK(nodes[0].Command({"EVALSHA_RO", sha.str, "1", "{lock}:job", "none"}) == Reply::Int(0));
}

TEST_CASE("cluster scripts: declared keys only, read-only forms, FCALL, keyless scripts") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2] = StartWithClients<2>(cluster);
  REQUIRE(UntilAvailable(n1, {"SET", "{s}a", "1"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"SET", "{s}b", "2"}) == Reply::Status("OK"));

  // A key the script did not declare is not read by the coordinator: Redis Cluster's error.
  CHECK(NonLocalKeyError(n2.Command({"EVAL", "return redis.call('GET', '{s}b')", "1", "{s}a"})));
  CHECK(NonLocalKeyError(n2.Command({"EVAL", "return redis.call('GET', 'k')", "0"})));
  CHECK(NonLocalKeyError(
      n2.Command({"EVAL", "return redis.pcall('SET', 'other', 'v')", "1", "{s}a"})));
  CHECK(n1.Command({"EXISTS", "other"}) == Reply::Int(0));
  // Declared, repeated, and commands without keys work; numkeys 0 runs without any key.
  CHECK(n2.Command({"EVAL",
                    "return {redis.call('GET', KEYS[1]), redis.call('INCRBY', KEYS[2], 10), "
                    "redis.call('PING')['ok']}",
                    "3", "{s}a", "{s}b", "{s}a"}) ==
        Reply::Array({Reply::Bulk("1"), Reply::Int(12), Reply::Bulk("PONG")}));
  CHECK(n2.Command({"EVAL", "return redis.call('ECHO', ARGV[1])", "0", "hi"}) == Reply::Bulk("hi"));
  CHECK(n1.Command({"GET", "{s}b"}) == Reply::Bulk("12"));
  // A script's error after a write: what it wrote before the error stays, as in Redis.
  CHECK(n2.Command({"EVAL", "redis.call('SET', KEYS[1], 'x') return redis.call('INCR', KEYS[1])",
                    "1", "{s}a"})
            .IsError());
  CHECK(n1.Command({"GET", "{s}a"}) == Reply::Bulk("x"));
  // Read-only forms refuse writes.
  CHECK(n2.Command({"EVAL_RO", "return redis.call('SET', KEYS[1], 'y')", "1", "{s}a"}).IsError());
  CHECK(n2.Command({"EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "{s}a"}) ==
        Reply::Bulk("x"));

  // Functions: loaded on every node (FUNCTION LOAD is per node, as in Redis Cluster).
  const std::string library =
      "#!lua name=counters\n"
      "redis.register_function('bump', function(keys, args) "
      "return redis.call('INCRBY', keys[1], args[1]) end)\n"
      "redis.register_function{function_name='peek', callback=function(keys, args) "
      "return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n";
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"FUNCTION", "LOAD", library}) == Reply::Bulk("counters"));
  }
  CHECK(n2.Command({"FCALL", "bump", "1", "{s}n", "5"}) == Reply::Int(5));
  CHECK(n1.Command({"FCALL", "bump", "1", "{s}n", "2"}) == Reply::Int(7));
  CHECK(n1.Command({"FCALL_RO", "peek", "1", "{s}n"}) == Reply::Bulk("7"));
  CHECK(n1.Command({"FCALL", "bump", "2", "{s}n", "{t}n", "1"}) ==
        Reply::Error("CROSSSLOT Keys in request don't hash to the same slot"));
}
