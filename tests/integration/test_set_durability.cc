// Sets on disk: kill -9 keeps every acknowledged member (appendfsync always), including what
// SPOP removed at random (logged as the members it popped), SMOVE's two sides and STORE results;
// a write of one member to a big set logs that member and not the set.
#include <doctest/doctest.h>

#include <map>
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
using dynakv::itest::SkipUnlessDynakv;

namespace {

using Members = std::set<std::string>;
using Model = std::map<std::string, Members>;

Members AsMembers(const Reply& reply) {
  Members out;
  for (const Reply& e : reply.elements) out.insert(e.str);
  return out;
}

void Verify(Client& c, const Model& model) {
  for (const auto& [key, members] : model) {
    CAPTURE(key);
    if (members.empty()) {
      CHECK(c.Command({"EXISTS", key}) == Reply::Int(0));
      continue;
    }
    REQUIRE(c.Command({"TYPE", key}) == Reply::Status("set"));
    CHECK(AsMembers(c.Command({"SMEMBERS", key})) == members);
    CHECK(c.Command({"SCARD", key}) == Reply::Int(static_cast<long long>(members.size())));
  }
}

// Random writes to 12 sets (set:0 and set:1 grow past the intset limit; odd sets hold words),
// pipelined in batches; each reply is checked against *model, which follows what the server
// acknowledged (SPOP's members from its reply).
void WriteRandomly(Client& c, std::uint64_t seed, int commands, Model* model) {
  std::mt19937_64 rng(seed);
  auto member = [&](const std::string& key) {
    const int spread = key == "set:0" || key == "set:1" ? 3000 : 40;
    const std::string n = std::to_string(rng() % spread);
    return key.back() % 2 == 1 && rng() % 4 == 0 ? "w" + n : n;
  };
  constexpr int kBatch = 200;
  for (int start = 0; start < commands; start += kBatch) {
    std::vector<std::vector<std::string>> batch;
    for (int i = start; i < std::min(commands, start + kBatch); ++i) {
      const std::string key = "set:" + std::to_string(rng() % 12);
      const std::string other = "set:" + std::to_string(rng() % 12);
      switch (rng() % 8) {
        case 0:
        case 1:
        case 2:
          batch.push_back({"SADD", key, member(key), member(key), member(key)});
          break;
        case 3:
          batch.push_back({"SREM", key, member(key), member(key)});
          break;
        case 4:
          batch.push_back({"SPOP", key, std::to_string(rng() % 4)});
          break;
        case 5:
          batch.push_back({"SMOVE", key, other, member(key)});
          break;
        case 6:
          if (rng() % 4 == 0 && key != "set:0" && key != "set:1") {
            batch.push_back({rng() % 2 == 0 ? "SINTERSTORE" : "SDIFFSTORE", key, key, other});
          } else {
            batch.push_back({"SPOP", key});
          }
          break;
        default:
          batch.push_back({"SUNIONSTORE", "union:" + std::to_string(rng() % 3), key, other});
      }
    }
    for (const auto& argv : batch) c.Append(argv);
    for (const auto& argv : batch) {
      const Reply r = c.GetReply();
      CAPTURE(argv[0]);
      CAPTURE(r);
      const std::string& name = argv[0];
      Members& set = (*model)[argv[1]];
      if (name == "SADD") {
        long long added = 0;
        for (std::size_t i = 2; i < argv.size(); ++i) added += set.insert(argv[i]).second ? 1 : 0;
        REQUIRE(r == Reply::Int(added));
      } else if (name == "SREM") {
        long long removed = 0;
        for (std::size_t i = 2; i < argv.size(); ++i) removed += set.erase(argv[i]);
        REQUIRE(r == Reply::Int(removed));
      } else if (name == "SPOP" && argv.size() == 3) {
        REQUIRE(r.type == Reply::Type::kArray);
        REQUIRE(r.elements.size() == std::min<std::size_t>(set.size(), std::stoul(argv[2])));
        for (const Reply& m : r.elements) REQUIRE(set.erase(m.str) == 1);
      } else if (name == "SPOP") {
        if (set.empty()) {
          REQUIRE(r.type == Reply::Type::kNil);
        } else {
          REQUIRE(r.type == Reply::Type::kString);
          REQUIRE(set.erase(r.str) == 1);
        }
      } else if (name == "SMOVE") {
        const bool present = set.count(argv[3]) == 1;
        REQUIRE(r == Reply::Int(present ? 1 : 0));
        if (present && argv[1] != argv[2]) {
          set.erase(argv[3]);
          (*model)[argv[2]].insert(argv[3]);
        }
      } else {
        const Members a = (*model)[argv[2]];
        const Members b = (*model)[argv[3]];
        Members result;
        for (const std::string& m : a) {
          const bool in_b = b.count(m) == 1;
          if (name == "SINTERSTORE" ? in_b : (name == "SDIFFSTORE" ? !in_b : true))
            result.insert(m);
        }
        if (name == "SUNIONSTORE") result.insert(b.begin(), b.end());
        (*model)[argv[1]] = result;
        REQUIRE(r == Reply::Int(static_cast<long long>(result.size())));
      }
    }
  }
}

}  // namespace

TEST_CASE("kill -9 keeps every acknowledged set member (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  // Small checkpoints: recovery replays element records onto sets that segments hold whole.
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "65536"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteRandomly(c, 1, 8000, &model);
    REQUIRE(c.Command({"SADD", "set:5", "x"}).type == Reply::Type::kInteger);
    model["set:5"].insert("x");
    REQUIRE(c.Command({"EXPIRE", "set:5", "1000"}) == Reply::Int(1));
    CHECK(ReadInfoNumber(c, "persistence", "checkpoints") > 0);
    Verify(c, model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
  CHECK(c.Command({"TTL", "set:5"}).integer > 900);
  CHECK(c.Command({"OBJECT", "ENCODING", "set:0"}) == Reply::Bulk("hashtable"));
  CHECK(c.Command({"OBJECT", "ENCODING", "set:2"}) == Reply::Bulk("intset"));

  // Again, with the crash right after more acknowledged writes on the recovered state.
  WriteRandomly(c, 2, 4000, &model);
  Client again = KillAndRestart(server);
  Verify(again, model);
}

TEST_CASE("a write of one member to a big set appends a small, bounded number of log bytes") {
  if (SkipUnlessDynakv()) return;
  // No checkpoint may restart the log between the two readings.
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  constexpr int kMembers = 200000;
  for (int start = 0; start < kMembers; start += 1000) {
    std::vector<std::string> argv = {"SADD", "big"};
    for (int i = start; i < start + 1000; ++i) argv.push_back("member:" + std::to_string(i));
    c.Append(argv);
  }
  for (int start = 0; start < kMembers; start += 1000) REQUIRE(c.GetReply() == Reply::Int(1000));
  REQUIRE(c.Command({"SCARD", "big"}) == Reply::Int(kMembers));
  REQUIRE(ReadInfoNumber(c, "persistence", "commit_log_bytes") > kMembers * 10);

  CHECK(LogBytesAppendedBy(c, {"SADD", "big", "new-member"}) < 64);
  CHECK(LogBytesAppendedBy(c, {"SREM", "big", "member:7"}) < 64);
  CHECK(LogBytesAppendedBy(c, {"SPOP", "big"}) < 64);
  CHECK(LogBytesAppendedBy(c, {"SPOP", "big", "3"}) < 100);
  CHECK(LogBytesAppendedBy(c, {"SMOVE", "big", "small", "member:9"}) < 128);
  // Reads, and writes that change nothing, log nothing.
  CHECK(LogBytesAppendedBy(c, {"SISMEMBER", "big", "member:10"}) == 0);
  CHECK(LogBytesAppendedBy(c, {"SREM", "big", "no-such-member"}) == 0);
  // Nor does an SADD of members all there (Redis propagates none): no record, and the set stays
  // clean for the next checkpoint.
  CHECK(LogBytesAppendedBy(c, {"SADD", "big", "member:11"}) == 0);
  CHECK(LogBytesAppendedBy(c, {"SADD", "big", "member:11", "member:12"}) == 0);
  CHECK(LogBytesAppendedBy(c, {"SADD", "big", "member:11", "one-more"}) > 0);
}

TEST_CASE("sets offloaded under a small maxmemory come back intact, also after a restart") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "256kb", "--log-checkpoint-bytes", "128kb"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    // 60 sets of 400 members (every third holds words: hashtable; the others stay intsets):
    // far more than 256 KB, so most live in segments.
    for (int s = 0; s < 60; ++s) {
      const std::string key = "off:" + std::to_string(s);
      std::vector<std::string> argv = {"SADD", key};
      for (int i = 0; i < 400; ++i) {
        argv.push_back(s % 3 == 0 ? "word-" + std::to_string(i * 7 + s)
                                  : std::to_string(i * 7 + s));
        model[key].insert(argv.back());
      }
      REQUIRE(c.Command(argv) == Reply::Int(400));
    }
    CHECK(ReadInfoNumber(c, "memory", "memtable_bytes") <= 256 * 1024 + 32 * 1024);
    // An offloaded set takes element writes (loaded, changed, logged as the element).
    for (int s = 0; s < 60; s += 7) {
      const std::string key = "off:" + std::to_string(s);
      const std::string gone = *model[key].begin();
      REQUIRE(c.Command({"SREM", key, gone}) == Reply::Int(1));
      model[key].erase(gone);
      REQUIRE(c.Command({"SADD", key, "extra"}) == Reply::Int(1));
      model[key].insert("extra");
    }
    Verify(c, model);
    CHECK(c.Command({"OBJECT", "ENCODING", "off:1"}) == Reply::Bulk("intset"));
    CHECK(c.Command({"OBJECT", "ENCODING", "off:3"}) == Reply::Bulk("hashtable"));
  }
  server.Stop();
  server.Start();
  Client c(server.port());
  Verify(c, model);
  CHECK(c.Command({"OBJECT", "ENCODING", "off:1"}) == Reply::Bulk("intset"));
  CHECK(c.Command({"OBJECT", "ENCODING", "off:7"}) == Reply::Bulk("hashtable"));  // got "extra"
}
