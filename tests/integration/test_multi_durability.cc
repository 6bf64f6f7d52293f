// Transactions under load and crashes: an optimistic WATCH/MULTI retry loop of 20 concurrent
// clients loses no increment; kill -9 in the middle of a stream of transactions leaves each one
// applied whole or not at all (appendfsync always); commands that write several keys log one
// record (dynakv-check-log counts the atomic groups).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::SkipUnlessDynakv;

TEST_CASE("20 clients incrementing one key with WATCH/MULTI retries lose nothing") {
  ServerProcess server;
  server.Start();
  constexpr int kClients = 20;
  constexpr int kIncrements = 40;
  std::atomic<long long> retries{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c(server.port());
      for (int done = 0; done < kIncrements && std::chrono::steady_clock::now() < deadline;) {
        if (c.Command({"WATCH", "counter"}) != Reply::Status("OK")) {
          ++failures;
          return;
        }
        const Reply value = c.Command({"GET", "counter"});
        const long long n = value.type == Reply::Type::kNil ? 0 : std::stoll(value.str);
        c.Command({"MULTI"});
        c.Command({"SET", "counter", std::to_string(n + 1)});
        const Reply exec = c.Command({"EXEC"});
        if (exec.type == Reply::Type::kNil) {
          ++retries;  // another client won the race: read again
          continue;
        }
        if (exec != Reply::Array({Reply::Status("OK")})) {
          ++failures;
          return;
        }
        ++done;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
  Client c(server.port());
  CHECK(c.Command({"GET", "counter"}) == Reply::Bulk(std::to_string(kClients * kIncrements)));
  MESSAGE("WATCH retries: " << retries.load());
}

namespace {

// One transaction writes value `i` into a key of each type.
std::vector<std::vector<std::string>> Transaction(long long i) {
  const std::string v = std::to_string(i);
  return {{"MULTI"},
          {"SET", "tx:string", v},
          {"HSET", "tx:hash", "value", v},
          {"ZADD", "tx:zset", v, "member"},
          {"RPUSH", "tx:list", v},
          {"SADD", "tx:set", v},
          {"INCR", "tx:count"},
          {"EXEC"}};
}

struct State {
  std::string string, hash, zscore, list_tail, count;
  long long list_len = 0, set_card = 0;
};

State Read(Client& c) {
  State s;
  s.string = c.Command({"GET", "tx:string"}).str;
  s.hash = c.Command({"HGET", "tx:hash", "value"}).str;
  s.zscore = c.Command({"ZSCORE", "tx:zset", "member"}).str;
  s.list_tail = c.Command({"LINDEX", "tx:list", "-1"}).str;
  s.count = c.Command({"GET", "tx:count"}).str;
  s.list_len = c.Command({"LLEN", "tx:list"}).integer;
  s.set_card = c.Command({"SCARD", "tx:set"}).integer;
  return s;
}

}  // namespace

TEST_CASE("kill -9 in a stream of transactions leaves each whole or absent (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  // Small checkpoints, so segments are written while transactions stream.
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "32768"});
  server.Start();
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    long long first = 0;
    {
      Client c(server.port());
      const Reply count = c.Command({"GET", "tx:count"});
      first = count.type == Reply::Type::kNil ? 1 : std::stoll(count.str) + 1;
    }
    std::atomic<long long> acknowledged{first - 1};
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      Client c(server.port());
      // Pipelined in batches, so the kill lands while some are queued, some run, some logged.
      for (long long i = first; !stop; i += 20) {
        for (long long j = i; j < i + 20; ++j) {
          for (const auto& argv : Transaction(j)) c.Append(argv);
        }
        for (long long j = i; j < i + 20; ++j) {
          for (int k = 0; k < 8; ++k) {
            const Reply r = c.GetReply();
            if (r.type == Reply::Type::kIoError) return;
            if (k == 7 && r.type == Reply::Type::kArray && r.elements.size() == 6) {
              acknowledged = j;
            }
          }
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
    server.Kill();
    stop = true;
    writer.join();
    server.Start();
    Client c(server.port());
    const State s = Read(c);
    const long long n = std::stoll(s.count);
    CAPTURE(n);
    CAPTURE(acknowledged.load());
    CHECK(n >= acknowledged.load());  // nothing acknowledged is lost
    // Every key holds the same transaction's value: none was applied in part.
    CHECK(s.string == s.count);
    CHECK(s.hash == s.count);
    CHECK(s.zscore == s.count);
    CHECK(s.list_tail == s.count);
    CHECK(s.list_len == n);
    CHECK(s.set_card == n);
  }
}

TEST_CASE("commands that write several records and EXEC log one atomic group each") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--appendfsync", "always"});
  server.Start();
  {
    Client c(server.port());
    REQUIRE(c.Command({"RPUSH", "src", "a", "b", "c", "d"}) == Reply::Int(4));
    REQUIRE(c.Command({"SADD", "s1", "m"}) == Reply::Int(1));
    REQUIRE(c.Command({"SET", "r1", "v"}) == Reply::Status("OK"));
    // Each of these writes two records or more: one group each.
    REQUIRE(c.Command({"LMOVE", "src", "dst", "LEFT", "RIGHT"}) == Reply::Bulk("a"));
    REQUIRE(c.Command({"RPOPLPUSH", "src", "dst"}) == Reply::Bulk("d"));
    REQUIRE(c.Command({"SMOVE", "s1", "s2", "m"}) == Reply::Int(1));
    REQUIRE(c.Command({"RENAME", "r1", "r2"}) == Reply::Status("OK"));
    REQUIRE(c.Command({"MSET", "m1", "1", "m2", "2"}) == Reply::Status("OK"));
    REQUIRE(c.Command({"MULTI"}) == Reply::Status("OK"));
    REQUIRE(c.Command({"SET", "t1", "1"}) == Reply::Status("QUEUED"));
    REQUIRE(c.Command({"SET", "t2", "2"}) == Reply::Status("QUEUED"));
    REQUIRE(c.Command({"EXEC"}).elements.size() == 2);
    // A single-record write stays a plain record.
    REQUIRE(c.Command({"SET", "plain", "1"}) == Reply::Status("OK"));
  }
  server.Kill();
  const char* tool = std::getenv("DYNAKV_CHECK_LOG");
  REQUIRE_MESSAGE(tool != nullptr, "set DYNAKV_CHECK_LOG to the dynakv-check-log binary");
  FILE* pipe =
      popen(("timeout 60 " + std::string(tool) + " " + server.dir() + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  pclose(pipe);
  CAPTURE(output);
  CHECK(output.find("(6 atomic groups)") != std::string::npos);
  server.Start();
  Client c(server.port());
  CHECK(c.Command({"LRANGE", "dst", "0", "-1"}) ==
        Reply::Bulks({"d", "a"}));  // RPOPLPUSH pushes at the head
  CHECK(c.Command({"SISMEMBER", "s2", "m"}) == Reply::Int(1));
  CHECK(c.Command({"GET", "r2"}) == Reply::Bulk("v"));
  CHECK(c.Command({"EXISTS", "r1", "s1"}) == Reply::Int(0));
  CHECK(c.Command({"MGET", "m1", "m2", "t1", "t2"}) == Reply::Bulks({"1", "2", "1", "2"}));
}

TEST_CASE("WATCH: a watched key evicted by allkeys-lru fails EXEC") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "1048576", "--maxmemory-policy", "allkeys-lru"});
  server.Start();
  Client watcher(server.port());
  Client writer(server.port());
  REQUIRE(writer.Command({"SET", "watched", "v"}) == Reply::Status("OK"));
  REQUIRE(watcher.Command({"WATCH", "watched"}) == Reply::Status("OK"));
  // Other keys push it out: it is the least recently used.
  // Incompressible values: LZ4 would shrink repeated bytes to nothing.
  std::mt19937_64 rng(7);
  std::string value(1000, '\0');
  // Ten times what fits, without reading it meanwhile (a read would make it recently used).
  for (int batch = 0; batch < 100; ++batch) {
    for (int i = 0; i < 100; ++i) {
      for (char& ch : value) ch = static_cast<char>(rng());
      writer.Append({"SET", "filler:" + std::to_string(batch * 100 + i), value});
    }
    for (int i = 0; i < 100; ++i) REQUIRE(writer.GetReply() == Reply::Status("OK"));
  }
  REQUIRE(dynakv::itest::ReadInfoNumber(writer, "stats", "evicted_keys") > 5000);
  REQUIRE(writer.Command({"EXISTS", "watched"}) == Reply::Int(0));
  REQUIRE(watcher.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(watcher.Command({"SET", "watched", "again"}) == Reply::Status("QUEUED"));
  CHECK(watcher.Command({"EXEC"}).type == Reply::Type::kNil);
  CHECK(watcher.Command({"EXISTS", "watched"}) == Reply::Int(0));
}
