// DEBUG OBJECT and MEMORY DOCTOR against redis-server 7.0: the fields of DEBUG OBJECT's line
// that do not depend on memory addresses or the clock (refcount, encoding, serializedlength and
// a list's ql_* fields) for each type and encoding, DEBUG's errors, and MEMORY DOCTOR's report
// for a small instance, byte for byte.
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::Reply;

namespace {

const Flags kReferenceFlags = {"--enable-debug-command", "yes"};

// DEBUG OBJECT's line without its address and LRU clock fields.
std::string Deterministic(const Reply& reply) {
  static const std::regex address(R"(Value at:0x[0-9a-f]+ )");
  static const std::regex lru(R"( lru:\d+ lru_seconds_idle:\d+)");
  return std::regex_replace(std::regex_replace(reply.str, address, "Value "), lru, "");
}

}  // namespace

TEST_CASE("DEBUG OBJECT's line is Redis 7.0's for every type and encoding") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both({}, kReferenceFlags);
  Client& a = both.ours;
  Client& b = both.reference;
  std::vector<std::string> big_list = {"RPUSH", "biglist"};
  for (int i = 0; i < 3000; ++i) big_list.push_back("element-" + std::to_string(i));
  // Under hash-max-listpack-entries (512 on both), and
  // over it.
  std::vector<std::string> big_hash = {"HSET", "bighash"};
  std::vector<std::string> huge_hash = {"HSET", "hugehash"};
  for (int i = 0; i < 600; ++i) {
    if (i < 100) {
      big_hash.push_back("f" + std::to_string(i));
      big_hash.push_back("v");
    }
    huge_hash.push_back("f" + std::to_string(i));
    huge_hash.push_back("v");
  }
  const std::vector<std::vector<std::string>> setup = {
      {"SET", "small-int", "5"},
      {"SET", "int", "123456789"},
      {"SET", "negative", "-7"},
      {"SET", "embstr", "hello"},
      {"SET", "raw", std::string(60, 'a')},
      {"SET", "raw-random", "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"},
      {"RPUSH", "list", "a", "b", "c", "1", "2", "300", "70000"},
      big_list,
      {"SADD", "intset", "1", "2", "3"},
      {"SADD", "set", "a", "b"},
      {"HSET", "hash", "f", "v"},
      big_hash,
      huge_hash,
      {"ZADD", "zset", "1", "a", "2.5", "b"},
  };
  for (const auto& command : setup) both(command);
  for (const char* key : {"small-int", "int", "negative", "embstr", "raw", "raw-random", "list",
                          "biglist", "intset", "set", "hash", "bighash", "hugehash", "zset"}) {
    CAPTURE(key);
    const Reply ours_reply = a.Command({"DEBUG", "OBJECT", key});
    const Reply reference_reply = b.Command({"DEBUG", "OBJECT", key});
    REQUIRE(reference_reply.type == Reply::Type::kStatus);
    CHECK(ours_reply.type == Reply::Type::kStatus);
    CHECK(Deterministic(ours_reply) == Deterministic(reference_reply));
  }
  // A list under another node size and with compression.
  both({"CONFIG", "SET", "list-max-listpack-size", "5"});
  both({"CONFIG", "SET", "list-compress-depth", "1"});
  both({"RPUSH", "list2", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"});
  CHECK(Deterministic(a.Command({"DEBUG", "OBJECT", "list2"})) ==
        Deterministic(b.Command({"DEBUG", "OBJECT", "list2"})));
  // Under an LRU policy small integers are not shared.
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  both({"CONFIG", "SET", "maxmemory", "1gb"});
  both({"SET", "small-int2", "7"});
  CHECK(Deterministic(a.Command({"DEBUG", "OBJECT", "small-int2"})) ==
        Deterministic(b.Command({"DEBUG", "OBJECT", "small-int2"})));
  both({"OBJECT", "REFCOUNT", "small-int2"});

  both({"DEBUG", "OBJECT", "nosuch"});
  both({"DEBUG", "OBJECT"});
  both({"DEBUG", "OBJECT", "a", "b"});
  both({"DEBUG", "SLEEP"});
  both({"DEBUG", "NOSUCH"});
  both({"DEBUG", "SET-ACTIVE-EXPIRE"});
}

TEST_CASE("MEMORY DOCTOR's report for a small instance is Redis 7.0's, byte for byte") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  dynakv::itest::CheckSameReply(a, b, {"MEMORY", "DOCTOR"});
  dynakv::itest::CheckSameReply(a, b, {"MEMORY", "DOCTOR", "extra"});
}
