// Memory bound: with --maxmemory 1mb the server holds 100 MB of data in bounded RAM (offload to
// disk segments, every key still readable, also after a restart), or acts as an LRU cache.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

namespace {

constexpr int kKeys = 25600;
constexpr std::size_t kValueSize = 4096;
constexpr std::uint64_t kMaxMemory = 1 << 20;
// 100 MB go in; RSS must stay far below that. The allowance covers the 1 MB memtable, the
// allocator, connection buffers and the per-key index of the on-disk segments (about 9 MB
// measured in total).
constexpr std::uint64_t kRssBound = 32ull << 20;
constexpr int kBatch = 128;

std::string Key(int i) { return "mem:" + std::to_string(i); }

long long NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Half random bytes (incompressible), half a repeated key-specific text: LZ4 roughly halves it,
// so compression alone cannot fit 100 MB in 1 MB.
std::string Value(int i) {
  std::string value = dynakv::itest::RandomBytes(kValueSize / 2, i + 1);
  std::string text = "value of key " + std::to_string(i) + ";";
  while (value.size() < kValueSize) value += text;
  value.resize(kValueSize);
  return value;
}

std::uint64_t InfoNumber(Client& c, const std::string& section, const std::string& field) {
  Reply info = c.Command({"INFO", section});
  REQUIRE(info.type == Reply::Type::kString);
  std::size_t pos = info.str.find("\r\n" + field + ":");
  REQUIRE_MESSAGE(pos != std::string::npos, "INFO ", section, " has no ", field);
  return std::stoull(info.str.substr(pos + field.size() + 3));
}

// Writes keys [0, kKeys) in pipelined batches; returns the peak RSS sampled between batches.
std::uint64_t WriteAll(Client& c, ServerProcess& server) {
  std::uint64_t peak = 0;
  for (int start = 0; start < kKeys; start += kBatch) {
    int end = std::min(kKeys, start + kBatch);
    for (int i = start; i < end; ++i) c.Append({"SET", Key(i), Value(i)});
    for (int i = start; i < end; ++i) {
      Reply r = c.GetReply();
      if (!(r == Reply::Status("OK"))) {
        CAPTURE(i);
        REQUIRE(r == Reply::Status("OK"));
      }
    }
    peak = std::max(peak, server.RssBytes());
  }
  return peak;
}

// GETs every `step`-th key and compares; returns how many differed (the first few are reported).
int ReadBack(Client& c, int step) {
  int mismatches = 0;
  for (int start = 0; start < kKeys; start += kBatch * step) {
    int end = std::min(kKeys, start + kBatch * step);
    for (int i = start; i < end; i += step) c.Append({"GET", Key(i)});
    for (int i = start; i < end; i += step) {
      Reply r = c.GetReply();
      if (!(r == Reply::Bulk(Value(i))) && ++mismatches <= 5) {
        CAPTURE(i);
        CHECK(r == Reply::Bulk(Value(i)));
      }
    }
  }
  return mismatches;
}

}  // namespace

TEST_CASE("offload: 100 MB through a 1 MB memtable in bounded RSS") {
  if (dynakv::itest::TestingRealRedis()) {
    MESSAGE("skipped: offload is dynakv-only");
    return;
  }
  ServerProcess server({"--maxmemory", "1mb"});
  server.Start();
  {
    Client c(server.port());
    std::uint64_t peak = WriteAll(c, server);
    MESSAGE("peak RSS while writing 100 MB: ", peak >> 20, " MB");
    CHECK(peak < kRssBound);
    std::uint64_t memtable = InfoNumber(c, "memory", "memtable_bytes");
    MESSAGE("memtable_bytes: ", memtable);
    // One entry of slack: the bound is enforced as soon as a write completes.
    CHECK(memtable <= kMaxMemory + 2 * kValueSize);
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(kKeys));

    CHECK(ReadBack(c, 1) == 0);
    std::uint64_t rss = server.RssBytes();
    MESSAGE("RSS after reading everything back: ", rss >> 20, " MB");
    CHECK(rss < kRssBound);
    CHECK(InfoNumber(c, "memory", "memtable_bytes") <= kMaxMemory + 2 * kValueSize);
  }
  server.Stop();
  server.Start();
  Client c(server.port());
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(kKeys));
  CHECK(ReadBack(c, 97) == 0);
  CHECK(c.Command({"GET", Key(kKeys - 1)}) == Reply::Bulk(Value(kKeys - 1)));
  CHECK(server.RssBytes() < kRssBound);
  server.Stop();
}

TEST_CASE("allkeys-lru: a pure cache keeps recent keys and drops the rest") {
  ServerProcess server({"--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"});
  server.Start();
  Client c(server.port());
  std::uint64_t peak = WriteAll(c, server);
  MESSAGE("peak RSS while writing 100 MB: ", peak >> 20, " MB");
  // Redis keeps AOF buffers outside maxmemory (it peaks near 48 MB here): the bound is dynakv's.
  if (!dynakv::itest::TestingRealRedis()) CHECK(peak < kRssBound);
  Reply size = c.Command({"DBSIZE"});
  REQUIRE(size.type == Reply::Type::kInteger);
  MESSAGE("DBSIZE after writing ", kKeys, " keys: ", size.integer);
  CHECK(size.integer > 0);
  CHECK(size.integer < kKeys / 10);
  // The most recent write is cached, the oldest ones are long gone.
  CHECK(c.Command({"GET", Key(kKeys - 1)}) == Reply::Bulk(Value(kKeys - 1)));
  CHECK(c.Command({"EXISTS", Key(0), Key(1), Key(2)}) == Reply::Int(0));
  CHECK(c.Command({"PING"}) == Reply::Status("PONG"));
  CHECK(c.Command({"SET", "after", "v"}) == Reply::Status("OK"));
  CHECK(c.Command({"GET", "after"}) == Reply::Bulk("v"));
  server.Stop();
}

TEST_CASE("noeviction: writes fail with OOM once full, reads keep working") {
  ServerProcess server({"--maxmemory", "4mb", "--maxmemory-policy", "noeviction"});
  server.Start();
  Client c(server.port());
  int stored = 0;
  Reply last;
  for (; stored < kKeys; ++stored) {
    last = c.Command({"SET", Key(stored), Value(stored)});
    if (!(last == Reply::Status("OK"))) break;
  }
  CHECK(last == Reply::Error("OOM command not allowed when used memory > 'maxmemory'."));
  CHECK(stored > 0);
  CHECK(stored < kKeys / 10);
  CHECK(c.Command({"GET", Key(0)}) == Reply::Bulk(Value(0)));
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(stored));
  // Deleting makes room again.
  CHECK(c.Command({"FLUSHALL"}) == Reply::Status("OK"));
  CHECK(c.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  server.Stop();
}

TEST_CASE("offloaded keys behave exactly like resident ones") {
  // Against Redis (no offload: everything stays resident) this checks the expectations.
  ServerProcess server({"--maxmemory", "1mb", "--appendfsync", "always"});
  server.Start();
  constexpr int kCount = 5000;  // 1 KB values: 5 MB, mostly offloaded
  auto key = [](int i) { return "off:" + std::to_string(i); };
  auto value = [](int i) { return dynakv::itest::RandomBytes(1024, 1000000 + i); };
  // Every 10th key (i % 10 == 1) expires at this absolute time, while it lives on disk.
  const long long expire_at = NowMs() + 5000;
  {
    Client c(server.port());
    for (int start = 0; start < kCount; start += kBatch) {
      int end = std::min(kCount, start + kBatch);
      for (int i = start; i < end; ++i) {
        if (i % 10 == 0) {
          c.Append({"SET", key(i), value(i), "EX", "1000"});
        } else if (i % 10 == 1) {
          c.Append({"SET", key(i), value(i), "PXAT", std::to_string(expire_at)});
        } else {
          c.Append({"SET", key(i), value(i)});
        }
      }
      for (int i = start; i < end; ++i) REQUIRE(c.GetReply() == Reply::Status("OK"));
    }
    REQUIRE(c.Command({"SET", "off:number", "41"}) == Reply::Status("OK"));
    // Push the number out of memory too.
    for (int i = 0; i < 2000; ++i) c.Append({"SET", "filler:" + std::to_string(i), Value(i)});
    for (int i = 0; i < 2000; ++i) REQUIRE(c.GetReply() == Reply::Status("OK"));
    REQUIRE(c.Command({"DEL", "off:number"}) == Reply::Int(1));
    REQUIRE(c.Command({"SET", "off:number", "41"}) == Reply::Status("OK"));
    for (int i = 0; i < 2000; ++i) c.Append({"DEL", "filler:" + std::to_string(i)});
    for (int i = 0; i < 2000; ++i) REQUIRE(c.GetReply() == Reply::Int(1));

    if (NowMs() < expire_at - 1000) {
      CHECK(c.Command({"DBSIZE"}) == Reply::Int(kCount + 1));
    } else {
      MESSAGE("slow run: DBSIZE checked only after expiry, by SCAN");
    }
    CHECK(c.Command({"KEYS", "filler:*"}) == Reply::Array({}));
    Reply ttl = c.Command({"PTTL", key(0)});
    CHECK(ttl.integer > 990000);
    CHECK(ttl.integer <= 1000000);
    CHECK(c.Command({"TTL", key(2)}) == Reply::Int(-1));
    CHECK(c.Command({"INCR", "off:number"}) == Reply::Int(42));
    CHECK(c.Command({"APPEND", key(2), "tail"}) == Reply::Int(1028));
    CHECK(c.Command({"GETRANGE", key(2), "-4", "-1"}) == Reply::Bulk("tail"));
    CHECK(c.Command({"DEL", key(3)}) == Reply::Int(1));
    CHECK(c.Command({"SET", key(4), "replaced", "KEEPTTL"}) == Reply::Status("OK"));
    CHECK(c.Command({"EXPIRE", key(5), "500"}) == Reply::Int(1));
    CHECK(c.Command({"PERSIST", key(10)}) == Reply::Int(1));
    CHECK(c.Command({"GETDEL", key(6)}) == Reply::Bulk(value(6)));
    CHECK(c.Command({"GET", key(7)}) == Reply::Bulk(value(7)));
    CHECK(c.Command({"EXISTS", key(3), key(6), key(8)}) == Reply::Int(1));
  }
  // Everything above must survive a crash as well.
  server.Kill();
  server.Start();
  Client c(server.port());
  CHECK(c.Command({"GET", "off:number"}) == Reply::Bulk("42"));
  CHECK(c.Command({"GETRANGE", key(2), "-4", "-1"}) == Reply::Bulk("tail"));
  CHECK(c.Command({"EXISTS", key(3), key(6)}) == Reply::Int(0));
  CHECK(c.Command({"GET", key(4)}) == Reply::Bulk("replaced"));
  Reply ttl5 = c.Command({"TTL", key(5)});
  CHECK(ttl5.integer > 490);
  CHECK(ttl5.integer <= 500);
  CHECK(c.Command({"TTL", key(10)}) == Reply::Int(-1));
  CHECK(c.Command({"GET", "filler:0"}) == Reply::Nil());

  // The PXAT keys expire wherever they live.
  while (NowMs() <= expire_at + 100) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int alive = 0;
  for (int i = 1; i < kCount; i += 10) c.Append({"EXISTS", key(i)});
  for (int i = 1; i < kCount; i += 10) alive += c.GetReply().integer;
  CHECK(alive == 0);
  std::set<std::string> scanned;
  std::string cursor = "0";
  for (int round = 0; round < 100000; ++round) {
    Reply r = c.Command({"SCAN", cursor, "COUNT", "500"});
    REQUIRE(r.elements.size() == 2);
    for (const Reply& k : r.elements[1].elements) scanned.insert(k.str);
    cursor = r.elements[0].str;
    if (cursor == "0") break;
  }
  CHECK(cursor == "0");
  // Every key but the 500 expired ones and the two deleted: no more, no less.
  std::set<std::string> expected = {"off:number"};
  for (int i = 0; i < kCount; ++i) {
    if (i % 10 != 1 && i != 3 && i != 6) expected.insert(key(i));
  }
  CHECK(scanned == expected);

  CHECK(c.Command({"FLUSHALL"}) == Reply::Status("OK"));
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  CHECK(c.Command({"GET", key(7)}) == Reply::Nil());
  server.Kill();
  server.Start();
  Client after(server.port());
  CHECK(after.Command({"DBSIZE"}) == Reply::Int(0));
  CHECK(after.Command({"GET", key(7)}) == Reply::Nil());
  CHECK(after.Command({"KEYS", "*"}) == Reply::Array({}));
  server.Stop();
}

TEST_CASE("active expiry reaches offloaded keys") {
  ServerProcess server({"--maxmemory", "1mb"});
  server.Start();
  Client c(server.port());
  constexpr int kExpiring = 2000;  // 8 MB: most of them on disk when they expire
  for (int start = 0; start < kExpiring; start += kBatch) {
    int end = std::min(kExpiring, start + kBatch);
    for (int i = start; i < end; ++i) c.Append({"SET", Key(i), Value(i), "PX", "1000"});
    for (int i = start; i < end; ++i) REQUIRE(c.GetReply() == Reply::Status("OK"));
  }
  for (int i = 0; i < 10; ++i)
    REQUIRE(c.Command({"SET", "keep:" + std::to_string(i), "v"}) == Reply::Status("OK"));
  // Nothing touches the expired keys: only the background cycle can bring DBSIZE down (Redis
  // gets there within about a second).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  Reply size = c.Command({"DBSIZE"});
  while (size != Reply::Int(10) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    size = c.Command({"DBSIZE"});
  }
  CHECK(size == Reply::Int(10));
  // Reading the keyspace must not bring them back either.
  CHECK(c.Command({"KEYS", "mem:*"}) == Reply::Array({}));
  server.Stop();
  server.Start();
  Client after(server.port());
  CHECK(after.Command({"DBSIZE"}) == Reply::Int(10));
  server.Stop();
}

TEST_CASE("values bigger than the whole memtable") {
  ServerProcess server({"--maxmemory", "1mb", "--appendfsync", "always"});
  server.Start();
  std::string huge = dynakv::itest::RandomBytes(16 << 20, 16);
  std::string big = dynakv::itest::RandomBytes(3 << 20, 3);
  {
    Client c(server.port());
    CHECK(c.Command({"SET", "huge", huge}) == Reply::Status("OK"));
    CHECK(c.Command({"SET", "big", big}) == Reply::Status("OK"));
    CHECK(c.Command({"SET", "small", "v"}) == Reply::Status("OK"));
    CHECK((c.Command({"GET", "huge"}) == Reply::Bulk(huge)));
    CHECK((c.Command({"GET", "big"}) == Reply::Bulk(big)));
    CHECK(c.Command({"APPEND", "big", "!"}) == Reply::Int((3 << 20) + 1));
    CHECK(c.Command({"STRLEN", "huge"}) == Reply::Int(16 << 20));
    if (!dynakv::itest::TestingRealRedis()) {
      CHECK(InfoNumber(c, "memory", "memtable_bytes") <= kMaxMemory + 2 * kValueSize);
    }
  }
  server.Kill();
  server.Start();
  Client c(server.port());
  CHECK((c.Command({"GET", "huge"}) == Reply::Bulk(huge)));
  CHECK((c.Command({"GET", "big"}) == Reply::Bulk(big + "!")));
  CHECK(c.Command({"GET", "small"}) == Reply::Bulk("v"));
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(3));
  server.Stop();
}
