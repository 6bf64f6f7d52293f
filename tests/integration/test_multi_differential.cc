// Transactions against the installed redis-server 7: MULTI/EXEC/DISCARD/WATCH/UNWATCH scenarios
// driven on two (or three) connections to each server, every reply compared; the same in RESP3
// byte for byte; and seeded random MULTI blocks mixing the data types.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::DescribeCommand;
using dynakv::itest::Flags;
using dynakv::itest::Reply;

namespace {

// One step of a scenario: which connection sends what; a pause stands for time passing.
struct Step {
  int conn = 0;
  std::vector<std::string> argv;
  int sleep_ms = 0;
};
using Scenario = std::vector<Step>;

Step On(int conn, std::vector<std::string> argv) { return Step{conn, std::move(argv), 0}; }
Step A(std::vector<std::string> argv) { return On(0, std::move(argv)); }
Step B(std::vector<std::string> argv) { return On(1, std::move(argv)); }
Step Sleep(int ms) { return Step{0, {}, ms}; }

// Runs `steps` on both servers, connection by connection, comparing every reply. Commands sent
// with conn 2 are sent without reading their reply (a client that blocks); Collect(2) reads it.
struct PairRun {
  explicit PairRun(const Flags& flags = {}) : servers(flags, flags) {}

  void Run(const std::string& name, const Scenario& steps) {
    CAPTURE(name);
    auto& [ours, reference] = servers;
    std::vector<Client> mine, theirs;
    for (int i = 0; i < 3; ++i) {
      mine.emplace_back(ours.port());
      theirs.emplace_back(reference.port());
    }
    mine[0].Command({"FLUSHALL"});
    theirs[0].Command({"FLUSHALL"});
    std::string history;
    for (const Step& step : steps) {
      if (step.sleep_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
        continue;
      }
      if (step.argv.size() == 1 && step.argv[0] == "<collect>") {
        const Reply got = mine[2].GetReply();
        const Reply want = theirs[2].GetReply();
        history += "  [2] <reply of the blocked command>\n";
        CAPTURE(history);
        CHECK(got == want);
        continue;
      }
      history += "  [" + std::to_string(step.conn) + "] " + DescribeCommand(step.argv) + "\n";
      if (step.conn == 2) {
        mine[2].Append(step.argv);
        theirs[2].Append(step.argv);
        continue;
      }
      const Reply got = mine[step.conn].Command(step.argv);
      const Reply want = theirs[step.conn].Command(step.argv);
      CAPTURE(history);
      CAPTURE(ours.LogTail(600));
      REQUIRE(got.type != Reply::Type::kIoError);
      CHECK(got == want);
    }
  }

  dynakv::itest::ReferencePair servers;
};

const std::vector<std::pair<std::string, Scenario>>& Scenarios() {
  static const std::vector<std::pair<std::string, Scenario>> kScenarios = {
      {"queued commands run in order",
       {A({"MULTI"}), A({"SET", "a", "1"}), A({"INCR", "a"}), A({"GET", "a"}),
        A({"RPUSH", "l", "x", "y"}), A({"LRANGE", "l", "0", "-1"}), A({"PING"}), A({"ECHO", "hi"}),
        A({"EXEC"}), A({"GET", "a"})}},
      {"an empty transaction", {A({"MULTI"}), A({"EXEC"})}},
      {"an unknown command while queuing aborts EXEC, nothing applied",
       {A({"SET", "a", "old"}), A({"MULTI"}), A({"SET", "a", "1"}), A({"NOSUCHCOMMAND", "x"}),
        A({"INCR", "b"}), A({"EXEC"}), A({"GET", "a"}), A({"GET", "b"})}},
      {"a wrong arity while queuing aborts EXEC",
       {A({"MULTI"}), A({"SET", "a"}), A({"GET", "a", "b"}), A({"EXEC"}), A({"EXISTS", "a"})}},
      {"an unknown subcommand while queuing aborts EXEC",
       {A({"MULTI"}), A({"CLIENT", "NOSUCH"}), A({"SET", "a", "1"}), A({"EXEC"}), A({"GET", "a"})}},
      {"runtime errors are replied per command, the rest applies",
       {A({"MULTI"}), A({"SET", "a", "1"}), A({"LPUSH", "a", "x"}), A({"INCR", "a"}),
        A({"HSET", "h", "f", "v"}), A({"INCR", "h"}), A({"SET", "n", "nan"}),
        A({"INCRBY", "n", "1"}), A({"EXEC"}), A({"GET", "a"}), A({"HGET", "h", "f"})}},
      {"MULTI nested is refused without aborting",
       {A({"MULTI"}), A({"SET", "x", "1"}), A({"MULTI"}), A({"INCR", "x"}), A({"EXEC"}),
        A({"GET", "x"})}},
      {"EXEC and DISCARD without MULTI",
       {A({"EXEC"}), A({"DISCARD"}), A({"MULTI"}), A({"SET", "d", "1"}), A({"DISCARD"}),
        A({"GET", "d"}), A({"DISCARD"}), A({"EXEC"})}},
      {"EXEC with arguments aborts the transaction",
       {A({"MULTI"}), A({"SET", "e", "1"}), A({"EXEC", "now"}), A({"EXEC"}), A({"GET", "e"})}},
      {"DISCARD and MULTI with arguments",
       {A({"MULTI"}), A({"DISCARD", "x"}), A({"MULTI", "x"}), A({"EXEC"})}},
      {"WATCH inside MULTI is refused without aborting",
       {A({"MULTI"}), A({"WATCH", "k"}), A({"SET", "k", "1"}), A({"EXEC"}), A({"GET", "k"})}},
      {"WATCH without keys inside MULTI aborts",
       {A({"MULTI"}), A({"WATCH"}), A({"SET", "k", "1"}), A({"EXEC"}), A({"GET", "k"})}},
      {"a no_multi command is refused and aborts", {A({"MULTI"}), A({"SAVE"}), A({"EXEC"})}},
      {"UNWATCH is queued", {A({"MULTI"}), A({"UNWATCH"}), A({"EXEC"})}},
      {"RESET inside MULTI discards it",
       {A({"MULTI"}), A({"SET", "r", "1"}), A({"RESET"}), A({"EXEC"}), A({"GET", "r"})}},
      {"blocking commands inside EXEC answer at once",
       {A({"MULTI"}), A({"BLPOP", "nolist", "0"}), A({"BRPOP", "nolist", "1"}),
        A({"BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"}),
        A({"BRPOPLPUSH", "nolist", "dst", "0"}), A({"BLMPOP", "0", "1", "nolist", "LEFT"}),
        A({"BZPOPMIN", "noz", "0"}), A({"BZMPOP", "0", "1", "noz", "MIN"}), A({"RPUSH", "l", "a"}),
        A({"BLPOP", "l", "0"}), A({"EXEC"})}},
      {"a client blocked on a key pushed inside EXEC is served after it",
       {On(2, {"BLPOP", "q", "5"}), Sleep(100), A({"MULTI"}), A({"LPUSH", "q", "a"}),
        A({"LPUSH", "q", "b"}), A({"LLEN", "q"}), A({"LRANGE", "q", "0", "-1"}), A({"EXEC"}),
        On(2, {"<collect>"}), A({"LRANGE", "q", "0", "-1"})}},
      {"WATCH: another client's SET fails EXEC",
       {A({"WATCH", "k"}), B({"SET", "k", "1"}), A({"MULTI"}), A({"SET", "k", "2"}), A({"EXEC"}),
        A({"GET", "k"})}},
      {"WATCH: an untouched key lets EXEC run",
       {A({"SET", "k", "0"}), A({"WATCH", "k"}), B({"SET", "other", "1"}), B({"GET", "k"}),
        A({"MULTI"}), A({"INCR", "k"}), A({"EXEC"}), A({"GET", "k"})}},
      {"WATCH: DEL of the key fails EXEC",
       {B({"SET", "k", "1"}), A({"WATCH", "k"}), B({"DEL", "k"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: DEL of a missing key is no change",
       {A({"WATCH", "missing"}), B({"DEL", "missing"}), A({"MULTI"}), A({"PING"}), A({"EXEC"})}},
      {"WATCH: EXPIRE of the key fails EXEC",
       {B({"SET", "k", "1"}), A({"WATCH", "k"}), B({"EXPIRE", "k", "100"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"})}},
      {"WATCH: a key that expires before EXEC fails it",
       {B({"SET", "k", "1", "PX", "150"}), A({"WATCH", "k"}), Sleep(300), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: a key expired before WATCH is no change",
       {B({"SET", "k", "1", "PX", "50"}), Sleep(150), A({"WATCH", "k"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: FLUSHALL fails EXEC when the key exists",
       {B({"SET", "k", "1"}), A({"WATCH", "k"}), B({"FLUSHALL"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: FLUSHALL of a missing key is no change",
       {B({"SET", "other", "1"}), A({"WATCH", "k"}), B({"FLUSHALL"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: a write to the same key in another database is no change",
       {B({"SELECT", "1"}), A({"WATCH", "k"}), B({"SET", "k", "1"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"}), B({"FLUSHDB"}), B({"SELECT", "0"})}},
      {"WATCH: FLUSHDB of the watched key's database fails EXEC, of another does not",
       {B({"SET", "k", "1"}), A({"SELECT", "2"}), B({"SELECT", "2"}), B({"SET", "k", "1"}),
        A({"WATCH", "k"}), B({"SELECT", "0"}), B({"FLUSHDB"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"}), A({"WATCH", "k"}), B({"SELECT", "2"}), B({"FLUSHDB"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"}), A({"SELECT", "0"}), B({"SELECT", "0"})}},
      {"WATCH: MOVE fails EXEC in the source and the destination database",
       {B({"SET", "k", "1"}), A({"WATCH", "k"}), B({"MOVE", "k", "3"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"}), A({"SELECT", "3"}), A({"WATCH", "k"}), B({"SELECT", "3"}),
        B({"MOVE", "k", "0"}), A({"MULTI"}), A({"PING"}), A({"EXEC"}), A({"SELECT", "0"}),
        B({"SELECT", "0"}), B({"FLUSHALL"})}},
      {"WATCH: SWAPDB fails EXEC when the key exists in either database",
       {B({"SELECT", "4"}), B({"SET", "k", "1"}), B({"SELECT", "0"}), A({"WATCH", "k"}),
        B({"SWAPDB", "0", "4"}), A({"MULTI"}), A({"PING"}), A({"EXEC"}), A({"WATCH", "nokey"}),
        B({"SWAPDB", "0", "4"}), A({"MULTI"}), A({"PING"}), A({"EXEC"}), B({"FLUSHALL"})}},
      {"WATCH: element writes fail EXEC",
       {B({"RPUSH", "l", "a"}),
        B({"SADD", "s", "a"}),
        B({"HSET", "h", "f", "v"}),
        B({"ZADD", "z", "1", "a"}),
        A({"WATCH", "l", "s", "h", "z"}),
        B({"RPUSH", "l", "b"}),
        A({"MULTI"}),
        A({"PING"}),
        A({"EXEC"}),
        A({"WATCH", "s"}),
        B({"SREM", "s", "a"}),
        A({"MULTI"}),
        A({"PING"}),
        A({"EXEC"}),
        A({"WATCH", "h"}),
        B({"HINCRBY", "h", "n", "1"}),
        A({"MULTI"}),
        A({"PING"}),
        A({"EXEC"}),
        A({"WATCH", "z"}),
        B({"ZINCRBY", "z", "1", "a"}),
        A({"MULTI"}),
        A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: element writes that change nothing are no change",
       {B({"SADD", "s", "a"}), B({"ZADD", "z", "1", "a"}), B({"RPUSH", "l", "a"}),
        B({"HSET", "h", "f", "v"}), A({"WATCH", "s", "z", "l", "h"}), B({"SADD", "s", "a"}),
        B({"SREM", "s", "zz"}), B({"ZADD", "z", "1", "a"}), B({"ZREM", "z", "zz"}),
        B({"LREM", "l", "0", "zz"}), B({"HDEL", "h", "zz"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: a pop that empties a list fails EXEC",
       {B({"RPUSH", "l", "a"}), A({"WATCH", "l"}), B({"LPOP", "l"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"WATCH: RENAME touches both keys",
       {B({"SET", "src", "1"}), A({"WATCH", "dst"}), B({"RENAME", "src", "dst"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"})}},
      {"WATCH: LMOVE touches both keys",
       {B({"RPUSH", "src", "1", "2"}), A({"WATCH", "dst"}),
        B({"LMOVE", "src", "dst", "LEFT", "LEFT"}), A({"MULTI"}), A({"PING"}), A({"EXEC"})}},
      {"WATCH: the client's own write before MULTI fails EXEC",
       {A({"WATCH", "k"}), A({"SET", "k", "3"}), A({"MULTI"}), A({"GET", "k"}), A({"EXEC"})}},
      {"WATCH: a write inside the client's own transaction does not fail it",
       {A({"WATCH", "k"}), A({"MULTI"}), A({"SET", "k", "2"}), A({"INCR", "k"}), A({"EXEC"}),
        A({"GET", "k"})}},
      {"WATCH is cleared by EXEC",
       {A({"WATCH", "k"}), A({"MULTI"}), A({"EXEC"}), B({"SET", "k", "1"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"})}},
      {"UNWATCH forgets a change already made",
       {A({"WATCH", "k"}), B({"SET", "k", "1"}), A({"UNWATCH"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"})}},
      {"DISCARD unwatches",
       {A({"WATCH", "k"}), A({"MULTI"}), A({"DISCARD"}), B({"SET", "k", "1"}), A({"MULTI"}),
        A({"PING"}), A({"EXEC"})}},
      {"WATCH after a change of another watched key stays failed",
       {A({"WATCH", "a"}), B({"SET", "a", "1"}), A({"WATCH", "b"}), A({"MULTI"}), A({"PING"}),
        A({"EXEC"}), A({"MULTI"}), A({"PING"}), A({"EXEC"})}},
      {"a failed EXEC aborts even with a queued error",
       {A({"WATCH", "k"}), B({"SET", "k", "1"}), A({"MULTI"}), A({"NOSUCH"}), A({"EXEC"})}},
      {"ACL: a denied command while queuing aborts",
       {A({"ACL", "SETUSER", "limited", "on", "nopass", "+@all", "-set", "~*"}),
        B({"AUTH", "limited", "x"}), B({"MULTI"}), B({"SET", "k", "1"}), B({"INCR", "n"}),
        B({"EXEC"}), A({"EXISTS", "n"}), A({"ACL", "DELUSER", "limited"})}},
      {"ACL: rules changed between queuing and EXEC",
       {A({"ACL", "SETUSER", "limited", "on", "nopass", "+@all", "~*"}),
        B({"AUTH", "limited", "x"}), B({"MULTI"}), B({"SET", "k", "1"}), B({"INCR", "n"}),
        A({"ACL", "SETUSER", "limited", "-set"}), B({"EXEC"}), A({"GET", "k"}), A({"GET", "n"}),
        A({"ACL", "DELUSER", "limited"})}},
  };
  return kScenarios;
}

}  // namespace

TEST_CASE("transactions: scenarios reply as redis-server does") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  PairRun run;
  for (const auto& [name, steps] : Scenarios()) run.Run(name, steps);
}

TEST_CASE("transactions: RESP3 replies are byte for byte Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  dynakv::itest::RawSocket raw_ours(ours.port());
  dynakv::itest::RawSocket raw_reference(reference.port());
  Client other_ours(ours.port());
  Client other_reference(reference.port());
  // A whole block is sent at once and read up to the PING that follows it (a PING inside MULTI
  // would only be queued).
  auto exchange = [](dynakv::itest::RawSocket& raw,
                     const std::vector<std::vector<std::string>>& block) {
    std::string out;
    for (const auto& argv : block) out += dynakv::itest::EncodeCommand(argv);
    out += dynakv::itest::EncodeCommand({"PING"});
    REQUIRE(raw.Send(out));
    return raw.ReadUntil("+PONG\r\n", std::chrono::seconds(5));
  };
  exchange(raw_ours, {{"HELLO", "3"}});
  exchange(raw_reference, {{"HELLO", "3"}});
  const std::vector<std::vector<std::vector<std::string>>> blocks = {
      {{"MULTI"},
       {"SET", "a", "1"},
       {"HSET", "h", "f", "1", "g", "2"},
       {"HGETALL", "h"},
       {"ZADD", "z", "1.5", "m"},
       {"ZSCORE", "z", "m"},
       {"SISMEMBER", "s", "x"},
       {"LPUSH", "a", "x"},
       {"GET", "nosuch"},
       {"EXEC"}},
      {{"MULTI"}, {"NOSUCH"}, {"EXEC"}},
      {{"MULTI"}, {"MULTI"}, {"DISCARD"}, {"EXEC"}},
      {{"MULTI"}, {"BLPOP", "none", "0"}, {"BLMOVE", "none", "x", "LEFT", "LEFT", "0"}, {"EXEC"}},
      {{"WATCH", "a"}},
  };
  int mismatches = 0;
  auto compare = [&](const std::vector<std::vector<std::string>>& block) {
    const std::string got = exchange(raw_ours, block);
    const std::string want = exchange(raw_reference, block);
    REQUIRE(want.ends_with("+PONG\r\n"));
    if (got == want) return;
    ++mismatches;
    std::string commands;
    for (const auto& argv : block) commands += DescribeCommand(argv) + "\n";
    CAPTURE(commands);
    CHECK(Reply::Bulk(got) == Reply::Bulk(want));
  };
  for (const auto& block : blocks) compare(block);
  // The watched key changes: EXEC's null is RESP3's null.
  other_ours.Command({"SET", "a", "2"});
  other_reference.Command({"SET", "a", "2"});
  compare({{"MULTI"}, {"GET", "a"}, {"EXEC"}});
  CHECK(mismatches == 0);
}

namespace {

// Random commands over a few keys of every type, whose replies Redis orders (no SMEMBERS & co.).
class MixedGenerator {
 public:
  explicit MixedGenerator(std::uint64_t seed) : rng_(seed) {}

  std::vector<std::string> Next() {
    const std::string k = Key();
    switch (Pick(24)) {
      case 0:
        return {"SET", k, Value()};
      case 1:
        return {"GET", k};
      case 2:
        return {"INCR", k};
      case 3:
        return {"APPEND", k, Value()};
      case 4:
        return {"DEL", k, Key()};
      case 5:
        return {"RPUSH", k, Value(), Value()};
      case 6:
        return {"LPOP", k};
      case 7:
        return {"LRANGE", k, "0", "-1"};
      case 8:
        return {"LMOVE", k, Key(), "LEFT", "RIGHT"};
      case 9:
        return {"SADD", k, Value()};
      case 10:
        return {"SCARD", k};
      case 11:
        return {"SMOVE", k, Key(), Value()};
      case 12:
        return {"HSET", k, "f" + Value(), Value()};
      case 13:
        return {"HGET", k, "f" + Value()};
      case 14:
        return {"HLEN", k};
      case 15:
        return {"ZADD", k, std::to_string(Pick(10)), Value()};
      case 16:
        return {"ZRANGE", k, "0", "-1", "WITHSCORES"};
      case 17:
        return {"RENAME", k, Key()};
      case 18:
        return {"MSET", k, Value(), Key(), Value()};
      case 19:
        return {"TYPE", k};
      case 20:
        return {"EXISTS", k};
      case 21:
        return {"EXPIRE", k, "1000"};
      case 22:
        return {"TTL", k};
      default:
        return {"STRLEN", k};
    }
  }
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

 private:
  std::string Key() { return "k" + std::to_string(Pick(5)); }
  std::string Value() { return std::to_string(Pick(8)); }
  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("transactions: seeded random MULTI blocks mixing types reply as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  dynakv::itest::DifferentialLog log;
  std::vector<std::uint64_t> seeds = {21, 22, 23};
  if (const char* env = std::getenv("DYNAKV_ITEST_SEED")) seeds = {std::stoull(env)};
  for (std::uint64_t seed : seeds) {
    MixedGenerator gen(seed);
    for (int block = 0; block < 150; ++block) {
      std::vector<std::vector<std::string>> commands = {{"MULTI"}};
      const int n = 1 + gen.Pick(6);
      for (int i = 0; i < n; ++i) commands.push_back(gen.Next());
      switch (gen.Pick(10)) {
        case 0:
          commands.insert(commands.begin() + 1 + gen.Pick(n), {"NOSUCH", "x"});
          break;
        case 1:
          commands.insert(commands.begin() + 1 + gen.Pick(n), {"GET"});
          break;
        case 2:
          commands.push_back({"DISCARD"});
          break;
        default:
          break;
      }
      if (commands.back()[0] != "DISCARD") commands.push_back({"EXEC"});
      for (int i = 0; i < 2; ++i) commands.push_back(gen.Next());  // and outside one
      for (const auto& argv : commands) {
        const Reply want = b.Command(argv);
        log.Record(DescribeCommand(argv), dynakv::itest::ReplyText(want));
        const Reply got = a.Command(argv);
        REQUIRE(got.type != Reply::Type::kIoError);
        if (!(got == want)) {
          log.Mismatch(dynakv::itest::ReplyText(got));
          a.Command({"DISCARD"});
          b.Command({"DISCARD"});
          a.Command({"FLUSHALL"});
          b.Command({"FLUSHALL"});
          break;
        }
      }
    }
  }
  CHECK(log.mismatches() == 0);
}
