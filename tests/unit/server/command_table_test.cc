// The command table as a whole (all four families) and the error texts the dispatcher builds.

#include "command_table.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "cluster_counters.h"

namespace dynakv::server {
namespace {

TEST_CASE("unknown command errors quote the arguments exactly like Redis 7") {
  CHECK(UnknownCommandError({"foo"}) == "ERR unknown command 'foo', with args beginning with: ");
  CHECK(UnknownCommandError({"foo", "a", "b c"}) ==
        "ERR unknown command 'foo', with args beginning with: 'a' 'b c' ");
  // Names are cut at 128 bytes; arguments stop once 128 bytes of them were shown, the last one
  // cut to fit.
  const std::string long_name(200, 'n');
  CHECK(UnknownCommandError({long_name}) ==
        "ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: ");
  const std::string a(100, 'a');
  const std::string b(100, 'b');
  CHECK(UnknownCommandError({"x", a, b, "c"}) ==
        "ERR unknown command 'x', with args beginning with: '" + a + "' '" +
            std::string(25, 'b') + "' ");
  const std::string x(200, 'x');
  CHECK(UnknownCommandError({"x", x, "y"}) ==
        "ERR unknown command 'x', with args beginning with: '" + std::string(128, 'x') + "' ");
}

TEST_CASE("unknown subcommand errors name the container in upper case") {
  CHECK(UnknownSubcommandError("client", "foo") == "ERR unknown subcommand 'foo'. Try CLIENT HELP.");
  CHECK(UnknownSubcommandError("Config", "x") == "ERR unknown subcommand 'x'. Try CONFIG HELP.");
}

TEST_CASE("the command table finds every command case-insensitively") {
  const CommandTable table;
  CHECK(table.duplicates().empty());
  REQUIRE_FALSE(table.sorted().empty());
  for (const CommandSpec* spec : table.sorted()) {
    CAPTURE(spec->name);
    CHECK(table.Find(spec->name) == spec);
    std::string upper(spec->name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(table.Find(upper) == spec);
    for (char c : spec->name) CHECK_FALSE(std::isupper(static_cast<unsigned char>(c)));
    CHECK(spec->arity != 0);
    // A container without a handler of its own needs a subcommand; every subcommand runs.
    CHECK((static_cast<bool>(spec->handler) || !spec->subcommands.empty()));
    for (const CommandSpec& sub : spec->subcommands) {
      CAPTURE(sub.name);
      CHECK(static_cast<bool>(sub.handler));
      CHECK(sub.arity != 0);
      CHECK(CommandTable::FindSubcommand(*spec, sub.name) == &sub);
    }
    if (spec->keys.first == 0) {
      CHECK(spec->keys.last == 0);
    } else {
      CHECK(spec->keys.step >= 1);
    }
  }
  CHECK(table.Find("nosuchcommand") == nullptr);
  CHECK(table.Find("") == nullptr);
  CHECK(table.Find(std::string(1000, 'g')) == nullptr);
  for (const char* name : {"ping", "hello", "auth", "client", "config", "info", "command", "get",
                           "set", "del", "scan", "shutdown"}) {
    CAPTURE(name);
    CHECK(table.Find(name) != nullptr);
  }
}

TEST_CASE("commands a client needs before AUTH are flagged no-auth, and only those") {
  const CommandTable table;
  for (const CommandSpec* spec : table.sorted()) {
    const bool expected = spec->name == "auth" || spec->name == "hello" ||
                          spec->name == "quit" || spec->name == "reset";
    CAPTURE(spec->name);
    CHECK(((spec->flags & kCmdNoAuth) != 0) == expected);
  }
}

TEST_CASE("the cluster facts on the rows fit together and say what the coordinator does") {
  const CommandTable table;
  std::vector<std::string_view> on_primary;
  std::vector<std::string_view> cluster_wide;
  std::vector<std::string_view> counters;
  for (const CommandSpec* spec : table.sorted()) {
    CAPTURE(spec->name);
    if (spec->flags & kCmdClusterOnPrimary) {
      on_primary.push_back(spec->name);
      CHECK((spec->flags & kCmdClusterConvergent) != 0);
    }
    if (spec->flags & kCmdClusterWide) {
      cluster_wide.push_back(spec->name);
      CHECK_FALSE(HasKeys(*spec));
      CHECK((AclCategories(*spec) & kAclKeyspace) != 0);
      CHECK_FALSE(NodeLocalInCluster(*spec));
    }
    if (spec->flags & kCmdClusterCounter) counters.push_back(spec->name);
    if (spec->conditional) CHECK((spec->flags & kCmdWrite) != 0);
    // None of dynakv's own bits is one COMMAND INFO shows.
    CHECK((spec->flags & kRedisCommandFlags & (kCmdClusterOnPrimary | kCmdClusterWide)) == 0);
  }
  std::sort(on_primary.begin(), on_primary.end());
  CHECK(on_primary == std::vector<std::string_view>{"linsert", "lpop", "lpush", "lpushx", "lrem",
                                                    "lset", "ltrim", "rpop", "rpush", "rpushx",
                                                    "zmpop", "zpopmax", "zpopmin"});
  std::sort(cluster_wide.begin(), cluster_wide.end());
  CHECK(cluster_wide == std::vector<std::string_view>{"dbsize", "flushall", "flushdb", "keys",
                                                      "randomkey", "scan"});
  std::sort(counters.begin(), counters.end());
  CHECK(counters == std::vector<std::string_view>{"decr", "decrby", "hincrby", "incr", "incrby",
                                                  "zadd", "zincrby"});
  CHECK(NodeLocalInCluster(*table.Find("swapdb")) == false);
  CHECK(NodeLocalInCluster(*table.Find("lastsave")) == false);  // no @keyspace

  // The conditional writes (cluster-conditional-write-consistency): SET only with NX, XX or GET
  // (and only when its options parse: a syntax error writes nothing).
  const CommandSpec& set = *table.Find("set");
  REQUIRE(static_cast<bool>(set.conditional));
  using Argv = std::vector<std::string_view>;
  CHECK(set.conditional(Argv{"SET", "k", "v", "NX", "PX", "10000"}));
  CHECK(set.conditional(Argv{"set", "k", "v", "xx"}));
  CHECK(set.conditional(Argv{"SET", "k", "v", "GET"}));
  CHECK_FALSE(set.conditional(Argv{"SET", "k", "v"}));
  CHECK_FALSE(set.conditional(Argv{"SET", "k", "v", "KEEPTTL"}));
  CHECK_FALSE(set.conditional(Argv{"SET", "k", "v", "EX", "10"}));
  CHECK_FALSE(set.conditional(Argv{"SET", "k", "v", "NX", "XX"}));  // a syntax error
  CHECK_FALSE(set.conditional(Argv{"SET", "k", "NX"}));  // NX is the value here
  for (const char* name : {"getset", "getdel", "incr", "incrby", "decr", "decrby", "incrbyfloat"}) {
    CAPTURE(name);
    REQUIRE(static_cast<bool>(table.Find(name)->conditional));
    CHECK(table.Find(name)->conditional(Argv{name, "k", "1"}));
  }
  std::vector<std::string_view> ttl_only;
  for (const CommandSpec* spec : table.sorted()) {
    if (ChangesOnlyTtl(*spec)) ttl_only.push_back(spec->name);
  }
  std::sort(ttl_only.begin(), ttl_only.end());
  CHECK(ttl_only == std::vector<std::string_view>{"expire", "expireat", "persist", "pexpire",
                                                  "pexpireat"});
  CHECK_FALSE(static_cast<bool>(table.Find("setex")->conditional));
  CHECK_FALSE(static_cast<bool>(table.Find("hincrby")->conditional));
}

TEST_CASE("ReplyWrongArity words it as Redis does") {
  std::string out;
  resp::ReplyWriter writer(&out);
  ReplyWrongArity(writer, "client|setname");
  CHECK(out == "-ERR wrong number of arguments for 'client|setname' command\r\n");
}

}  // namespace
}  // namespace dynakv::server
