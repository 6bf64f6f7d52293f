// Durability: what the server acknowledged survives kill -9 (appendfsync always, also in the
// middle of heavy writes) and a graceful SIGTERM (even with appendfsync no), values, deletes and
// TTLs included.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::KillAndRestart;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

namespace {

constexpr long long kTtlMs = 1000 * 1000;  // EX 1000

struct Expected {
  std::string value;
  bool has_ttl = false;
  bool deleted = false;  // kept so Verify checks the delete survived too
};
using Model = std::map<std::string, Expected>;

// Sends commands in pipelined batches and requires each to be acknowledged with `ack`.
void RunAcknowledged(Client& c, const std::vector<std::vector<std::string>>& commands,
                     const Reply& ack) {
  constexpr std::size_t kBatch = 256;
  for (std::size_t start = 0; start < commands.size(); start += kBatch) {
    std::size_t end = std::min(commands.size(), start + kBatch);
    for (std::size_t i = start; i < end; ++i) c.Append(commands[i]);
    for (std::size_t i = start; i < end; ++i) {
      Reply r = c.GetReply();
      if (!(r == ack)) {
        CAPTURE(commands[i][0]);
        CAPTURE(commands[i][1]);
        REQUIRE(r == ack);
      }
    }
  }
}

// Writes `count` keys named prefix:N (every 10th with EX 1000), then overwrites every 7th and
// deletes every 50th, recording the final state in `model`.
void WriteKeys(Client& c, const std::string& prefix, int count, Model* model) {
  std::vector<std::vector<std::string>> sets, overwrites;
  for (int i = 0; i < count; ++i) {
    std::string key = prefix + ":" + std::to_string(i);
    // Mixed sizes, some compressible text, some random bytes with NULs and CRLFs.
    std::string value = (i % 2 == 0)
                            ? dynakv::itest::RandomBytes(1 + (i * 37) % 3000, i)
                            : "value-" + std::to_string(i) + std::string((i * 13) % 500, 'x');
    bool ttl = i % 10 == 0;
    if (ttl) {
      sets.push_back({"SET", key, value, "EX", std::to_string(kTtlMs / 1000)});
    } else {
      sets.push_back({"SET", key, value});
    }
    (*model)[key] = {value, ttl};
    if (i % 7 == 3) {
      std::string newer = "overwritten-" + std::to_string(i);
      overwrites.push_back({"SET", key, newer});
      (*model)[key] = {newer, false};
    }
  }
  RunAcknowledged(c, sets, Reply::Status("OK"));
  RunAcknowledged(c, overwrites, Reply::Status("OK"));
  std::vector<std::vector<std::string>> deletes;
  for (int i = 0; i < count; i += 50) {
    std::string key = prefix + ":" + std::to_string(i);
    deletes.push_back({"DEL", key});
    (*model)[key] = {"", false, true};
  }
  RunAcknowledged(c, deletes, Reply::Int(1));
}

// Every live key of the model holds its value and TTL; deleted keys stay deleted; nothing else
// exists.
void Verify(Client& c, const Model& model) {
  long long live = 0;
  for (const auto& [key, expected] : model) live += expected.deleted ? 0 : 1;
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(live));
  std::vector<const Model::value_type*> entries;
  for (const auto& entry : model) entries.push_back(&entry);
  int mismatches = 0;
  // Pipelined in batches, so the server never holds megabytes of unread replies.
  constexpr std::size_t kBatch = 256;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i % kBatch == 0) {
      for (std::size_t j = i; j < std::min(entries.size(), i + kBatch); ++j) {
        c.Append({"GET", entries[j]->first});
        c.Append({"PTTL", entries[j]->first});
      }
    }
    const auto& [key, expected] = *entries[i];
    Reply value = c.GetReply();
    Reply pttl = c.GetReply();
    bool ok;
    if (expected.deleted) {
      ok = value == Reply::Nil() && pttl == Reply::Int(-2);
    } else if (expected.has_ttl) {
      ok = value == Reply::Bulk(expected.value) && pttl.type == Reply::Type::kInteger &&
           pttl.integer > 0 && pttl.integer <= kTtlMs;
    } else {
      ok = value == Reply::Bulk(expected.value) && pttl == Reply::Int(-1);
    }
    // Report the first few bad keys in full rather than thousands of lines.
    if (!ok && ++mismatches <= 5) {
      CAPTURE(key);
      CAPTURE(value);
      CAPTURE(pttl);
      FAIL_CHECK("key not restored as written");
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("appendfsync always: acknowledged writes survive kill -9") {
  ServerProcess server({"--appendfsync", "always"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteKeys(c, "a", 10000, &model);
    // Keys that expire while the server is down must not come back.
    for (int i = 0; i < 100; ++i) c.Append({"SET", "short:" + std::to_string(i), "v", "PX", "300"});
    for (int i = 0; i < 100; ++i) REQUIRE(c.GetReply() == Reply::Status("OK"));
    REQUIRE(c.Command({"INCRBY", "counter", "41"}) == Reply::Int(41));
    REQUIRE(c.Command({"INCR", "counter"}) == Reply::Int(42));
  }
  server.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  server.Start();
  {
    Client c(server.port());
    REQUIRE(c.Command({"GET", "counter"}) == Reply::Bulk("42"));
    REQUIRE(c.Command({"DEL", "counter"}) == Reply::Int(1));
    // Touching them all also reclaims them, so DBSIZE below counts only live keys.
    std::vector<std::string> exists = {"EXISTS"};
    for (int i = 0; i < 100; ++i) exists.push_back("short:" + std::to_string(i));
    CHECK(c.Command(exists) == Reply::Int(0));
    Verify(c, model);
    // Recovery leaves a working log: more writes, a second crash, everything still there.
    WriteKeys(c, "b", 2000, &model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
  server.Stop();
}

TEST_CASE("appendfsync everysec: writes older than a second survive kill -9") {
  ServerProcess server({"--appendfsync", "everysec"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteKeys(c, "e", 2000, &model);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  Client c = KillAndRestart(server);
  Verify(c, model);
  server.Stop();
}

TEST_CASE("appendfsync no: SIGTERM flushes everything before exiting") {
  ServerProcess server({"--appendfsync", "no"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteKeys(c, "g", 10000, &model);
  }
  server.Stop();
  server.Start();
  {
    Client c(server.port());
    Verify(c, model);
  }
  // A second graceful cycle after recovery.
  server.Stop();
  server.Start();
  Client c(server.port());
  Verify(c, model);
  server.Stop();
}

TEST_CASE("kill -9 in the middle of heavy writes, checkpoints and offloads") {
  // A small memtable and commit log keep segment writes and log checkpoints going all the time,
  // so the kill lands in the middle of them.
  ServerProcess server(
      {"--appendfsync", "always", "--maxmemory", "256kb", "--log-checkpoint-bytes", "1mb"});
  server.Start();
  Model model;
  std::vector<std::string> keys;  // every key ever written, for overwrites and deletes
  std::mt19937_64 rng(42);
  constexpr int kBatch = 200;
  for (int cycle = 0; cycle < 3; ++cycle) {
    CAPTURE(cycle);
    // The batch in flight when the server died: each key in it may hold its old or new state.
    std::map<std::string, std::pair<Expected, Expected>> in_flight;
    {
      Client c(server.port());
      int full_batches = 5 + static_cast<int>(rng() % 20);
      for (int batch = 0; batch <= full_batches; ++batch) {
        std::vector<std::pair<std::string, Expected>> ops;
        std::set<std::string> touched;  // one operation per key and batch
        while (static_cast<int>(ops.size()) < kBatch) {
          int kind = static_cast<int>(rng() % 20);
          std::string key;
          if (kind < 14 || keys.empty()) {
            key = "crash:" + std::to_string(keys.size());
            keys.push_back(key);
          } else {
            key = keys[rng() % keys.size()];
          }
          if (!touched.insert(key).second) continue;
          bool del = kind >= 18 && model.count(key) == 1;
          Expected next = del ? Expected{"", false, true}
                              : Expected{dynakv::itest::RandomBytes(500 + rng() % 2500, rng())};
          ops.emplace_back(key, next);
          if (del) {
            c.Append({"DEL", key});
          } else {
            c.Append({"SET", key, next.value});
          }
        }
        // The last batch is cut short: only some replies are read before the kill.
        std::size_t acked = batch < full_batches ? ops.size() : 1 + rng() % (ops.size() - 1);
        for (std::size_t i = 0; i < ops.size(); ++i) {
          const auto& [key, next] = ops[i];
          Expected old = model.count(key) ? model[key] : Expected{"", false, true};
          if (i >= acked) {
            in_flight[key] = {old, next};
            continue;
          }
          Reply r = c.GetReply();
          Reply want = next.deleted ? Reply::Int(old.deleted ? 0 : 1) : Reply::Status("OK");
          if (!(r == want)) {
            CAPTURE(key);
            REQUIRE(r == want);
          }
          model[key] = next;
        }
        if (batch == full_batches) server.Kill();
      }
    }
    server.Start();
    Client c(server.port());
    for (auto& [key, states] : in_flight) {
      Reply got = c.Command({"GET", key});
      Expected actual = got.type == Reply::Type::kNil ? Expected{"", false, true}
                                                      : Expected{got.str, false, false};
      auto same = [&](const Expected& e) {
        return e.deleted ? actual.deleted : !actual.deleted && actual.value == e.value;
      };
      if (!same(states.first) && !same(states.second)) {
        CAPTURE(key);
        CAPTURE(got);
        FAIL_CHECK("a key in flight at the crash holds neither its old nor its new value");
      }
      model[key] = actual;
    }
    Verify(c, model);
  }
  server.Stop();
}
