// Hashes on disk: kill -9 keeps every acknowledged element (appendfsync always), a write to one
// field of a big hash logs that field and not the hash, offloaded hashes come back intact, and
// memory accounting counts what hashes hold.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

using dynakv::itest::KillAndRestart;
using dynakv::itest::LogBytesAppendedBy;
using dynakv::itest::PairsOf;
using dynakv::itest::RunAcknowledged;
using dynakv::itest::SkipUnlessDynakv;

namespace {

using Fields = std::map<std::string, std::string>;
using Model = std::map<std::string, Fields>;

void Verify(Client& c, const Model& model) {
  for (const auto& [key, fields] : model) {
    CAPTURE(key);
    if (fields.empty()) {
      CHECK(c.Command({"EXISTS", key}) == Reply::Int(0));
      continue;
    }
    REQUIRE(c.Command({"TYPE", key}) == Reply::Status("hash"));
    CHECK(PairsOf(c.Command({"HGETALL", key})) == fields);
    CHECK(c.Command({"HLEN", key}) == Reply::Int(static_cast<long long>(fields.size())));
  }
}

// Random element writes to 20 hashes (a few grow past the listpack limits), mirrored in *model.
void WriteRandomly(Client& c, std::uint64_t seed, int commands, Model* model) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < commands; ++i) {
    const std::string key = "hash:" + std::to_string(rng() % 20);
    Fields& fields = (*model)[key];
    const int spread = key == "hash:0" || key == "hash:1" ? 2000 : 40;
    const std::string field = "f" + std::to_string(rng() % spread);
    switch (rng() % 4) {
      case 0:
      case 1: {
        const std::string value = dynakv::itest::RandomBytes(1 + rng() % 90, rng());
        batch.push_back({"HSET", key, field, value, field + "x", "second"});
        fields[field] = value;
        fields[field + "x"] = "second";
        break;
      }
      case 2:
        batch.push_back({"HDEL", key, field, field + "x"});
        fields.erase(field);
        fields.erase(field + "x");
        break;
      default: {
        const std::string counter = "counter" + std::to_string(rng() % 3);
        batch.push_back({"HINCRBY", key, counter, "7"});
        fields[counter] =
            std::to_string(std::stoll(fields.count(counter) ? fields[counter] : "0") + 7);
      }
    }
  }
  RunAcknowledged(c, batch, [](const Reply& r) { return r.type == Reply::Type::kInteger; });
}

}  // namespace

TEST_CASE("kill -9 keeps every acknowledged hash element (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  // Small checkpoints: recovery replays element records onto hashes that segments hold whole.
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "65536"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteRandomly(c, 1, 6000, &model);
    REQUIRE(c.Command({"EXPIRE", "hash:5", "1000"}) == Reply::Int(1));
    // A hash emptied field by field is gone, on disk too.
    const Fields doomed = model["hash:7"];
    for (const auto& [field, value] : doomed) {
      REQUIRE(c.Command({"HDEL", "hash:7", field}) == Reply::Int(1));
    }
    model["hash:7"].clear();
    CHECK(ReadInfoNumber(c, "persistence", "checkpoints") > 0);
    Verify(c, model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
  const Reply ttl = c.Command({"TTL", "hash:5"});
  CHECK(ttl.integer > 900);
  CHECK(c.Command({"OBJECT", "ENCODING", "hash:0"}) == Reply::Bulk("hashtable"));

  // Again, with the crash right after more acknowledged writes on the recovered state.
  WriteRandomly(c, 2, 3000, &model);
  Client again = KillAndRestart(server);
  Verify(again, model);
}

TEST_CASE("HSET of one field into a big hash appends a small, bounded number of log bytes") {
  if (SkipUnlessDynakv()) return;
  // No checkpoint may restart the log between the two readings.
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  constexpr int kFields = 200000;
  std::vector<std::vector<std::string>> build;
  for (int start = 0; start < kFields; start += 1000) {
    std::vector<std::string> argv = {"HSET", "big"};
    for (int i = start; i < start + 1000; ++i) {
      argv.push_back("field:" + std::to_string(i));
      argv.push_back("value:" + std::to_string(i));
    }
    build.push_back(std::move(argv));
  }
  RunAcknowledged(c, build, [](const Reply& r) { return r == Reply::Int(1000); });
  REQUIRE(c.Command({"HLEN", "big"}) == Reply::Int(kFields));
  const long long hash_bytes = ReadInfoNumber(c, "persistence", "commit_log_bytes");
  REQUIRE(hash_bytes > kFields * 20);  // the hash is megabytes

  // Record header (9), key, op code, counts and the field: well under 100 bytes each.
  CHECK(LogBytesAppendedBy(c, {"HSET", "big", "new-field", "new-value"}, Reply::Int(1)) < 64);
  CHECK(LogBytesAppendedBy(c, {"HSET", "big", "field:7", "changed"}, Reply::Int(0)) < 64);
  CHECK(LogBytesAppendedBy(c, {"HINCRBY", "big", "counter", "5"}, Reply::Int(5)) < 64);
  CHECK(LogBytesAppendedBy(c, {"HDEL", "big", "field:8"}, Reply::Int(1)) < 64);
  CHECK(LogBytesAppendedBy(c, {"HSET", "big", "field:9", std::string(1000, 'v')}, Reply::Int(0)) <
        1100);
  // A read logs nothing.
  CHECK(LogBytesAppendedBy(c, {"HGET", "big", "field:10"}, Reply::Bulk("value:10")) == 0);

  // Memory accounting counts the hash: about its bytes, not a constant per key.
  CHECK(ReadInfoNumber(c, "memory", "used_memory") > kFields * 24);
}

TEST_CASE("hashes offloaded under a small maxmemory come back intact, also after a restart") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "256kb", "--log-checkpoint-bytes", "128kb"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    std::vector<std::vector<std::string>> writes;
    for (int k = 0; k < 60; ++k) {
      const std::string key = "offload:" + std::to_string(k);
      // Half the hashes stay listpacks, half are hashtables; compressible values.
      const int fields = k % 2 == 0 ? 100 : 600;
      for (int f = 0; f < fields; f += 4) {
        std::vector<std::string> argv = {"HSET", key};
        for (int j = f; j < f + 4; ++j) {
          const std::string field = "field-" + std::to_string(j);
          const std::string value =
              "value-" + std::to_string(j * k) + std::string(20, 'a' + k % 26);
          argv.push_back(field);
          argv.push_back(value);
          model[key][field] = value;
        }
        writes.push_back(std::move(argv));
      }
    }
    RunAcknowledged(c, writes, [](const Reply& r) { return r == Reply::Int(4); });
    CHECK(ReadInfoNumber(c, "stats", "offloaded_keys") > 0);
    // What maxmemory bounds (used_memory is the allocator's total, buffers included).
    CHECK(ReadInfoNumber(c, "memory", "memtable_bytes") <= 256 * 1024 + 32 * 1024);
    Verify(c, model);  // reads bring hashes back from the segments
    // An offloaded hash takes element writes (loaded, changed, logged as the element).
    REQUIRE(c.Command({"HSET", "offload:1", "late", "write"}) == Reply::Int(1));
    model["offload:1"]["late"] = "write";
    REQUIRE(c.Command({"HDEL", "offload:2", "field-0"}) == Reply::Int(1));
    model["offload:2"].erase("field-0");
    Verify(c, model);
    CHECK(c.Command({"OBJECT", "ENCODING", "offload:1"}) == Reply::Bulk("hashtable"));
    CHECK(c.Command({"OBJECT", "ENCODING", "offload:2"}) == Reply::Bulk("listpack"));
  }
  server.Stop();
  server.Start();
  Client c(server.port());
  Verify(c, model);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(60));
  Reply scan = c.Command({"SCAN", "0", "TYPE", "hash", "COUNT", "1000"});
  REQUIRE(scan.elements.size() == 2);
  CHECK(scan.elements[1].elements.size() == 60);
}

TEST_CASE("kill -9 in the middle of heavy hash writes, checkpoints and offloads") {
  if (SkipUnlessDynakv()) return;
  // A small memtable and log: checkpoints (which serialize whole hashes) and offloads run all the
  // time, so the kill lands in the middle of them.
  ServerProcess server(
      {"--appendfsync", "always", "--maxmemory", "256kb", "--log-checkpoint-bytes", "256kb"});
  server.Start();
  Model model;
  std::mt19937_64 rng(7);
  constexpr int kBatch = 300;
  using Slot = std::pair<std::string, std::string>;  // key, field
  long long checkpoints = 0;
  long long offloads = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    CAPTURE(cycle);
    // The field writes in flight when the server died: old or new state (nullopt: absent).
    std::map<Slot, std::pair<std::optional<std::string>, std::optional<std::string>>> in_flight;
    {
      Client c(server.port());
      const int full_batches = 5 + static_cast<int>(rng() % 15);
      for (int batch = 0; batch <= full_batches; ++batch) {
        std::vector<std::pair<Slot, std::optional<std::string>>> ops;
        std::set<Slot> touched;  // one operation per field and batch
        while (static_cast<int>(ops.size()) < kBatch) {
          const Slot slot{"crash:" + std::to_string(rng() % 30), "f" + std::to_string(rng() % 400)};
          if (!touched.insert(slot).second) continue;
          const bool del = rng() % 5 == 0;
          std::optional<std::string> next;
          if (!del) next = dynakv::itest::RandomBytes(1 + rng() % 120, rng());
          ops.emplace_back(slot, next);
          if (del) {
            c.Append({"HDEL", slot.first, slot.second});
          } else {
            c.Append({"HSET", slot.first, slot.second, *next});
          }
        }
        const std::size_t acked = batch < full_batches ? ops.size() : 1 + rng() % (ops.size() - 1);
        for (std::size_t i = 0; i < ops.size(); ++i) {
          const auto& [slot, next] = ops[i];
          Fields& fields = model[slot.first];
          std::optional<std::string> old;
          if (fields.count(slot.second)) old = fields[slot.second];
          if (i >= acked) {
            in_flight[slot] = {old, next};
            continue;
          }
          const Reply r = c.GetReply();
          const Reply want = next ? Reply::Int(old ? 0 : 1) : Reply::Int(old ? 1 : 0);
          if (!(r == want)) {
            CAPTURE(slot.first);
            CAPTURE(slot.second);
            REQUIRE(r == want);
          }
          if (next) {
            fields[slot.second] = *next;
          } else {
            fields.erase(slot.second);
          }
        }
        if (batch == full_batches) {
          Client observer(server.port());
          checkpoints += ReadInfoNumber(observer, "persistence", "checkpoints");
          offloads += ReadInfoNumber(observer, "stats", "offloaded_keys");
          server.Kill();
        }
      }
    }
    server.Start();
    Client c(server.port());
    std::map<std::string, Fields> actual;
    for (const auto& [key, fields] : model) actual[key] = PairsOf(c.Command({"HGETALL", key}));
    for (const auto& [slot, states] : in_flight) {
      Fields& fields = actual[slot.first];
      std::optional<std::string> got;
      if (fields.count(slot.second)) got = fields[slot.second];
      if (got != states.first && got != states.second) {
        CAPTURE(slot.first);
        CAPTURE(slot.second);
        FAIL_CHECK("a field in flight at the crash holds neither its old nor its new value");
      }
      // Whatever it holds now is what the model expects from here on.
      if (got) {
        model[slot.first][slot.second] = *got;
      } else {
        model[slot.first].erase(slot.second);
      }
    }
    Verify(c, model);
  }
  // The crashes did land among checkpoints and offloads.
  CHECK(checkpoints > 0);
  CHECK(offloads > 0);
  server.Stop();
}
