// Memory bound: with --maxmemory 1mb the server holds 100 MB of data in bounded RAM (offload to
// disk segments, every key still readable, also after a restart), or acts as an LRU cache.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

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
  CHECK(peak < kRssBound);
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
