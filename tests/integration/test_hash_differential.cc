// Differential test of the hash family: seeded random streams of hash commands (valid, invalid,
// on the wrong type, with huge and negative counts) and of string and key commands on hashes go
// to the server under test and to the installed redis-server 7; every reply must be the same.
// Only what Redis itself leaves unordered is compared as a set: HRANDFIELD's picks, and a
// hashtable-encoded hash's iteration order (HGETALL, HKEYS, HVALS, HSCAN). RESP3 replies are
// compared byte for byte.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::Flags;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;

namespace {

using dynakv::itest::Upper;

class HashCommandGenerator : dynakv::itest::SeededChoices {
 public:
  explicit HashCommandGenerator(std::uint64_t seed) : SeededChoices(seed) {}

  std::vector<std::string> Next() {
    switch (Pick(34)) {
      case 0:
      case 1:
      case 2:
        return HSet("HSET");
      case 3:
        return HSet("HMSET");
      case 4:
        return {"HSETNX", Key(), Field(), Value()};
      case 5:
      case 6:
        return {"HGET", Key(), Field()};
      case 7:
        return WithFields({"HMGET", Key()}, 1 + Pick(4));
      case 8:
        return {"HGETALL", Key()};
      case 9:
      case 10:
        return WithFields({"HDEL", Key()}, 1 + Pick(3));
      case 11:
        return {"HEXISTS", Key(), Field()};
      case 12:
        return {"HLEN", Key()};
      case 13:
        return {Of({"HKEYS", "HVALS"}), Key()};
      case 14:
        return {"HINCRBY", Key(), Field(),
                Of({"1", "-1", "5", "100", "x", "1.5", "9223372036854775807",
                    "-9223372036854775808", "0"})};
      case 15:
        return {"HINCRBYFLOAT", Key(), Field(),
                Of({"0.1", "-5", "1e3", "inf", "-inf", "nan", "abc", "1.5e-3", "-0", "10", "3.0e2",
                    "0x10", "", "1e400"})};
      case 16:
        return {"HSTRLEN", Key(), Field()};
      case 17:
      case 18:
        return HRandField();
      case 19:
        return HScan();
      case 20:
        return {"TYPE", Key()};
      case 21:
        return {"OBJECT", "ENCODING", Key()};
      case 22:
        return {Of({"GET", "STRLEN", "INCR", "GETDEL"}), Key()};
      case 23:
        return {Of({"APPEND", "SETRANGE"}), Key(), "0"};
      case 24:
        return {"SET", Key(), Value()};
      case 25:
        return {Of({"EXPIRE", "PEXPIRE"}), Key(), Of({"100000", "-1", "0"})};
      case 26:
        return {Of({"TTL", "PERSIST", "EXISTS"}), Key()};
      case 27:
        return {Of({"DEL", "UNLINK"}), Key()};
      case 28:
        return {Of({"RENAME", "RENAMENX"}), Key(), Key()};
      case 29:
        return {"COPY", Key(), Key(), Of({"REPLACE", "replace", "BOGUS"})};
      case 30:
        return {"SCAN", "0", "TYPE", Of({"hash", "string", "HASH", "list"}), "COUNT", "1000"};
      case 31:
        return {"DBSIZE"};
      case 32:
        return {"MGET", Key(), Key()};
      default:
        return Arity();
    }
  }

 private:
  std::string Key() { return Of({"h0", "h0", "h1", "h1", "h2", "s0", "n0"}); }
  std::string Field() {
    switch (Pick(20)) {
      case 0:
        return "";
      case 1:
        return std::string(70, 'F');  // longer than hash-max-listpack-value
      case 2:
        return std::string("f\0\r\n", 4);
      default:
        return "f" + std::to_string(Pick(12));
    }
  }
  std::string Value() {
    switch (Pick(16)) {
      case 0:
        return "";
      case 1:
        return std::string("a\0b\r\n", 5);
      case 2:
        return dynakv::itest::RandomBytes(100, rng_());
      case 3:
        return std::string(65, 'z');
      default:
        return Of({"v", "hello world", "1", "-1", "0", "10", "10.5", "3.0e3", "abc", "007", " 1",
                   "9223372036854775807", "-9223372036854775808", "1.5"});
    }
  }
  std::vector<std::string> WithFields(std::vector<std::string> argv, int n) {
    for (int i = 0; i < n; ++i) argv.push_back(Field());
    return argv;
  }
  std::vector<std::string> HSet(const char* name) {
    std::vector<std::string> argv = {name, Key()};
    const int n = 1 + Pick(3);
    for (int i = 0; i < n; ++i) {
      argv.push_back(Field());
      argv.push_back(Value());
    }
    if (Pick(10) == 0) argv.pop_back();  // odd count: arity error
    return argv;
  }
  std::vector<std::string> HRandField() {
    std::vector<std::string> argv = {"HRANDFIELD", Key()};
    if (Pick(4) == 0) return argv;
    argv.push_back(Of({"0", "1", "2", "3", "5", "20", "-1", "-3", "-20", "x", "1.5",
                       "9223372036854775807", "-9223372036854775807", "-9223372036854775808",
                       "4611686018427387904", "-4611686018427387904"}));
    if (Pick(2) == 0) argv.push_back(Of({"WITHVALUES", "withvalues", "WITHVALUE"}));
    if (Pick(20) == 0) argv.push_back("extra");
    // Redis itself tries to build a reply of billions of elements for huge in-range negative
    // counts: leave those out of the stream (the range checks above stay in).
    if (argv.size() == 3 &&
        (argv[2] == "-9223372036854775807" || argv[2] == "-4611686018427387904")) {
      argv[2] = "-2";
    }
    return argv;
  }
  std::vector<std::string> HScan() {
    std::vector<std::string> argv = {"HSCAN", Key(), Of({"0", "0", "0", "abc", "-1"})};
    const int n = Pick(3);
    for (int i = 0; i < n; ++i) {
      switch (Pick(4)) {
        case 0:
          argv.insert(argv.end(), {"MATCH", Of({"*", "f1*", "f?", "[a-f]*", "zz"})});
          break;
        case 1:
          argv.insert(argv.end(), {"COUNT", Of({"1", "100", "0", "-1", "x"})});
          break;
        case 2:
          argv.push_back("NOVALUES");
          break;
        default:
          argv.insert(argv.end(), {"match", "*"});
      }
    }
    return argv;
  }
  std::vector<std::string> Arity() {
    return Of({"a", "b"}) == "a"
               ? std::vector<std::string>{Of({"HGET", "HLEN", "HSET", "HRANDFIELD", "HSCAN"})}
               : std::vector<std::string>{Of({"HSETNX", "HINCRBY", "HSTRLEN"}), Key()};
  }
};

// A hashtable-encoded hash's order is Redis's dict order: compare such replies as sets (of
// pairs for HGETALL).
Reply SortedPairs(Reply reply, bool pairs) {
  if (reply.type != Reply::Type::kArray) return reply;
  std::vector<std::vector<Reply>> groups;
  const std::size_t step = pairs ? 2 : 1;
  for (std::size_t i = 0; i + step <= reply.elements.size(); i += step) {
    groups.emplace_back(reply.elements.begin() + static_cast<long>(i),
                        reply.elements.begin() + static_cast<long>(i + step));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].str != b[i].str) return a[i].str < b[i].str;
    }
    return false;
  });
  reply.elements.clear();
  for (auto& g : groups) reply.elements.insert(reply.elements.end(), g.begin(), g.end());
  return reply;
}

// Every pair of a full HSCAN of `key`, from cursor 0 until it returns 0.
Reply FullScan(Client& client, const std::string& key) {
  Reply all = Reply::Array({});
  std::string cursor = "0";
  for (int calls = 0; calls < 100000; ++calls) {
    Reply r = client.Command({"HSCAN", key, cursor, "COUNT", "7"});
    if (r.type != Reply::Type::kArray || r.elements.size() != 2) return r;
    for (const Reply& e : r.elements[1].elements) all.elements.push_back(e);
    cursor = r.elements[0].str;
    if (cursor == "0") break;
  }
  return SortedPairs(all, true);
}

// HRANDFIELD's picks are random in both: the reply must have Redis's shape (type, length,
// errors), its fields must be fields of the hash (checked on ours), distinct when the count was
// positive, and all of them when the count reached the hash's size.
bool SameRandomFields(const std::vector<std::string>& argv, Client& ours, const Reply& got,
                      const Reply& want, long long size) {
  if (got.type != want.type) return false;
  if (want.type == Reply::Type::kString)
    return ours.Command({"HEXISTS", argv[1], got.str}) == Reply::Int(1);
  if (want.type != Reply::Type::kArray || argv.size() < 3) return got == want;
  if (got.elements.size() != want.elements.size()) return false;
  const bool withvalues = argv.size() == 4;
  const long long count = std::stoll(argv[2]);
  std::set<std::string> fields;
  for (std::size_t i = 0; i < got.elements.size(); i += withvalues ? 2 : 1) {
    const std::string& field = got.elements[i].str;
    fields.insert(field);
    Reply value = ours.Command({"HGET", argv[1], field});
    if (value.type != Reply::Type::kString) return false;
    if (withvalues && value.str != got.elements[i + 1].str) return false;
  }
  if (count > 0 && fields.size() != got.elements.size() / (withvalues ? 2 : 1)) return false;
  if (count >= size) return SortedPairs(got, withvalues) == SortedPairs(want, withvalues);
  return true;
}

// Runs seeded streams against a server started with `flags` and Redis started with the same.
void CompareWithRedis(const Flags& flags, int commands) {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers(flags, flags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());

  dynakv::itest::DifferentialLog run;
  for (std::uint64_t seed : dynakv::itest::RunSeeds({11, 12, 13})) {
    HashCommandGenerator gen(seed);
    for (int i = 0; i < commands; ++i) {
      std::vector<std::string> argv = gen.Next();
      const std::string name = Upper(argv[0]);
      // What Redis leaves unordered depends on the encoding Redis chose.
      const bool keyed = argv.size() >= 2 && name[0] == 'H';
      const bool table =
          keyed && b.Command({"OBJECT", "ENCODING", argv[1]}) == Reply::Bulk("hashtable");
      long long size = 0;
      if (name == "HRANDFIELD" && argv.size() >= 2) size = b.Command({"HLEN", argv[1]}).integer;
      Reply got = a.Command(argv);
      Reply want = b.Command(argv);
      if (got.type == Reply::Type::kIoError) {
        std::string command = dynakv::itest::DescribeCommand(argv);
        std::string log = ours.LogTail();
        CAPTURE(command);
        CAPTURE(log);
        REQUIRE(got.type != Reply::Type::kIoError);
      }
      bool same = got == want;
      // String encodings depend on a string's history in Redis (APPEND makes "raw"): not part
      // of this comparison.
      const std::set<std::string> string_encodings = {"int", "embstr", "raw"};
      if (!same && name == "OBJECT" && string_encodings.count(got.str) == 1 &&
          string_encodings.count(want.str) == 1) {
        same = true;
      }
      if (!same && name == "HRANDFIELD" && argv.size() >= 2) {
        same = SameRandomFields(argv, a, got, want, size);
      } else if (!same && table && (name == "HGETALL" || name == "HKEYS" || name == "HVALS")) {
        same = SortedPairs(got, name == "HGETALL") == SortedPairs(want, name == "HGETALL");
      } else if (!same && table && name == "HSCAN" && want.type == Reply::Type::kArray) {
        same = got.type == Reply::Type::kArray && FullScan(a, argv[1]) == FullScan(b, argv[1]);
      } else if (!same && name == "SCAN") {
        same = got.type == want.type && got.elements.size() == 2 && want.elements.size() == 2 &&
               SortedPairs(got.elements[1], false) == SortedPairs(want.elements[1], false);
      } else if (!same && name == "TTL" && got.type == Reply::Type::kInteger) {
        same = want.type == got.type && (got.integer > 0) == (want.integer > 0);
      }
      run.Record(dynakv::itest::DescribeCommand(argv), dynakv::itest::ReplyText(want));
      if (same) continue;
      run.Mismatch(dynakv::itest::ReplyText(got));
      REQUIRE(a.Command({"FLUSHALL"}) == Reply::Status("OK"));
      REQUIRE(b.Command({"FLUSHALL"}) == Reply::Status("OK"));
    }
    // The final states agree too, whatever the encodings.
    for (const char* key : {"h0", "h1", "h2", "s0", "n0"}) {
      CAPTURE(key);
      const Reply type = b.Command({"TYPE", key});
      CHECK(a.Command({"TYPE", key}) == type);
      if (type == Reply::Status("hash")) {
        CHECK(a.Command({"OBJECT", "ENCODING", key}) == b.Command({"OBJECT", "ENCODING", key}));
      }
      CHECK(SortedPairs(a.Command({"HGETALL", key}), true) ==
            SortedPairs(b.Command({"HGETALL", key}), true));
    }
    REQUIRE(a.Command({"FLUSHALL"}) == Reply::Status("OK"));
    REQUIRE(b.Command({"FLUSHALL"}) == Reply::Status("OK"));
  }
  CHECK(run.mismatches() == 0);
}

const Flags kRedisThresholds = {"--hash-max-listpack-entries", "128", "--hash-max-listpack-value",
                                "64"};

}  // namespace

TEST_CASE("hash commands get the same replies as Redis 7 (Redis's thresholds)") {
  CompareWithRedis(kRedisThresholds, 6000);
}

TEST_CASE("hash commands get the same replies as Redis 7 with tiny listpacks (many conversions)") {
  CompareWithRedis({"--hash-max-listpack-entries", "4", "--hash-max-listpack-value", "8"}, 6000);
}

TEST_CASE("hash replies are Redis 7's when nearly every hash lives on disk") {
  Flags flags = kRedisThresholds;
  flags.insert(flags.end(), {"--maxmemory", "1kb"});
  CompareWithRedis(flags, 3000);
}

TEST_CASE("OBJECT ENCODING turns listpack -> hashtable at exactly Redis's thresholds") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both(kRedisThresholds, kRedisThresholds);
  for (int i = 0; i < 130; ++i) {
    both({"HSET", "entries", "f" + std::to_string(i), "v"});
    const Reply encoding = both({"OBJECT", "ENCODING", "entries"});
    CHECK(encoding == Reply::Bulk(i < 128 ? "listpack" : "hashtable"));
  }
  // Deleting back below the threshold does not convert back.
  for (int i = 0; i < 120; ++i) both({"HDEL", "entries", "f" + std::to_string(i)});
  CHECK(both({"OBJECT", "ENCODING", "entries"}) == Reply::Bulk("hashtable"));

  both({"HSET", "value", "f", std::string(64, 'x')});
  CHECK(both({"OBJECT", "ENCODING", "value"}) == Reply::Bulk("listpack"));
  both({"HINCRBY", "value", "n", "1"});
  both({"HSET", "value", "g", std::string(65, 'x')});
  CHECK(both({"OBJECT", "ENCODING", "value"}) == Reply::Bulk("hashtable"));
  both({"HSETNX", "field", std::string(65, 'k'), "v"});
  CHECK(both({"OBJECT", "ENCODING", "field"}) == Reply::Bulk("hashtable"));

  // CONFIG SET moves the thresholds for what is written next.
  both({"CONFIG", "SET", "hash-max-listpack-entries", "2"});
  both({"CONFIG", "GET", "hash-max-listpack-entries"});
  both({"HSET", "small", "a", "1", "b", "2"});
  CHECK(both({"OBJECT", "ENCODING", "small"}) == Reply::Bulk("listpack"));
  both({"HSET", "small", "c", "3"});
  CHECK(both({"OBJECT", "ENCODING", "small"}) == Reply::Bulk("hashtable"));
  both({"CONFIG", "SET", "hash-max-listpack-value", "abc"});
  both({"CONFIG", "SET", "hash-max-listpack-entries", "-1"});
  // Strings answer Redis's string encodings.
  both({"SET", "int", "12345"});
  both({"SET", "embstr", "hello"});
  both({"SET", "raw", std::string(45, 'r')});
  for (const char* key : {"int", "embstr", "raw", "missing"}) both({"OBJECT", "ENCODING", key});
  both({"OBJECT", "NOSUCH", "int"});
  both({"OBJECT", "ENCODING"});
}

TEST_CASE("hash replies in RESP3 are byte-for-byte those of Redis 7") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers(kRedisThresholds, kRedisThresholds);
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  // A one-field hash makes HRANDFIELD deterministic: its reply shapes are compared exactly.
  raw.Compare({"HSET", "one", "f", "v"});
  for (const char* count : {"0", "1", "2", "-1", "-3", "5"}) {
    raw.Compare({"HRANDFIELD", "one", count});
    raw.Compare({"HRANDFIELD", "one", count, "WITHVALUES"});
    raw.Compare({"HRANDFIELD", "missing", count, "WITHVALUES"});
  }
  raw.Compare({"HRANDFIELD", "one"});
  raw.Compare({"HRANDFIELD", "missing"});
  raw.Compare({"HSCAN", "missing", "0"});
  HashCommandGenerator gen(21);
  for (int i = 0; i < 4000; ++i) {
    std::vector<std::string> argv = gen.Next();
    const std::string name = Upper(argv[0]);
    // Random picks, remaining TTLs and (with Redis's thresholds and this generator's keys, only
    // for hashes with a long field) hashtable order are not part of the encoding.
    if (name == "HRANDFIELD" || name == "TTL" || name == "SCAN") continue;
    // A string's encoding depends on its history in Redis (APPEND makes "raw").
    if (name == "OBJECT" && raw.Reference({"TYPE", argv[2]}).starts_with("+string")) continue;
    if (name[0] == 'H' && argv.size() >= 2 &&
        raw.Reference({"OBJECT", "ENCODING", argv[1]}).starts_with("$9\r\nhashtable")) {
      continue;
    }
    raw.Compare(argv);
  }
  CHECK(raw.mismatches() == 0);
}
