// The eviction policies through the server: CONFIG, OBJECT FREQ/IDLETIME, -OOM and INFO side by
// side with redis-server 7, and the memory bound (memtable and RSS) under every policy.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

namespace {

constexpr const char* kRedisPolicies[] = {"volatile-lru",   "volatile-lfu", "volatile-random",
                                          "volatile-ttl",   "allkeys-lru",  "allkeys-lfu",
                                          "allkeys-random", "noeviction"};

std::uint64_t InfoNumber(Client& c, const std::string& section, const std::string& field) {
  Reply info = c.Command({"INFO", section});
  REQUIRE(info.type == Reply::Type::kString);
  std::size_t pos = info.str.find("\r\n" + field + ":");
  REQUIRE_MESSAGE(pos != std::string::npos, "INFO ", section, " has no ", field);
  return std::stoull(info.str.substr(pos + field.size() + 3));
}

}  // namespace

TEST_CASE("eviction knobs, OBJECT FREQ/IDLETIME and -OOM as Redis 7") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  auto both = [&](const std::vector<std::string>& argv) {
    return dynakv::itest::CheckSameReply(ours, redis, argv);
  };
  for (const char* name :
       {"maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time"}) {
    both({"CONFIG", "GET", name});
    for (const char* value :
         {"-1", "0", "1", "100", "101", "2147483647", "2147483648", "abc", ""}) {
      both({"CONFIG", "SET", name, value});
      both({"CONFIG", "GET", name});
    }
  }
  both({"CONFIG", "SET", "maxmemory-samples", "5", "lfu-log-factor", "10", "lfu-decay-time", "1"});
  both({"CONFIG", "SET", "maxmemory-eviction-tenacity", "10"});
  for (const char* policy : kRedisPolicies) {
    both({"CONFIG", "SET", "maxmemory-policy", policy});
    both({"CONFIG", "GET", "maxmemory-policy"});
  }
  // Ours lists its own two policies after Redis's.
  const Reply bad = redis.Command({"CONFIG", "SET", "maxmemory-policy", "nope"});
  REQUIRE(bad.type == Reply::Type::kError);
  CHECK(ours.Command({"CONFIG", "SET", "maxmemory-policy", "nope"}) ==
        Reply::Error(bad.str + ", offload, allkeys-tinylfu"));

  // Small integers are shared (REFCOUNT INT_MAX) unless the policy is LRU or LFU.
  // (Redis decides when the value is stored: each is written under the policy.)
  both({"CONFIG", "SET", "maxmemory", "100mb"});
  for (const char* policy : kRedisPolicies) {
    both({"CONFIG", "SET", "maxmemory-policy", policy});
    both({"SET", "n", "100"});
    both({"OBJECT", "REFCOUNT", "n"});
  }
  both({"CONFIG", "SET", "maxmemory", "0"});

  // The LFU counter: 5 when created, raised by each access (lfu-log-factor 0 makes every
  // increment certain: Redis draws them at random), kept by an overwrite, whose own lookup of the
  // old value is an access.
  both({"CONFIG", "SET", "lfu-log-factor", "0"});
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"});
  both({"SET", "k", "v"});
  both({"OBJECT", "FREQ", "k"});
  both({"GET", "k"});
  both({"OBJECT", "FREQ", "k"});
  both({"SET", "k", "w"});
  both({"OBJECT", "FREQ", "k"});
  both({"OBJECT", "ENCODING", "k"});  // not an access
  both({"OBJECT", "FREQ", "k"});
  both({"OBJECT", "IDLETIME", "k"});
  both({"OBJECT", "FREQ", "missing"});
  both({"OBJECT", "IDLETIME", "missing"});
  both({"CONFIG", "SET", "maxmemory-policy", "volatile-lfu"});
  both({"OBJECT", "FREQ", "k"});
  both({"CONFIG", "SET", "lfu-log-factor", "10"});
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  both({"OBJECT", "FREQ", "k"});
  both({"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"});
  both({"OBJECT", "FREQ", "k"});

  // Nothing a volatile policy may evict: deny-oom commands get -OOM, others run.
  both({"CONFIG", "RESETSTAT"});
  for (const char* policy : {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    both({"CONFIG", "SET", "maxmemory-policy", policy});
    both({"CONFIG", "SET", "maxmemory", "1"});
    both({"SET", "other", "v"});
    both({"INCR", "counter"});
    both({"GET", "k"});
    both({"GET", "missing"});
    both({"DEL", "missing"});
    both({"CONFIG", "SET", "maxmemory", "0"});
  }
  // allkeys-*: everything goes and it is still not enough.
  both({"SET", "a", "1"});
  both({"SET", "b", "2", "EX", "100"});
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-random"});
  both({"CONFIG", "SET", "maxmemory", "1"});
  both({"SET", "c", "3"});
  both({"DBSIZE"});
  both({"GET", "a"});
  both({"CONFIG", "SET", "maxmemory", "0"});
  for (const char* field : {"keyspace_hits", "keyspace_misses", "evicted_keys"}) {
    CAPTURE(field);
    CHECK(InfoNumber(ours, "stats", field) == InfoNumber(redis, "stats", field));
  }
  CHECK(InfoNumber(ours, "stats", "evicted_keys") > 0);
}

TEST_CASE("the memory bound holds under every policy") {
  if (dynakv::itest::TestingRealRedis()) {
    MESSAGE("skipped: memtable_bytes and the RSS bound are dynakv's");
    return;
  }
  constexpr std::uint64_t kMaxMemory = 2ull << 20;
  constexpr std::uint64_t kRssBound = 32ull << 20;
  constexpr int kKeys = 6000;  // 24 MB of values
  constexpr int kBatch = 128;
  std::vector<std::string> policies(std::begin(kRedisPolicies), std::end(kRedisPolicies) - 1);
  policies.push_back("allkeys-tinylfu");
  for (const std::string& policy : policies) {
    CAPTURE(policy);
    ServerProcess server({"--maxmemory", "2mb", "--maxmemory-policy", policy});
    server.Start();
    Client c(server.port());
    std::uint64_t peak_rss = 0;
    std::uint64_t peak_memtable = 0;
    // Every tenth key without a TTL: what volatile-* must keep.
    for (int start = 0; start < kKeys; start += kBatch) {
      for (int i = start; i < start + kBatch; ++i) {
        std::string value = dynakv::itest::RandomBytes(2048, i + 1) + std::string(2048, 'x');
        if (i % 10 == 0) {
          c.Append({"SET", "key:" + std::to_string(i), value});
        } else {
          c.Append({"SET", "key:" + std::to_string(i), value, "EX", "3600"});
        }
        if (i % 3 == 0) c.Append({"GET", "key:" + std::to_string(i / 2)});
      }
      for (int i = start; i < start + kBatch; ++i) {
        REQUIRE(c.GetReply() == Reply::Status("OK"));
        if (i % 3 == 0) c.GetReply();
      }
      peak_rss = std::max(peak_rss, server.RssBytes());
      peak_memtable = std::max(peak_memtable, InfoNumber(c, "memory", "memtable_bytes"));
    }
    MESSAGE(policy, ": peak memtable ", peak_memtable, " B, peak RSS ", peak_rss >> 20, " MB");
    CHECK(peak_memtable <= kMaxMemory + 2 * 4096 + 64 * 1024);
    CHECK(peak_rss < kRssBound);
    CHECK(InfoNumber(c, "stats", "evicted_keys") > 0);
    if (policy == "allkeys-tinylfu") {
      // Its own bytes (sketch, doorkeeper, list nodes) are bounded per key and within maxmemory.
      const std::uint64_t policy_bytes = InfoNumber(c, "memory", "tinylfu_policy_bytes");
      const std::uint64_t entries = InfoNumber(c, "memory", "memtable_entries");
      MESSAGE("tinylfu: ", policy_bytes, " B for ", entries, " entries");
      CHECK(policy_bytes > 0);
      CHECK(policy_bytes <= 52 * entries + 1024);
      CHECK(InfoNumber(c, "memory", "memtable_bytes") + policy_bytes <= kMaxMemory + 2 * 4096 + 64 * 1024);
      CHECK(InfoNumber(c, "memory", "tinylfu_rejected_keys") > 0);
    }
    if (policy.rfind("volatile-", 0) == 0) {
      for (int i = 0; i < kKeys; i += 10) {
        CHECK(c.Command({"EXISTS", "key:" + std::to_string(i)}) == Reply::Int(1));
      }
    }
    server.Stop();
  }
}
