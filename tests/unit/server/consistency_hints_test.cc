// The per-request consistency options of cluster mode: which commands take them, where, and
// what a malformed one is.

#include "consistency_hints.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace dynakv::server {
namespace {

using Kind = cluster::ConsistencyLevel::Kind;

struct Stripped {
  bool ok = false;
  std::size_t argc = 0;
  RequestLevels levels;
  std::string error;
};

Stripped Strip(std::string_view command, std::vector<std::string_view> argv) {
  Stripped out;
  out.ok = StripRequestLevels(command, argv, 3, &out.argc, &out.levels, &out.error);
  return out;
}

TEST_CASE("GET and VGET take a trailing R <level>") {
  Stripped s = Strip("get", {"GET", "k", "R", "2"});
  REQUIRE(s.ok);
  CHECK(s.argc == 2);
  REQUIRE(s.levels.read);
  CHECK(s.levels.read->kind == Kind::kCount);
  CHECK(s.levels.read->count == 2);
  CHECK_FALSE(s.levels.write);

  s = Strip("vget", {"VGET", "k", "r", "all"});
  CHECK(s.argc == 2);
  CHECK(s.levels.read->kind == Kind::kAll);

  // Anything else is left to the command (and its arity check).
  CHECK(Strip("get", {"GET", "k", "W", "2"}).argc == 4);
  CHECK(Strip("get", {"GET", "R", "2"}).argc == 3);
  CHECK(Strip("get", {"GET", "k"}).argc == 2);
}

TEST_CASE("SET, VSET, DEL, UNLINK and the counters take a trailing W <level>") {
  Stripped s = Strip("set", {"SET", "k", "v", "EX", "10", "W", "quorum"});
  REQUIRE(s.ok);
  CHECK(s.argc == 5);
  REQUIRE(s.levels.write);
  CHECK(s.levels.write->kind == Kind::kQuorum);
  CHECK(Strip("set", {"SET", "k", "v", "W", "1"}).argc == 3);
  CHECK(Strip("set", {"SET", "k", "W", "1"}).argc == 4);  // value "W": no option
  CHECK(Strip("set", {"SET", "W", "v"}).argc == 3);

  CHECK(Strip("vset", {"VSET", "k", "v", "CONTEXT", "t", "W", "one"}).argc == 5);
  CHECK(Strip("vset", {"VSET", "k", "v", "CONTEXT", "W", "1"}).argc == 6);

  CHECK(Strip("del", {"DEL", "a", "b", "w", "ALL"}).argc == 3);
  CHECK(Strip("unlink", {"UNLINK", "a", "W", "1"}).argc == 2);
  CHECK(Strip("del", {"DEL", "W", "1"}).argc == 3);  // keys "W" and "1"

  // The counter commands take it (cluster_counters.h).
  CHECK(Strip("incr", {"INCR", "k", "W", "1"}).argc == 2);
  CHECK(Strip("decrby", {"DECRBY", "k", "5", "W", "all"}).argc == 3);
  CHECK(Strip("incrby", {"INCRBY", "k", "W", "1"}).argc == 4);  // not two extra arguments

  // Commands without the option keep every argument.
  CHECK(Strip("expire", {"EXPIRE", "k", "10", "W", "1"}).argc == 5);
  CHECK(Strip("mget", {"MGET", "a", "R", "1"}).argc == 4);
}

TEST_CASE("a malformed level is an error, not an argument") {
  Stripped s = Strip("get", {"GET", "k", "R", "most"});
  CHECK_FALSE(s.ok);
  CHECK(s.error ==
        "ERR invalid consistency level 'most' (ONE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, "
        "SERIAL, LOCAL_SERIAL or a replica count)");
  Stripped serial = Strip("get", {"GET", "k", "R", "serial"});
  REQUIRE(serial.ok);
  CHECK(serial.levels.read->kind == cluster::ConsistencyLevel::Kind::kSerial);
  serial = Strip("set", {"SET", "k", "v", "NX", "W", "Local_Serial"});
  REQUIRE(serial.ok);
  CHECK(serial.levels.write->kind == cluster::ConsistencyLevel::Kind::kLocalSerial);
  CHECK_FALSE(Strip("set", {"SET", "k", "v", "W", "0"}).ok);
  CHECK_FALSE(Strip("del", {"DEL", "k", "W", "-1"}).ok);
  s = Strip("del", {"DEL", "k", "W", "4"});
  CHECK_FALSE(s.ok);
  CHECK(s.error == "ERR consistency level 4 exceeds the replication factor (3)");

  cluster::ConsistencyLevel level;
  std::string error;
  CHECK(ParseLevelArgument("each_quorum", 3, &level, &error));
  CHECK(level.kind == Kind::kEachQuorum);
  CHECK(ParseLevelArgument("3", 3, &level, &error));
  CHECK_FALSE(ParseLevelArgument("", 3, &level, &error));
}

}  // namespace
}  // namespace dynakv::server
