// Numbered databases: SELECT, MOVE, SWAPDB, FLUSHDB, DBSIZE, COPY ... DB, KEYS, SCAN, RANDOMKEY
// and INFO keyspace against the installed redis-server 7 (directed cases, blocked clients, then
// seeded random streams over every type across databases 0-15, in RESP2 and byte for byte in
// RESP3). On disk: test_databases_durability.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "databases_util.h"
#include "harness.h"
#include "raw_socket.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::KeyspaceLines;
using dynakv::itest::Reply;
using dynakv::itest::Sorted;

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

// Every key of the selected database, from a full SCAN (sorted).
std::vector<std::string> ScanAll(Client& c, const std::string& count) {
  std::set<std::string> keys;
  std::string cursor = "0";
  for (int calls = 0; calls < 100000; ++calls) {
    const Reply r = c.Command({"SCAN", cursor, "COUNT", count});
    REQUIRE(r.type == Reply::Type::kArray);
    for (const Reply& k : r.elements[1].elements) keys.insert(k.str);
    cursor = r.elements[0].str;
    if (cursor == "0") break;
  }
  return {keys.begin(), keys.end()};
}

// Commands on every type across databases 0-15, as a client that SELECTs around would send.
// `ordered_only`: leave out replies whose order Redis leaves to its dicts (for the byte-for-byte
// RESP3 comparison).
class DbCommandGenerator {
 public:
  DbCommandGenerator(std::uint64_t seed, bool ordered_only)
      : rng_(seed), ordered_only_(ordered_only) {}

  std::vector<std::string> Next() {
    switch (Pick(40)) {
      case 0:
      case 1:
      case 2:
        return {"SELECT", Db()};
      case 3:
        return {"SELECT", Of({"16", "-1", "x", "1.5", "99999999999", ""})};
      case 4:
      case 5:
        return {"SET", Key(), Value()};
      case 6:
        return {"GET", Key()};
      case 7:
        return {"INCR", Key()};
      case 8:
        return {"HSET", Key(), Of({"f", "g"}), Value()};
      case 9:
        return {"HGET", Key(), Of({"f", "g"})};
      case 10:
        return {"RPUSH", Key(), Value(), Value()};
      case 11:
        return {"LRANGE", Key(), "0", "-1"};
      case 12:
        return {"SADD", Key(), Value()};
      case 13:
        return {"SCARD", Key()};
      case 14:
        return {"ZADD", Key(), Of({"1", "2", "3"}), Value()};
      case 15:
        return {"ZRANGE", Key(), "0", "-1", "WITHSCORES"};
      case 16:
      case 17:
        return {"MOVE", Key(), MaybeBadDb()};
      case 18:
        return {"SWAPDB", MaybeBadDb(), Db()};
      case 19:
        return {"SWAPDB", Db(), Of({"x", "1", "16"})};
      case 20:
        return Copy();
      case 21:
        return {Of({"FLUSHDB", "FLUSHDB"}), Of({"ASYNC", "SYNC", "sync"})};
      case 22:
        return {"DBSIZE"};
      case 23:
        return {Of({"EXISTS", "TYPE", "DEL", "PERSIST"}), Key()};
      case 24:
        return {"EXPIRE", Key(), Of({"1000", "5000"})};
      case 25:
        return {Of({"RENAME", "RENAMENX"}), Key(), Key()};
      case 26:
        return {"MOVE", Key()};  // arity
      case 27:
        return {"SWAPDB", "1"};
      case 28:
        return {"HLEN", Key()};
      case 29:
        return {"LPOP", Key()};
      case 30:
        return {"SISMEMBER", Key(), Value()};
      case 31:
        return {"ZSCORE", Key(), Value()};
      case 32:
        if (Pick(20) == 0) return {"FLUSHALL"};
        return {"DBSIZE"};
      case 33:
        if (ordered_only_) return {"EXISTS", Key(), Key()};
        return {"KEYS", "*"};
      case 34:
        if (ordered_only_) return {"STRLEN", Key()};
        return {"SMEMBERS", Key()};
      case 35:
        if (ordered_only_) return {"ZCARD", Key()};
        return {"HGETALL", Key()};
      case 36:
        return {"MOVE", Key(), Db(), "extra"};
      case 37:
        return {"SET", Key(), Value(), "PX", "100000"};
      default:
        return {"APPEND", Key(), Value()};
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % n); }
  std::string Of(std::initializer_list<const char*> choices) {
    return *(choices.begin() + Pick(static_cast<int>(choices.size())));
  }
  std::string Db() { return std::to_string(Pick(16)); }
  std::string MaybeBadDb() {
    if (Pick(8) == 0) return Of({"16", "-1", "abc", "2147483648", "1.0"});
    return Db();
  }
  std::string Key() { return Of({"k0", "k0", "k1", "k2", "k3", "k4"}); }
  std::string Value() { return Of({"a", "b", "1", "7", "xyz"}); }
  std::vector<std::string> Copy() {
    std::vector<std::string> argv = {"COPY", Key(), Key()};
    switch (Pick(5)) {
      case 0:
        break;
      case 1:
        argv.insert(argv.end(), {"DB", MaybeBadDb()});
        break;
      case 2:
        argv.insert(argv.end(), {"DB", Db(), "REPLACE"});
        break;
      case 3:
        argv.insert(argv.end(), {"REPLACE", "db", Db()});
        break;
      default:
        argv.insert(argv.end(), {"DB"});
    }
    return argv;
  }

  std::mt19937_64 rng_;
  bool ordered_only_;
};

// Replies whose order is Redis's dict order are compared sorted.
Reply Normalized(const std::vector<std::string>& argv, Reply reply) {
  const std::string name = Upper(argv[0]);
  if (name == "KEYS" || name == "SMEMBERS") return Sorted(std::move(reply));
  if (name == "HGETALL") return Sorted(std::move(reply), true);
  // A whole SCAN in one call (a COUNT past the keys): the keys in Redis's dict order.
  if (name == "SCAN" && reply.type == Reply::Type::kArray && reply.elements.size() == 2) {
    reply.elements[1] = Sorted(std::move(reply.elements[1]));
  }
  return reply;
}

}  // namespace

TEST_CASE("SELECT, MOVE, SWAPDB, FLUSHDB, DBSIZE, COPY DB, KEYS, SCAN, RANDOMKEY as Redis 7") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  auto both = [&](const std::vector<std::string>& argv) {
    const Reply got = Normalized(argv, a.Command(argv));
    const Reply want = Normalized(argv, b.Command(argv));
    CAPTURE(dynakv::itest::DescribeCommand(argv));
    CHECK(got == want);
    return want;
  };
  CHECK(both({"CONFIG", "GET", "databases"}) == Reply::Bulks({"databases", "16"}));
  both({"CONFIG", "SET", "databases", "4"});
  for (const char* db : {"0", "15", "16", "-1", "x", "", "1.5", "2147483648", "-2147483649"}) {
    both({"SELECT", db});
  }
  both({"SELECT"});
  both({"SELECT", "1", "2"});
  both({"SELECT", "3"});
  both({"SET", "a", "in-3"});
  both({"HSET", "h", "f", "v"});
  both({"DBSIZE"});
  both({"SELECT", "0"});
  both({"GET", "a"});
  both({"DBSIZE"});
  both({"SET", "a", "in-0", "PX", "1000000"});
  // MOVE: errors, then a move, a key already there, a missing key; the TTL goes along.
  for (const char* db : {"0", "16", "-1", "x", "4294967296"}) both({"MOVE", "a", db});
  both({"MOVE", "a", "3"});
  both({"MOVE", "a", "5"});
  both({"MOVE", "nosuch", "5"});
  both({"SELECT", "5"});
  both({"GET", "a"});
  both({"PERSIST", "a"});
  both({"TTL", "a"});
  both({"SELECT", "3"});
  both({"MOVE", "h", "5"});
  both({"SELECT", "5"});
  both({"HGETALL", "h"});
  both({"KEYS", "*"});
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  // SWAPDB: errors, then swaps seen by this connection's database.
  both({"SWAPDB", "x", "1"});
  both({"SWAPDB", "1", "y"});
  both({"SWAPDB", "1", "16"});
  both({"SWAPDB", "-1", "1"});
  both({"SWAPDB", "5", "5"});
  both({"SWAPDB", "5", "9"});
  both({"DBSIZE"});
  both({"KEYS", "*"});
  both({"SELECT", "9"});
  both({"KEYS", "*"});
  both({"DEL", "a"});
  both({"RANDOMKEY"});  // the one key left
  both({"SELECT", "5"});
  both({"RANDOMKEY"});  // empty
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  // COPY ... DB
  both({"SELECT", "9"});
  both({"SET", "s", "str", "EX", "1000"});
  both({"COPY", "s", "s"});
  both({"COPY", "s", "s", "DB", "9"});
  both({"COPY", "s", "s", "DB", "2"});
  both({"COPY", "s", "s", "DB", "2"});
  both({"COPY", "h", "s", "DB", "2"});
  both({"COPY", "h", "s", "DB", "2", "REPLACE"});
  both({"COPY", "s", "t", "DB", "16"});
  both({"COPY", "s", "t", "DB", "-1"});
  both({"COPY", "s", "t", "DB", "x"});
  both({"COPY", "s", "t", "DB"});
  both({"COPY", "nosuch", "t", "DB", "2"});
  both({"SELECT", "2"});
  both({"HGETALL", "s"});
  both({"TYPE", "s"});
  // FLUSHDB only this database; FLUSHALL all.
  for (int i = 0; i < 50; ++i) both({"SET", "many" + std::to_string(i), "x"});
  both({"SELECT", "7"});
  for (int i = 0; i < 30; ++i) both({"RPUSH", "list" + std::to_string(i), "x"});
  both({"SELECT", "2"});
  both({"FLUSHDB", "BOGUS"});
  both({"FLUSHDB", "ASYNC", "SYNC"});
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  both({"FLUSHDB"});
  both({"DBSIZE"});
  both({"KEYS", "*"});
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  both({"SELECT", "7"});
  both({"DBSIZE"});
  CHECK(ScanAll(a, "3") == ScanAll(b, "3"));
  CHECK(ScanAll(a, "1000") == ScanAll(b, "1000"));
  both({"SCAN", "0", "MATCH", "list1*", "COUNT", "1000"});
  both({"FLUSHDB", "SYNC"});
  both({"SELECT", "9"});
  both({"FLUSHDB", "async"});
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  both({"SELECT", "5"});
  both({"SET", "x", "y"});
  both({"FLUSHALL"});
  both({"DBSIZE"});
  CHECK(KeyspaceLines(a) == KeyspaceLines(b));
  CHECK(KeyspaceLines(a).empty());
}

TEST_CASE("SELECT is per connection; RESET goes back to 0; CLIENT LIST shows db=") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (int port : {ours.port(), reference.port()}) {
    Client one(port);
    Client two(port);
    CAPTURE(port);
    REQUIRE(one.Command({"SELECT", "4"}) == Reply::Status("OK"));
    REQUIRE(one.Command({"SET", "k", "four"}) == Reply::Status("OK"));
    CHECK(two.Command({"GET", "k"}) == Reply::Nil());
    const Reply info = one.Command({"CLIENT", "INFO"});
    CHECK(info.str.find(" db=4 ") != std::string::npos);
    const Reply list = two.Command({"CLIENT", "LIST"});
    CHECK(list.str.find(" db=4 ") != std::string::npos);
    CHECK(list.str.find(" db=0 ") != std::string::npos);
    CHECK(one.Command({"RESET"}) == Reply::Status("RESET"));
    CHECK(one.Command({"GET", "k"}) == Reply::Nil());
    CHECK(one.Command({"CLIENT", "INFO"}).str.find(" db=0 ") != std::string::npos);
    // HELLO keeps the selected database (and says nothing of it, as Redis 7.0).
    REQUIRE(one.Command({"SELECT", "4"}) == Reply::Status("OK"));
    CHECK(one.Command({"HELLO", "2"}).type == Reply::Type::kArray);
    CHECK(one.Command({"GET", "k"}) == Reply::Bulk("four"));
  }
}

TEST_CASE("a client blocked in a database is served by that database's pushes only") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  using dynakv::itest::EncodeCommand;
  using namespace std::chrono_literals;
  for (int port : {ours.port(), reference.port()}) {
    CAPTURE(port);
    dynakv::itest::RawSocket waiter(port);
    Client pusher(port);
    auto blocked = [&](long long n) {
      return dynakv::itest::WaitFor([&] {
        return dynakv::itest::ReadInfoNumber(pusher, "clients", "blocked_clients") == n;
      });
    };
    REQUIRE(waiter.Send(EncodeCommand({"SELECT", "3"}) + EncodeCommand({"BLPOP", "q", "0"})));
    REQUIRE(waiter.ReadReplies(1, 5s).size() == 1);  // +OK of SELECT
    REQUIRE(blocked(1));
    REQUIRE(pusher.Command({"RPUSH", "q", "in-db0"}) == Reply::Int(1));
    REQUIRE(pusher.Command({"SELECT", "5"}) == Reply::Status("OK"));
    REQUIRE(pusher.Command({"RPUSH", "q", "in-db5"}) == Reply::Int(1));
    CHECK(waiter.ReadReplies(1, 300ms).empty());  // neither push was in database 3
    CHECK(blocked(1));
    // A MOVE of database 5's list into database 3 serves it (Redis signals the key ready).
    REQUIRE(pusher.Command({"MOVE", "q", "3"}) == Reply::Int(1));
    std::vector<Reply> got = waiter.ReadReplies(1, 5s);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == Reply::Bulks({"q", "in-db5"}));
    REQUIRE(pusher.Command({"SELECT", "0"}) == Reply::Status("OK"));
    CHECK(pusher.Command({"LRANGE", "q", "0", "-1"}) == Reply::Bulks({"in-db0"}));
    // SWAPDB: the waiter's database now holds a list.
    REQUIRE(waiter.Send(EncodeCommand({"BLPOP", "q", "0"})));
    REQUIRE(blocked(1));
    REQUIRE(pusher.Command({"SWAPDB", "0", "3"}) == Reply::Status("OK"));
    got = waiter.ReadReplies(1, 5s);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == Reply::Bulks({"q", "in-db0"}));
    CHECK(blocked(0));
  }
}

TEST_CASE("keyspace notifications name the database, MOVE's included, as Redis 7") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  using dynakv::itest::EncodeCommand;
  using namespace std::chrono_literals;
  std::vector<std::vector<Reply>> seen;
  for (int port : {ours.port(), reference.port()}) {
    Client c(port);
    REQUIRE(c.Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}) == Reply::Status("OK"));
    dynakv::itest::RawSocket sub(port);
    REQUIRE(sub.Send(EncodeCommand({"PSUBSCRIBE", "__key*@*__:*"})));
    REQUIRE(sub.ReadReplies(1, 5s).size() == 1);
    for (const std::vector<std::string>& argv :
         std::vector<std::vector<std::string>>{{"SELECT", "3"},
                                               {"SET", "k", "v"},
                                               {"MOVE", "k", "5"},
                                               {"SELECT", "5"},
                                               {"HSET", "h", "f", "v"},
                                               {"COPY", "h", "h", "DB", "7"},
                                               {"DEL", "k"},
                                               {"SWAPDB", "5", "7"},
                                               {"FLUSHDB"}}) {
      REQUIRE_FALSE(c.Command(argv).IsError());
    }
    // SET, HSET, DEL: keyspace and keyevent each; MOVE: move_from and move_to, each twice;
    // COPY: copy_to twice; SWAPDB and FLUSHDB: none.
    seen.push_back(sub.ReadReplies(12, 5s));
    CHECK(sub.ReadReplies(1, 200ms).empty());
  }
  CHECK(seen[0] == seen[1]);
  CHECK(seen[0].size() == 12);
}

namespace {

// A seeded stream of commands across databases, in RESP2: every reply as Redis's.
void CompareStreams(const Flags& flags, int commands) {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers(flags, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  dynakv::itest::DifferentialLog run;
  std::vector<std::uint64_t> seeds = {31, 32};
  if (const char* env = std::getenv("DYNAKV_ITEST_SEED")) seeds = {std::stoull(env)};
  for (std::uint64_t seed : seeds) {
    DbCommandGenerator gen(seed, false);
    for (int i = 0; i < commands; ++i) {
      const std::vector<std::string> argv = gen.Next();
      const Reply want = Normalized(argv, b.Command(argv));
      const Reply got = Normalized(argv, a.Command(argv));
      run.Record(dynakv::itest::DescribeCommand(argv), dynakv::itest::ReplyText(want));
      if (!(got == want)) {
        run.Mismatch(dynakv::itest::ReplyText(got));
        REQUIRE(a.Command({"FLUSHALL"}) == Reply::Status("OK"));
        REQUIRE(b.Command({"FLUSHALL"}) == Reply::Status("OK"));
      }
      if (i % 500 == 499) {
        const std::string ours_lines = KeyspaceLines(a);
        CHECK(ours_lines == KeyspaceLines(b));
      }
    }
    // Each database holds what Redis's does.
    for (int db = 0; db < 16; ++db) {
      a.Command({"SELECT", std::to_string(db)});
      b.Command({"SELECT", std::to_string(db)});
      CAPTURE(db);
      CHECK(Sorted(a.Command({"KEYS", "*"})) == Sorted(b.Command({"KEYS", "*"})));
      CHECK(ScanAll(a, "2") == ScanAll(b, "2"));
      CHECK(a.Command({"DBSIZE"}) == b.Command({"DBSIZE"}));
    }
    REQUIRE(a.Command({"FLUSHALL"}) == Reply::Status("OK"));
    REQUIRE(b.Command({"FLUSHALL"}) == Reply::Status("OK"));
    run.Clear();
  }
  CHECK(run.mismatches() == 0);
}

}  // namespace

TEST_CASE("a seeded stream over every type across databases 0-15 gets Redis's replies") {
  CompareStreams({}, 5000);
}

TEST_CASE("the same when most keys live on disk (segments carry the databases)") {
  CompareStreams({"--maxmemory", "2kb", "--log-checkpoint-bytes", "4096"}, 3000);
}

TEST_CASE("the stream's RESP3 replies are byte for byte Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  DbCommandGenerator gen(41, true);
  for (int i = 0; i < 4000; ++i) raw.Compare(gen.Next());
  CHECK(raw.mismatches() == 0);
}
