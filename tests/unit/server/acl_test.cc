// ACL users: rule parsing and its errors, key and command checks, categories, how users are
// described back, the log, and the ACL file. Expected texts are Redis 7.0.15's.

#include "acl.h"

#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "command_table.h"
#include "temp_dir.h"

namespace dynakv::server {
namespace {

using Args = std::vector<std::string_view>;

struct Fixture {
  CommandTable table;
  Acl acl{table, false};

  AclUser& User(std::string_view name, const Args& rules) {
    std::string error;
    REQUIRE_MESSAGE(acl.SetUser(name, rules, &error), error);
    return *acl.Find(name);
  }
  std::string SetError(const Args& rules) {
    std::string error;
    CHECK_FALSE(acl.SetUser("err", rules, &error));
    return error;
  }
  AclDenial Check(const AclUser& user, const Args& argv, std::size_t* arg = nullptr) {
    const CommandSpec* spec = table.Find(argv[0]);
    REQUIRE(spec != nullptr);
    const CommandSpec* parent = nullptr;
    if (!spec->subcommands.empty()) {
      parent = spec;
      spec = CommandTable::FindSubcommand(*parent, argv[1]);
      REQUIRE(spec != nullptr);
    }
    std::size_t unused = 0;
    return user.Check(*spec, parent, argv, arg != nullptr ? arg : &unused);
  }
};

TEST_CASE("categories: Redis's explicit ones plus those the flags imply, in Redis's order") {
  CommandTable table;
  auto categories = [&](std::string_view name) { return AclCategories(*table.Find(name)); };
  CHECK(categories("get") == (kAclRead | kAclString | kAclFast));
  CHECK(categories("set") == (kAclWrite | kAclString | kAclSlow));
  CHECK(categories("del") == (kAclKeyspace | kAclWrite | kAclSlow));
  CHECK(categories("keys") == (kAclKeyspace | kAclRead | kAclSlow | kAclDangerous));
  CHECK(categories("lastsave") == (kAclAdmin | kAclFast | kAclDangerous));
  CHECK(categories("ping") == (kAclFast | kAclConnection));
  const CommandSpec* kill = CommandTable::FindSubcommand(*table.Find("client"), "kill");
  REQUIRE(kill != nullptr);
  CHECK(AclCategories(*kill) == (kAclAdmin | kAclSlow | kAclDangerous | kAclConnection));
  CHECK(AclCategoryName(kAclKeyspace) == "keyspace");
  CHECK(AclCategoryName(kAclScripting) == "scripting");
  CHECK(AclCategoryByName("SortedSet") == kAclSortedSet);
  CHECK(AclCategoryByName("all") == 0);
  // Every row's facts are consistent: a key range has an access, categories name a speed.
  for (const CommandTable::Entry& entry : table.entries()) {
    CAPTURE(entry.fullname);
    const std::uint32_t c = AclCategories(*entry.spec);
    CHECK(((c & kAclFast) != 0) != ((c & kAclSlow) != 0));
    CHECK(table.FindId(entry.fullname) == table.IdOf(entry.spec));
  }
}

TEST_CASE("a new user is off with no permissions; the default user may do everything") {
  Fixture f;
  CHECK(f.User("alice", {}).Describe() == "off resetchannels -@all");
  CHECK(f.acl.default_user().Describe() == "on nopass ~* &* +@all");
  CHECK(f.acl.default_user().AllowsEverything());
  CHECK(f.User("bob", {"reset"}).Describe() == "off sanitize-payload resetchannels -@all");
  // acl-pubsub-default allchannels: new users, their selectors and reset get every channel.
  f.acl.set_all_channels_by_default(true);
  CHECK(f.User("carol", {"(~a)"}).Describe() == "off &* -@all (~a &* -@all)");
  CHECK(f.User("carol", {"reset"}).Describe() == "off sanitize-payload &* -@all");
}

TEST_CASE("passwords are stored as SHA-256 and checked only while the user is on") {
  Fixture f;
  AclUser& u = f.User("u", {">secret", ">secret", "#" + std::string(64, 'a')});
  CHECK(u.passwords().size() == 2);
  CHECK(u.passwords()[0] == AclHashPassword("secret"));
  CHECK(AclHashPassword("pw") ==
        "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
  CHECK(f.acl.Authenticate("u", "secret") == nullptr);  // off
  f.User("u", {"on"});
  CHECK(f.acl.Authenticate("u", "secret") == &u);
  CHECK(f.acl.Authenticate("u", "nope") == nullptr);
  CHECK(f.acl.Authenticate("nosuch", "secret") == nullptr);
  f.User("u", {"<secret"});
  CHECK(f.acl.Authenticate("u", "secret") == nullptr);
  f.User("u", {"nopass"});
  CHECK(f.acl.Authenticate("u", "anything") == &u);
  f.User("u", {"resetpass"});
  CHECK(f.acl.Authenticate("u", "anything") == nullptr);
  f.acl.SetDefaultPassword("req");
  CHECK(f.acl.default_user().Describe() == "on #" + AclHashPassword("req") + " ~* &* +@all");
  f.acl.SetDefaultPassword("");
  CHECK(f.acl.default_user().nopass());
}

TEST_CASE("bad rules are refused with Redis's reasons and change nothing") {
  Fixture f;
  auto prefix = [](std::string_view rule) {
    return "ERR Error in ACL SETUSER modifier '" + std::string(rule) + "': ";
  };
  CHECK(f.SetError({"on", "+nosuch"}) ==
        prefix("+nosuch") + "Unknown command or category name in ACL");
  CHECK(f.acl.Find("err") == nullptr);  // not even created
  CHECK(f.SetError({"+@nosuch"}) == prefix("+@nosuch") + "Unknown command or category name in ACL");
  CHECK(f.SetError({"bogus"}) == prefix("bogus") + "Syntax error");
  CHECK(f.SetError({"%X~a"}) == prefix("%X~a") + "Syntax error");
  CHECK(f.SetError({"%"}) == prefix("%") + "Syntax error");
  CHECK(f.SetError({"#abc"}) == prefix("#abc") +
                                    "The password hash must be exactly 64 characters and contain "
                                    "only lowercase hexadecimal characters");
  CHECK(f.SetError({"<x"}) == prefix("<x") +
                                  "The password you are trying to remove from the user does not "
                                  "exist");
  CHECK(f.SetError({"allkeys", "~a"})
            .find("Adding a pattern after the * pattern (or the "
                  "'allkeys' flag)") != std::string::npos);
  CHECK(f.SetError({"&*", "&a"}).find("'allchannels' flag") != std::string::npos);
  CHECK(f.SetError({"+client|id|x"}) ==
        prefix("+client|id|x") + "Allowing first-arg of a subcommand is not supported");
  CHECK(f.SetError({"+client|"}) == prefix("+client|") + "Syntax error");
  CHECK(f.SetError({"+client|nosuch"}).find("Unknown command") != std::string::npos);
  CHECK(f.SetError({"-get|x"}).find("Unknown command") != std::string::npos);
  CHECK(f.SetError({"(~a", "b"}) == "ERR Unmatched parenthesis in acl selector starting at '(~a'.");
  std::string error;
  CHECK_FALSE(f.acl.SetUser("a b", {}, &error));
  CHECK(error == "ERR Usernames can't contain spaces or null characters");
  // A failed SETUSER leaves an existing user as it was.
  f.User("keep", {"on", "+get"});
  CHECK_FALSE(f.acl.SetUser("keep", {"off", "+nosuch"}, &error));
  CHECK(f.acl.Find("keep")->Describe() == "on resetchannels -@all +get");
}

TEST_CASE("command rules: categories, commands, subcommands and first arguments") {
  Fixture f;
  AclUser& u =
      f.User("u", {"on", "nopass", "allkeys", "+@read", "-get", "+client|id", "+select|0"});
  CHECK(f.Check(u, {"mget", "a"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"get", "a"}) == AclDenial::kCommand);
  CHECK(f.Check(u, {"set", "a", "b"}) == AclDenial::kCommand);
  CHECK(f.Check(u, {"client", "id"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"client", "kill", "x"}) == AclDenial::kCommand);
  CHECK(f.Check(u, {"select", "0"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"select", "1"}) == AclDenial::kCommand);
  CHECK(f.Check(u, {"auth", "x"}) == AclDenial::kNone);  // no-auth commands always run
  CHECK(u.Describe() == "on nopass ~* resetchannels -@all +@read +client|id -get +select|0");
  // A container rule covers its subcommands; a later subcommand rule refines it.
  f.User("u", {"+client", "-client|kill"});
  CHECK(f.Check(u, {"client", "list"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"client", "kill", "x"}) == AclDenial::kCommand);
  // Rules are described from the resulting bits, as Redis 7.0 does.
  f.User("u", {"-@all", "+get", "+set", "-@write"});
  CHECK(u.selectors()[0].DescribeCommands() == "-@all +get");
  f.User("u", {"+@all", "-get", "+get"});
  CHECK(u.selectors()[0].DescribeCommands() == "+@all");
  f.User("u", {"-@all", "+select|0", "+select|1", "-select"});
  CHECK(u.selectors()[0].DescribeCommands() == "-@all");
  f.User("u", {"-@all", "+@read", "-@read"});
  CHECK(u.selectors()[0].DescribeCommands() == "-@all");
}

TEST_CASE("key patterns: ~ for both, %R~ and %W~ by what the command does with each key") {
  Fixture f;
  AclUser& u = f.User("u", {"on", "nopass", "+@all", "~a:*", "%R~r:*", "%W~w:*"});
  std::size_t arg = 0;
  CHECK(f.Check(u, {"get", "a:1"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"get", "r:1"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"get", "w:1"}) == AclDenial::kKey);
  CHECK(f.Check(u, {"set", "w:1", "v"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"set", "w:1", "v", "GET"}) == AclDenial::kKey);  // GET reads it too
  CHECK(f.Check(u, {"set", "r:1", "v"}) == AclDenial::kKey);
  CHECK(f.Check(u, {"exists", "w:1", "r:1"}) == AclDenial::kNone);  // neither read nor write
  CHECK(f.Check(u, {"exists", "b:1"}) == AclDenial::kKey);
  CHECK(f.Check(u, {"copy", "r:1", "w:1"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"copy", "w:1", "r:1"}, &arg) == AclDenial::kKey);
  CHECK(arg == 1);
  CHECK(f.Check(u, {"rename", "a:1", "w:1"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"rename", "r:1", "w:1"}) == AclDenial::kKey);  // the source is deleted
  CHECK(f.Check(u, {"mset", "a:1", "x", "b:1", "y"}, &arg) == AclDenial::kKey);
  CHECK(arg == 3);
  CHECK(f.Check(u, {"keys", "*"}) == AclDenial::kNone);  // no key arguments
  // The same pattern twice joins its permissions.
  f.User("u", {"resetkeys", "%R~k", "%W~k"});
  CHECK(u.selectors()[0].DescribeKeys() == "~k");
  f.User("u", {"resetkeys", "%RW~*"});
  CHECK(u.selectors()[0].DescribeKeys() == "~*");
}

TEST_CASE("selectors: any one allowing the command is enough; the refusal reported is the worst") {
  Fixture f;
  AclUser& u = f.User("u", {"on", "nopass", "~a:*", "+get", "(~b:* +set)"});
  CHECK(f.Check(u, {"get", "a:1"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"set", "b:1", "v"}) == AclDenial::kNone);
  CHECK(f.Check(u, {"set", "a:1", "v"}) == AclDenial::kKey);
  CHECK(f.Check(u, {"del", "a:1"}) == AclDenial::kCommand);
  CHECK(u.Describe() == "on nopass ~a:* resetchannels -@all +get (~b:* resetchannels -@all +set)");
  f.User("u", {"clearselectors"});
  CHECK(f.Check(u, {"set", "b:1", "v"}) == AclDenial::kCommand);
  f.User("u", {"&news.*", "&x"});
  CHECK(u.selectors()[0].DescribeChannels() == "&news.* &x");
}

TEST_CASE("the log groups repeats and keeps acllog-max-len entries, newest first") {
  Fixture f;
  f.acl.LogDenial(AclDenial::kKey, AclContext::kToplevel, "k", "u", 1000, "a");
  f.acl.LogDenial(AclDenial::kKey, AclContext::kToplevel, "k", "u", 2000, "b");
  REQUIRE(f.acl.log().size() == 1);
  CHECK(f.acl.log()[0].count == 2);
  CHECK(f.acl.log()[0].client_info == "b");
  f.acl.LogDenial(AclDenial::kKey, AclContext::kToplevel, "k", "u", 70000, "c");  // > 60 s later
  CHECK(f.acl.log().size() == 2);
  f.acl.set_log_max_len(1);
  CHECK(f.acl.log().size() == 1);
  CHECK(f.acl.log()[0].client_info == "c");
  f.acl.ResetLog();
  CHECK(f.acl.log().empty());
}

TEST_CASE("the ACL file: SAVE writes what LOAD reads back; a bad file changes nothing") {
  Fixture f;
  testing::TempDir dir;
  const std::string path = dir.path() + "/users.acl";
  f.User("alice", {"on", ">pw", "~a:*", "+get", "(%W~w:* +set)"});
  f.acl.SetDefaultPassword("req");
  std::string error;
  REQUIRE(f.acl.SaveFile(path, &error));
  std::vector<std::string> removed;
  Fixture g;
  g.acl.set_on_user_removed([&](const AclUser& user) { removed.push_back(user.name()); });
  g.User("old", {"on"});
  AclUser* default_before = &g.acl.default_user();
  REQUIRE_MESSAGE(g.acl.LoadFile(path, &error), error);
  CHECK(removed == std::vector<std::string>{"old"});
  CHECK(&g.acl.default_user() == default_before);  // updated in place
  CHECK(g.acl.Find("old") == nullptr);
  CHECK(g.acl.Find("alice")->Describe() == f.acl.Find("alice")->Describe());
  CHECK(g.acl.default_user().Describe() == f.acl.default_user().Describe());
  std::ofstream(path) << "user bob on +nosuch\nnonsense\n";
  CHECK_FALSE(g.acl.LoadFile(path, &error));
  CHECK(error == path +
                     ":1: Error in applying operation '+nosuch': Unknown command or category "
                     "name in ACL. " +
                     path +
                     ":2 should start with user keyword followed by the username. WARNING: ACL "
                     "errors detected, no change to "
                     "the previously active ACL rules was performed");
  CHECK(g.acl.Find("alice") != nullptr);
  CHECK(g.acl.Find("bob") == nullptr);
}

TEST_CASE("random rule sequences: what ACL LIST describes loads back as the same user") {
  // The ACL file stores users as described: a description that does not reproduce the user
  // would change permissions across ACL SAVE and LOAD.
  Fixture f;
  const std::vector<std::string> vocabulary = {"on",
                                               "off",
                                               "nopass",
                                               "resetpass",
                                               ">a",
                                               ">b",
                                               "<a",
                                               "allkeys",
                                               "resetkeys",
                                               "~k*",
                                               "%R~r*",
                                               "%W~w*",
                                               "%RW~x",
                                               "allchannels",
                                               "resetchannels",
                                               "&c*",
                                               "+@all",
                                               "-@all",
                                               "+@read",
                                               "-@read",
                                               "+@write",
                                               "-@write",
                                               "+@string",
                                               "-@keyspace",
                                               "+@dangerous",
                                               "-@admin",
                                               "+@connection",
                                               "-@fast",
                                               "+get",
                                               "-get",
                                               "+set",
                                               "-del",
                                               "+client",
                                               "-client|kill",
                                               "+client|id",
                                               "+select|0",
                                               "+config|get",
                                               "-config",
                                               "(~s* +get)",
                                               "(%R~t* -@all +mget)",
                                               "clearselectors",
                                               "reset",
                                               "+nosuch",
                                               "bogus"};
  std::mt19937 rng(42);
  const std::vector<std::vector<std::string_view>> probes = {
      {"get", "k1"},   {"set", "w1", "v"}, {"set", "x", "v", "get"}, {"mget", "t1", "r1"},
      {"del", "k1"},   {"client", "id"},   {"client", "kill", "x"},  {"config", "get", "x"},
      {"select", "0"}, {"keys", "*"},      {"rename", "k1", "w2"},   {"exists", "s1"}};
  int applied = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::string> rules;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) rules.push_back(vocabulary[rng() % vocabulary.size()]);
    const Args args(rules.begin(), rules.end());
    std::string error;
    if (!f.acl.SetUser("r", args, &error)) continue;
    ++applied;
    const AclUser& user = *f.acl.Find("r");
    const std::string description = user.Describe();
    CAPTURE(description);
    std::vector<std::string> words;
    std::istringstream in(description);
    for (std::string word; in >> word;) words.push_back(word);
    const Args reload(words.begin(), words.end());
    f.acl.DeleteUser("copy");
    REQUIRE_MESSAGE(f.acl.SetUser("copy", reload, &error), error);
    const AclUser& copy = *f.acl.Find("copy");
    CHECK(copy.Describe() == description);
    for (const auto& probe : probes) {
      CHECK(f.Check(copy, probe) == f.Check(user, probe));
    }
    f.acl.DeleteUser("r");
  }
  CHECK(applied > 1000);
}

}  // namespace
}  // namespace dynakv::server
