// Library patterns built on scripts, as clients use them, under several concurrent clients:
// redis-py's Lock (acquire with SET NX PX, release with its compare-token-then-DEL script) and a
// token-bucket rate limiter. Both rely on a script running atomically: no other client's command
// runs in the middle of one.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;

namespace {

// redis-py's Lock.LUA_RELEASE_SCRIPT.
constexpr const char* kLockRelease = R"(
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
redis.call('del', KEYS[1])
return 1
)";

// A token bucket: `capacity` tokens, refilled at `rate` per millisecond from the caller's clock.
constexpr const char* kTokenBucket = R"(
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return allowed
)";

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "redis-py's lock: only the holder releases, under 6 clients") {
  const Reply sha = client.Command({"SCRIPT", "LOAD", kLockRelease});
  REQUIRE(sha.type == Reply::Type::kString);
  // A token that is not the holder's releases nothing.
  CHECK(client.Command({"SET", "lock", "mine", "NX", "PX", "10000"}) == Reply::Status("OK"));
  CHECK(client.Command({"EVALSHA", sha.str, "1", "lock", "other"}) == Reply::Int(0));
  CHECK(client.Command({"GET", "lock"}) == Reply::Bulk("mine"));
  CHECK(client.Command({"EVALSHA", sha.str, "1", "lock", "mine"}) == Reply::Int(1));
  CHECK(client.Command({"EXISTS", "lock"}) == Reply::Int(0));
  CHECK(client.Command({"EVALSHA", sha.str, "1", "lock", "mine"}) == Reply::Int(0));

  // Each client takes the lock, increments a counter by GET then SET (not atomic by itself: the
  // lock is what protects it), and releases. No increment may be lost.
  constexpr int kClients = 6;
  constexpr int kRounds = 150;
  std::atomic<int> acquired{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client mine(server.port());
      for (int round = 0; round < kRounds; ++round) {
        const std::string token = "t" + std::to_string(c) + "-" + std::to_string(round);
        if (mine.Command({"SET", "lock", token, "NX", "PX", "30000"}) != Reply::Status("OK")) {
          continue;
        }
        ++acquired;
        const Reply value = mine.Command({"GET", "counter"});
        const long long n = value.type == Reply::Type::kString ? std::stoll(value.str) : 0;
        mine.Command({"SET", "counter", std::to_string(n + 1)});
        if (mine.Command({"EVALSHA", sha.str, "1", "lock", token}) != Reply::Int(1)) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(acquired > 0);
  CHECK(client.Command({"GET", "counter"}) == Reply::Bulk(std::to_string(acquired.load())));
  CHECK(client.Command({"EXISTS", "lock"}) == Reply::Int(0));
}

TEST_CASE_FIXTURE(ServerFixture, "a token-bucket rate limiter grants exactly its capacity") {
  const Reply sha = client.Command({"SCRIPT", "LOAD", kTokenBucket});
  REQUIRE(sha.type == Reply::Type::kString);
  // With the clock standing still nothing refills: of 8 x 40 requests exactly 100 pass, however
  // the clients interleave, as long as each script runs alone.
  constexpr int kClients = 8;
  constexpr int kRequests = 40;
  std::atomic<int> allowed{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      Client mine(server.port());
      for (int i = 0; i < kRequests; ++i) {
        const Reply r =
            mine.Command({"EVALSHA", sha.str, "1", "bucket", "100", "0.01", "1000", "1"});
        if (r == Reply::Int(1)) {
          ++allowed;
        } else if (r != Reply::Int(0)) {
          ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(allowed == 100);
  CHECK(client.Command({"HGET", "bucket", "tokens"}) == Reply::Bulk("0"));
  // 500 ms later at 0.01 per ms, 5 tokens are back.
  int later = 0;
  for (int i = 0; i < 10; ++i) {
    later += client.Command({"EVALSHA", sha.str, "1", "bucket", "100", "0.01", "1500", "1"}) ==
             Reply::Int(1);
  }
  CHECK(later == 5);
  const Reply ttl = client.Command({"PTTL", "bucket"});
  CHECK(ttl.type == Reply::Type::kInteger);
  CHECK(ttl.integer > 0);
  CHECK(ttl.integer <= 60000);
}

// The records and atomic groups dynakv-check-log counts in a stopped node's logs.
std::pair<long long, long long> LogRecords(const std::string& dir) {
  const char* tool = std::getenv("DYNAKV_CHECK_LOG");
  REQUIRE(tool != nullptr);
  const std::string command = std::string(tool) + " " + dir + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  long long records = 0;
  long long groups = 0;
  char line[1024];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    const char* ok = std::strstr(line, ": ok, ");
    long long r = 0;
    long long g = 0;
    if (ok != nullptr && std::sscanf(ok, ": ok, %lld records (%lld atomic groups)", &r, &g) == 2) {
      records += r;
      groups += g;
    }
  }
  ::pclose(pipe);
  return {records, groups};
}

TEST_CASE_FIXTURE(ServerFixture, "a script's writes are one commit-log record") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  CHECK(client.Command({"EVAL",
                        "redis.call('set', 'a', '1') redis.call('rpush', 'l', 'x', 'y') "
                        "redis.call('hset', 'h', 'f', 'v') return redis.call('incr', 'n')",
                        "0"}) == Reply::Int(1));
  server.Kill();
  // Four writes, one GROUP record: after a crash all of them or none.
  CHECK(LogRecords(server.dir()) == std::make_pair(1LL, 1LL));
  server.Start();
  Client again(server.port());
  CHECK(again.Command({"GET", "a"}) == Reply::Bulk("1"));
  CHECK(again.Command({"LLEN", "l"}) == Reply::Int(2));
  CHECK(again.Command({"HGET", "h", "f"}) == Reply::Bulk("v"));
  CHECK(again.Command({"GET", "n"}) == Reply::Bulk("1"));
}

TEST_CASE_FIXTURE(ServerFixture, "a script's writes survive kill -9 once its reply arrived") {
  // The reply acknowledges the writes, so it waits for the log like a write command's reply.
  CHECK(
      client.Command({"EVAL", "redis.call('set', KEYS[1], 'a') return redis.call('incr', KEYS[2])",
                      "2", "x", "y"}) == Reply::Int(1));
  server.Kill();  // a crash: only what the log holds survives
  server.Start();
  Client again(server.port());
  CHECK(again.Command({"GET", "x"}) == Reply::Bulk("a"));
  CHECK(again.Command({"GET", "y"}) == Reply::Bulk("1"));
}

TEST_CASE_FIXTURE(ServerFixture, "INFO memory counts cached scripts and functions") {
  auto field = [&](const std::string& name) {
    const Reply info = client.Command({"INFO", "memory"});
    REQUIRE(info.type == Reply::Type::kString);
    const std::size_t at = info.str.find(name + ":");
    REQUIRE(at != std::string::npos);
    return std::stoll(info.str.substr(at + name.size() + 1));
  };
  CHECK(field("number_of_cached_scripts") == 0);
  client.Command({"SCRIPT", "LOAD", "return 1"});
  client.Command({"EVAL", "return 2", "0"});
  CHECK(field("number_of_cached_scripts") == 2);
  CHECK(client.Command({"FUNCTION", "LOAD",
                        "#!lua name=l\nredis.register_function('f', function() return 1 end)"}) ==
        Reply::Bulk("l"));
  CHECK(field("number_of_functions") == 1);
  CHECK(field("used_memory_lua") > 0);
  client.Command({"SCRIPT", "FLUSH"});
  CHECK(field("number_of_cached_scripts") == 0);
  CHECK(field("number_of_functions") == 1);
}
