// Sorted sets on disk: kill -9 keeps every acknowledged element (appendfsync always), ZINCRBY's
// logged result replays exactly, a write to one member of a big set logs that member and not
// the set, and offloaded sets come back intact.
#include <doctest/doctest.h>

#include <map>
#include <random>
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

// key -> member -> score text as ZSCORE replies it.
using Members = std::map<std::string, std::string>;
using Model = std::map<std::string, Members>;

void Verify(Client& c, const Model& model) {
  for (const auto& [key, members] : model) {
    CAPTURE(key);
    if (members.empty()) {
      CHECK(c.Command({"EXISTS", key}) == Reply::Int(0));
      continue;
    }
    REQUIRE(c.Command({"TYPE", key}) == Reply::Status("zset"));
    CHECK(PairsOf(c.Command({"ZRANGE", key, "0", "-1", "WITHSCORES"})) == members);
    CHECK(c.Command({"ZCARD", key}) == Reply::Int(static_cast<long long>(members.size())));
  }
}

// Random element writes to 20 sets (two grow past the listpack limits), mirrored in *model with
// the scores the server acknowledged (ZINCRBY's reply is the resulting score).
void WriteRandomly(Client& c, std::uint64_t seed, int commands, Model* model) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < commands; ++i) {
    const std::string key = "zset:" + std::to_string(rng() % 20);
    Members& members = (*model)[key];
    const int spread = key == "zset:0" || key == "zset:1" ? 2000 : 40;
    const std::string member = "m" + std::to_string(rng() % spread);
    // Pipelined one by one would be slower than needed; the replies decide the model, so
    // commands go in small pipelines of their own.
    switch (rng() % 4) {
      case 0:
      case 1: {
        const std::string score = std::to_string(static_cast<int>(rng() % 1000) - 500) + ".25";
        REQUIRE(c.Command({"ZADD", key, score, member}).type == Reply::Type::kInteger);
        members[member] = c.Command({"ZSCORE", key, member}).str;
        break;
      }
      case 2:
        REQUIRE(c.Command({"ZREM", key, member}).type == Reply::Type::kInteger);
        members.erase(member);
        break;
      default: {
        const Reply r = c.Command({"ZINCRBY", key, "0.1", member});
        REQUIRE(r.type == Reply::Type::kString);
        members[member] = r.str;
      }
    }
  }
}

}  // namespace

TEST_CASE("kill -9 keeps every acknowledged sorted set element (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "65536"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteRandomly(c, 1, 5000, &model);
    REQUIRE(c.Command({"EXPIRE", "zset:5", "1000"}) == Reply::Int(1));
    // Emptied member by member (ZPOPMIN, ZREMRANGEBYRANK), a set is gone, on disk too.
    REQUIRE(c.Command({"ZPOPMIN", "zset:7", "3"}).type == Reply::Type::kArray);
    REQUIRE(c.Command({"ZREMRANGEBYRANK", "zset:7", "0", "-1"}).type == Reply::Type::kInteger);
    model["zset:7"].clear();
    // A range removal and a store, logged as members and as a whole value.
    const Reply popped = c.Command({"ZREMRANGEBYSCORE", "zset:8", "-inf", "0"});
    REQUIRE(popped.type == Reply::Type::kInteger);
    model["zset:8"] = PairsOf(c.Command({"ZRANGE", "zset:8", "0", "-1", "WITHSCORES"}));
    REQUIRE(c.Command({"ZRANGESTORE", "stored", "zset:9", "0", "4"}).type == Reply::Type::kInteger);
    model["stored"] = PairsOf(c.Command({"ZRANGE", "stored", "0", "-1", "WITHSCORES"}));
    CHECK(ReadInfoNumber(c, "persistence", "checkpoints") > 0);
    Verify(c, model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
  CHECK(c.Command({"TTL", "zset:5"}).integer > 900);
  CHECK(c.Command({"OBJECT", "ENCODING", "zset:0"}) == Reply::Bulk("skiplist"));
  CHECK(c.Command({"OBJECT", "ENCODING", "zset:3"}) == Reply::Bulk("listpack"));

  WriteRandomly(c, 2, 2000, &model);
  Client again = KillAndRestart(server);
  Verify(again, model);
}

TEST_CASE("ZADD of one member into a big sorted set appends a small, bounded number of log bytes") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  constexpr int kMembers = 200000;
  std::vector<std::vector<std::string>> build;
  for (int start = 0; start < kMembers; start += 1000) {
    std::vector<std::string> argv = {"ZADD", "big"};
    for (int i = start; i < start + 1000; ++i) {
      argv.push_back(std::to_string(i));
      argv.push_back("member:" + std::to_string(i));
    }
    build.push_back(std::move(argv));
  }
  RunAcknowledged(c, build, [](const Reply& r) { return r == Reply::Int(1000); });
  REQUIRE(c.Command({"ZCARD", "big"}) == Reply::Int(kMembers));
  CHECK(LogBytesAppendedBy(c, {"ZADD", "big", "1.5", "new-member"}, Reply::Int(1)) < 64);
  CHECK(LogBytesAppendedBy(c, {"ZINCRBY", "big", "5", "member:7"}, Reply::Bulk("12")) < 64);
  CHECK(LogBytesAppendedBy(c, {"ZREM", "big", "member:8"}, Reply::Int(1)) < 64);
  CHECK(LogBytesAppendedBy(c, {"ZPOPMAX", "big"},
                           Reply::Array({Reply::Bulk("member:199999"), Reply::Bulk("199999")})) <
        64);
  CHECK(LogBytesAppendedBy(c, {"ZSCORE", "big", "member:10"}, Reply::Bulk("10")) == 0);
  // Below it: members 0..99999, less member:8, plus new-member.
  CHECK(LogBytesAppendedBy(c, {"ZRANK", "big", "member:100000"}, Reply::Int(100000)) == 0);
  CHECK(ReadInfoNumber(c, "memory", "used_memory") > kMembers * 24);
}

TEST_CASE("sorted sets offloaded under a small maxmemory come back intact, also after a restart") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "256kb", "--log-checkpoint-bytes", "128kb"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    std::vector<std::vector<std::string>> writes;
    for (int k = 0; k < 60; ++k) {
      const std::string key = "offload:" + std::to_string(k);
      const int members = k % 2 == 0 ? 100 : 400;  // listpacks and skiplists
      for (int m = 0; m < members; ++m) {
        const std::string member = "member-" + std::to_string(m) + std::string(10, 'a' + k % 26);
        writes.push_back({"ZADD", key, std::to_string(m % 17), member});
        model[key][member] = std::to_string(m % 17);
      }
    }
    RunAcknowledged(c, writes, [](const Reply& r) { return r == Reply::Int(1); });
    Verify(c, model);
  }
  server.Stop();
  server.Start();
  Client c(server.port());
  Verify(c, model);
}
