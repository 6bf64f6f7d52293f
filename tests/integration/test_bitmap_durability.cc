// Bitmaps and HyperLogLogs on disk: SETBIT, SETRANGE, BITFIELD and PFADD on an existing large
// string log the bytes they change, not the string (PATCH records); kill -9 keeps every
// acknowledged change (appendfsync always), also when the patched values were checkpointed or
// offloaded to segments, in other databases and inside MULTI/EXEC; dynakv-check-log reads the
// logs.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LogBytesAppendedBy;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::RunAcknowledged;
using dynakv::itest::ServerProcess;
using dynakv::itest::SkipUnlessDynakv;

namespace {

constexpr long long kBitmapBytes = 64ll << 20;

// The model's bit `offset` (Redis's order: bit 0 is the top bit of byte 0), growing the string.
void SetModelBit(std::string* value, std::uint64_t offset, int bit) {
  const std::size_t byte = offset >> 3;
  if (value->size() <= byte) value->resize(byte + 1, '\0');
  const int shift = 7 - static_cast<int>(offset & 7);
  auto& b = reinterpret_cast<unsigned char&>((*value)[byte]);
  b = static_cast<unsigned char>((b & ~(1 << shift)) | (bit << shift));
}

int ModelBit(const std::string& value, std::uint64_t offset) {
  const std::size_t byte = offset >> 3;
  if (byte >= value.size()) return 0;
  return (static_cast<unsigned char>(value[byte]) >> (7 - (offset & 7))) & 1;
}

// An unsigned BITFIELD field of `bits` bits at bit `offset`.
std::uint64_t ModelField(const std::string& value, std::uint64_t offset, int bits) {
  std::uint64_t v = 0;
  for (int i = 0; i < bits; ++i)
    v = (v << 1) | static_cast<std::uint64_t>(ModelBit(value, offset + i));
  return v;
}

void SetModelField(std::string* value, std::uint64_t offset, int bits, std::uint64_t v) {
  for (int i = 0; i < bits; ++i)
    SetModelBit(value, offset + i, static_cast<int>((v >> (bits - 1 - i)) & 1));
}

// What dynakv-check-log says of the data directory, and its exit status.
int CheckLogs(const std::string& dir, std::string* output) {
  const char* tool = std::getenv("DYNAKV_CHECK_LOG");
  REQUIRE_MESSAGE(tool != nullptr, "set DYNAKV_CHECK_LOG to the dynakv-check-log binary");
  FILE* pipe = popen(("timeout 60 " + std::string(tool) + " " + dir + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output->append(buf, n);
  return pclose(pipe);
}

}  // namespace

TEST_CASE("SETBIT, SETRANGE and BITFIELD on a 64 MB bitmap append a few log bytes each") {
  if (SkipUnlessDynakv()) return;
  // No checkpoint may restart the log between two readings.
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  std::string model;
  // The bitmap's last bit: 64 MB of value, created by one patch.
  CHECK(LogBytesAppendedBy(c, {"SETBIT", "big", std::to_string(kBitmapBytes * 8 - 1), "1"},
                           Reply::Int(0)) < 64);
  REQUIRE(c.Command({"STRLEN", "big"}) == Reply::Int(kBitmapBytes));
  // Random bytes here and there (compression of the value cannot hide the log's cost).
  std::mt19937_64 rng(3);
  for (int i = 0; i < 8; ++i) {
    const std::string bytes = dynakv::itest::RandomBytes(4096, rng());
    const long long at = static_cast<long long>(rng() % (kBitmapBytes - 4096));
    REQUIRE(c.Command({"SETRANGE", "big", std::to_string(at), bytes}) == Reply::Int(kBitmapBytes));
  }
  const long long log_bytes = ReadInfoNumber(c, "persistence", "commit_log_bytes");
  CHECK(log_bytes < 64 * 1024);  // the 64 MB value was never logged
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t bit = rng() % (kBitmapBytes * 8);
    const Reply old = c.Command({"GETBIT", "big", std::to_string(bit)});
    REQUIRE(old.type == Reply::Type::kInteger);
    const long long on = 1 - old.integer;
    CAPTURE(bit);
    CHECK(LogBytesAppendedBy(c, {"SETBIT", "big", std::to_string(bit), std::to_string(on)},
                             Reply::Int(old.integer)) < 64);
    CHECK(c.Command({"GETBIT", "big", std::to_string(bit)}) == Reply::Int(on));
  }
  // A SETBIT that changes nothing logs nothing.
  CHECK(LogBytesAppendedBy(c, {"SETBIT", "big", std::to_string(kBitmapBytes * 8 - 1), "1"},
                           Reply::Int(1)) == 0);
  CHECK(LogBytesAppendedBy(c, {"BITFIELD", "big", "SET", "u8", "#1000", "200", "INCRBY", "i5",
                               "100000", "3", "SET", "u16", "#3000000", "65535"}) < 96);
  CHECK(c.Command({"BITFIELD", "big", "GET", "u8", "#1000", "GET", "u16", "#3000000"}) ==
        Reply::Array({Reply::Int(200), Reply::Int(65535)}));
  CHECK(LogBytesAppendedBy(c, {"SETRANGE", "big", "12345678", "0123456789"},
                           Reply::Int(kBitmapBytes)) < 64);
  CHECK(c.Command({"GETRANGE", "big", "12345678", "12345687"}) == Reply::Bulk("0123456789"));
  CHECK(c.Command({"STRLEN", "big"}) == Reply::Int(kBitmapBytes));
  // Growing by one byte past the end logs the byte, not the value.
  CHECK(LogBytesAppendedBy(c, {"SETBIT", "big", std::to_string(kBitmapBytes * 8 + 7), "1"},
                           Reply::Int(0)) < 64);
  CHECK(c.Command({"STRLEN", "big"}) == Reply::Int(kBitmapBytes + 1));
  CHECK(c.Command({"GETRANGE", "big", std::to_string(kBitmapBytes), "-1"}) ==
        Reply::Bulk(std::string(1, '\x01')));
}

TEST_CASE("PFADD and PFCOUNT on a dense HyperLogLog append a few log bytes each") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  std::vector<std::vector<std::string>> adds;
  for (int start = 0; start < 20000; start += 500) {
    std::vector<std::string> argv = {"PFADD", "hll"};
    for (int i = start; i < start + 500; ++i) argv.push_back("element:" + std::to_string(i));
    adds.push_back(std::move(argv));
  }
  RunAcknowledged(c, adds, [](const Reply& r) { return r.type == Reply::Type::kInteger; });
  // Dense: "HYLL" then encoding byte 0, 12304 bytes.
  REQUIRE(c.Command({"GETRANGE", "hll", "4", "4"}) == Reply::Bulk(std::string(1, '\0')));
  REQUIRE(c.Command({"STRLEN", "hll"}) == Reply::Int(12304));
  long long changed = 0;
  for (int i = 0; i < 200; ++i) {
    const std::vector<std::string> argv = {"PFADD", "hll", "new:" + std::to_string(i)};
    const long long before = ReadInfoNumber(c, "persistence", "commit_log_bytes");
    const Reply r = c.Command(argv);
    REQUIRE(r.type == Reply::Type::kInteger);
    const long long bytes = ReadInfoNumber(c, "persistence", "commit_log_bytes") - before;
    CAPTURE(i);
    if (r.integer == 1) {
      ++changed;
      CHECK(bytes < 64);  // a register and the cache's stale bit, not 12 KB
      CHECK(bytes > 0);
    } else {
      CHECK(bytes == 0);
    }
    // PFCOUNT caches the count in the value: 8 bytes, logged as such.
    const long long before_count = ReadInfoNumber(c, "persistence", "commit_log_bytes");
    REQUIRE(c.Command({"PFCOUNT", "hll"}).type == Reply::Type::kInteger);
    CHECK(ReadInfoNumber(c, "persistence", "commit_log_bytes") - before_count < 64);
  }
  CHECK(changed > 0);
  const long long count = c.Command({"PFCOUNT", "hll"}).integer;
  CHECK(count > 19500);
  CHECK(count < 20800);
}

TEST_CASE("kill -9 keeps every acknowledged bitmap and HyperLogLog change (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  // Small checkpoints and memory: patches land on values that segments hold (checkpointed, and
  // offloaded out of memory), and recovery replays patches onto them.
  ServerProcess server(
      {"--appendfsync", "always", "--log-checkpoint-bytes", "64kb", "--maxmemory", "1mb"});
  server.Start();
  // Keys of database 0 and database 3 (another namespace), by name.
  std::map<std::pair<int, std::string>, std::string> model;
  std::map<std::pair<int, std::string>, std::string> hlls;  // as read back before the kill
  std::mt19937_64 rng(11);
  auto run = [&](int round) {
    Client c0(server.port());
    Client c3(server.port());
    REQUIRE(c3.Command({"SELECT", "3"}) == Reply::Status("OK"));
    std::vector<std::vector<std::string>> batch0, batch3;
    for (int i = 0; i < 3000; ++i) {
      const int db = rng() % 4 == 0 ? 3 : 0;
      const std::string key = "bits:" + std::to_string(rng() % 24);
      const int kind = static_cast<int>(rng() % 5);
      auto& batch = db == 0 ? batch0 : batch3;
      // Bitmaps of up to 32 KB each: together several times maxmemory.
      const std::uint64_t span = 32 * 1024 * 8;
      std::string& value = kind < 4 ? model[{db, key}] : model[{0, "unused"}];
      switch (kind) {
        case 0:
        case 1: {
          const std::uint64_t bit = rng() % span;
          const int on = static_cast<int>(rng() % 2);
          batch.push_back({"SETBIT", key, std::to_string(bit), std::to_string(on)});
          SetModelBit(&value, bit, on);
          break;
        }
        case 2: {
          const std::uint64_t at = rng() % (span / 8);
          const std::string bytes = dynakv::itest::RandomBytes(1 + rng() % 40, rng());
          batch.push_back({"SETRANGE", key, std::to_string(at), bytes});
          if (value.size() < at + bytes.size()) value.resize(at + bytes.size(), '\0');
          value.replace(at, bytes.size(), bytes);
          break;
        }
        case 3: {
          const std::uint64_t off = rng() % (span - 64);
          const std::uint64_t off2 = rng() % (span - 64);
          const std::uint64_t v = rng() % 4096;
          batch.push_back({"BITFIELD", key, "SET", "u12", std::to_string(off), std::to_string(v),
                           "INCRBY", "u7", std::to_string(off2), "100"});
          SetModelField(&value, off, 12, v);
          SetModelField(&value, off2, 7, (ModelField(value, off2, 7) + 100) % 128);
          break;
        }
        default: {
          const std::string hll = "hll:" + std::to_string(rng() % 4);
          std::vector<std::string> argv = {"PFADD", hll};
          for (int e = 0; e < 20; ++e) argv.push_back(std::to_string(rng() % 100000));
          batch.push_back(std::move(argv));
          hlls[{db, hll}];
          if (rng() % 3 == 0) batch.push_back({"PFCOUNT", hll});
        }
      }
    }
    auto not_error = [](const Reply& r) { return r.type != Reply::Type::kError; };
    RunAcknowledged(c0, batch0, not_error);
    RunAcknowledged(c3, batch3, not_error);
    // Transactions: one group with patches of two keys in two databases' worth of commands.
    for (int t = 0; t < 20; ++t) {
      const std::uint64_t bit = rng() % 4096;
      REQUIRE(c0.Command({"MULTI"}) == Reply::Status("OK"));
      REQUIRE(c0.Command({"SETBIT", "tx:a", std::to_string(bit), "1"}) == Reply::Status("QUEUED"));
      REQUIRE(c0.Command({"SETRANGE", "tx:b", std::to_string(bit), "xyz"}) ==
              Reply::Status("QUEUED"));
      REQUIRE(c0.Command({"PFADD", "tx:h", std::to_string(t)}) == Reply::Status("QUEUED"));
      REQUIRE(c0.Command({"EXEC"}).elements.size() == 3);
      SetModelBit(&model[{0, "tx:a"}], bit, 1);
      std::string& b = model[{0, "tx:b"}];
      if (b.size() < bit + 3) b.resize(bit + 3, '\0');
      b.replace(bit, 3, "xyz");
    }
    hlls[{0, "tx:h"}];
    CHECK(ReadInfoNumber(c0, "persistence", "checkpoints") > round);
    CHECK(ReadInfoNumber(c0, "stats", "offloaded_keys") > 0);
    for (auto& [slot, value] : hlls) {
      Client& c = slot.first == 0 ? c0 : c3;
      const Reply r = c.Command({"GET", slot.second});
      REQUIRE(r.type == Reply::Type::kString);
      value = r.str;
    }
  };
  model.erase({0, "unused"});
  auto verify = [&] {
    model.erase({0, "unused"});
    Client c0(server.port());
    Client c3(server.port());
    REQUIRE(c3.Command({"SELECT", "3"}) == Reply::Status("OK"));
    for (const auto& [slot, value] : model) {
      CAPTURE(slot.first);
      CAPTURE(slot.second);
      Client& c = slot.first == 0 ? c0 : c3;
      const Reply r = c.Command({"GET", slot.second});
      REQUIRE(r.type == Reply::Type::kString);
      CHECK(r.str.size() == value.size());
      CHECK(r.str == value);
    }
    for (const auto& [slot, value] : hlls) {
      CAPTURE(slot.second);
      Client& c = slot.first == 0 ? c0 : c3;
      CHECK(c.Command({"GET", slot.second}) == Reply::Bulk(value));
    }
  };
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    run(round);
    server.Kill();
    std::string report;
    const int status = CheckLogs(server.dir(), &report);
    CAPTURE(report);
    CHECK(status == 0);
    CHECK(report.find(": ok,") != std::string::npos);
    server.Start();
    verify();
  }
}
