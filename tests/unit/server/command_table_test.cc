// The command table as a whole (all four families) and the error texts the dispatcher builds.

#include "command_table.h"

#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <vector>

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

TEST_CASE("ReplyWrongArity words it as Redis does") {
  std::string out;
  resp::ReplyWriter writer(&out);
  ReplyWrongArity(writer, "client|setname");
  CHECK(out == "-ERR wrong number of arguments for 'client|setname' command\r\n");
}

}  // namespace
}  // namespace dynakv::server
