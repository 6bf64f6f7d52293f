// ACL: users, permissions and the log of refusals, with Redis 7.0's replies and error texts.

#include <openssl/rand.h>

#include <cstdio>
#include <span>
#include <string>

#include "acl.h"
#include "client.h"
#include "command.h"
#include "command_table.h"
#include "command_util.h"
#include "number_parse.h"
#include "server.h"

namespace dynakv::server {
namespace {

constexpr std::string_view kErrNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users "
    "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
    "configuration file set) in order to store users in the Redis configuration.";

// What Redis's ACL command replies when a subcommand gets arguments it does not take.
void ReplySyntaxError(CommandContext& ctx) {
  ctx.reply.Error("ERR unknown subcommand or wrong number of arguments for '" +
                  std::string(ctx.argv[1].substr(0, 128)) + "'. Try ACL HELP.");
}

void AclSetUser(CommandContext& ctx) {
  const std::vector<std::string_view> rules(ctx.argv.begin() + 3, ctx.argv.end());
  std::string error;
  if (ctx.server.acl().SetUser(ctx.argv[2], rules, &error)) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(error);
  }
}

void ReplySelector(resp::ReplyWriter& r, const AclSelector& selector) {
  r.Bulk("commands");
  r.Bulk(selector.DescribeCommands());
  r.Bulk("keys");
  r.Bulk(selector.DescribeKeys());
  r.Bulk("channels");
  r.Bulk(selector.DescribeChannels());
}

void AclGetUser(CommandContext& ctx) {
  const AclUser* user = ctx.server.acl().Find(ctx.argv[2]);
  resp::ReplyWriter& r = ctx.reply;
  if (user == nullptr) {
    r.Null();
    return;
  }
  r.MapHeader(6);
  r.Bulk("flags");
  const auto flags = user->Flags();
  r.SetHeader(flags.size());
  for (std::string_view flag : flags) r.Bulk(flag);
  r.Bulk("passwords");
  r.ArrayHeader(user->passwords().size());
  for (const std::string& hash : user->passwords()) r.Bulk(hash);
  ReplySelector(r, user->selectors().front());
  r.Bulk("selectors");
  r.ArrayHeader(user->selectors().size() - 1);
  for (std::size_t i = 1; i < user->selectors().size(); ++i) {
    r.MapHeader(3);
    ReplySelector(r, user->selectors()[i]);
  }
}

void AclDelUser(CommandContext& ctx) {
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    if (ctx.argv[i] == "default") {
      ctx.reply.Error("ERR The 'default' user cannot be removed");
      return;
    }
  }
  long long deleted = 0;
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    if (ctx.server.acl().DeleteUser(ctx.argv[i])) ++deleted;
  }
  ctx.reply.Integer(deleted);
}

void AclList(CommandContext& ctx) {
  const auto& users = ctx.server.acl().users();
  ctx.reply.ArrayHeader(users.size());
  for (const auto& [name, user] : users) ctx.reply.Bulk("user " + name + " " + user->Describe());
}

void AclUsers(CommandContext& ctx) {
  const auto& users = ctx.server.acl().users();
  ctx.reply.ArrayHeader(users.size());
  for (const auto& [name, user] : users) ctx.reply.Bulk(name);
}

void AclWhoAmI(CommandContext& ctx) { ctx.reply.Bulk(ctx.client.user()->name()); }

void AclCat(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  if (ctx.argv.size() == 2) {
    ctx.reply.ArrayHeader(kAclCategoryCount);
    for (int i = 0; i < kAclCategoryCount; ++i) ctx.reply.Bulk(AclCategoryName(1u << i));
    return;
  }
  const std::uint32_t category = AclCategoryByName(ctx.argv[2]);
  if (category == 0) {
    ctx.reply.Error("ERR Unknown category '" + std::string(ctx.argv[2]) + "'");
    return;
  }
  std::vector<const std::string*> names;
  for (const CommandTable::Entry& entry : ctx.server.commands().entries()) {
    if (AclCategories(*entry.spec) & category) names.push_back(&entry.fullname);
  }
  ctx.reply.ArrayHeader(names.size());
  for (const std::string* name : names) ctx.reply.Bulk(*name);
}

void AclGenPass(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  constexpr long long kMaxBits = 4096;
  long long bits = 256;
  if (ctx.argv.size() == 3 && !ParseLongLong(ctx.argv[2], &bits)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  if (bits <= 0 || bits > kMaxBits) {
    ctx.reply.Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a "
        "positive number up to 4096");
    return;
  }
  const std::size_t chars = static_cast<std::size_t>((bits + 3) / 4);
  unsigned char random[kMaxBits / 4];
  RAND_bytes(random, static_cast<int>(chars));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string pass;
  for (std::size_t i = 0; i < chars; ++i) pass += kHex[random[i] & 15];
  ctx.reply.Bulk(pass);
}

void AclLog(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  Acl& acl = ctx.server.acl();
  long long count = 10;
  if (ctx.argv.size() == 3) {
    if (EqualsIgnoreCase(ctx.argv[2], "reset")) {
      acl.ResetLog();
      ctx.reply.Ok();
      return;
    }
    if (!ParseLongLong(ctx.argv[2], &count)) {
      ctx.reply.Error(kErrNotInteger);
      return;
    }
    if (count < 0) count = 0;
  }
  const auto& log = acl.log();
  const std::size_t shown = std::min<std::size_t>(static_cast<std::size_t>(count), log.size());
  const std::uint64_t now = uv_now(ctx.server.loop());
  resp::ReplyWriter& r = ctx.reply;
  r.ArrayHeader(shown);
  static constexpr std::string_view kReasons[] = {"unknown", "command", "key", "auth", "channel"};
  static constexpr std::string_view kContexts[] = {"toplevel", "multi", "lua", "module"};
  for (std::size_t i = 0; i < shown; ++i) {
    const AclLogEntry& entry = log[i];
    r.MapHeader(7);
    r.Bulk("count");
    r.Integer(entry.count);
    r.Bulk("reason");
    r.Bulk(kReasons[static_cast<int>(entry.reason)]);
    r.Bulk("context");
    r.Bulk(kContexts[static_cast<int>(entry.context)]);
    r.Bulk("object");
    r.Bulk(entry.object);
    r.Bulk("username");
    r.Bulk(entry.username);
    r.Bulk("age-seconds");
    r.Double(static_cast<double>(now - entry.time_ms) / 1000);
    r.Bulk("client-info");
    r.Bulk(entry.client_info);
  }
}

void AclDryRun(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  const AclUser* user = ctx.server.acl().Find(argv[2]);
  if (user == nullptr) {
    ctx.reply.Error("ERR User '" + std::string(argv[2]) + "' not found");
    return;
  }
  const CommandSpec* spec = ctx.server.commands().Find(argv[3]);
  const CommandSpec* parent = nullptr;
  if (spec != nullptr && !spec->subcommands.empty() && argv.size() >= 5) {
    parent = spec;
    spec = CommandTable::FindSubcommand(*parent, argv[4]);
  }
  if (spec == nullptr) {
    ctx.reply.Error("ERR Command '" + std::string(argv[3]) + "' not found");
    return;
  }
  const std::vector<std::string_view> command(argv.begin() + 3, argv.end());
  if (!ArityMatches(*spec, command.size())) {
    ReplyWrongArity(ctx.reply, FullName(*spec, parent));
    return;
  }
  std::size_t arg = 0;
  const AclDenial denial = user->Check(*spec, parent, command, &arg);
  if (denial == AclDenial::kNone) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Bulk(DryRunDenial(denial, FullName(*spec, parent), command[arg]));
  }
}

void AclLoad(CommandContext& ctx) {
  const std::string& path = ctx.server.config().aclfile;
  if (path.empty()) {
    ctx.reply.Error(kErrNoAclFile);
    return;
  }
  std::string error;
  if (ctx.server.acl().LoadFile(path, &error)) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Error("ERR " + error);
  }
}

void AclSave(CommandContext& ctx) {
  const std::string& path = ctx.server.config().aclfile;
  if (path.empty()) {
    ctx.reply.Error(kErrNoAclFile);
    return;
  }
  std::string error;
  if (ctx.server.acl().SaveFile(path, &error)) {
    ctx.reply.Ok();
  } else {
    Log(ctx.server.log_level(), LogLevel::kWarning, "Opening ACL file for saving: %s",
        error.c_str());
    ctx.reply.Error(
        "ERR There was an error trying to save the ACLs. Please check the server logs for more "
        "information");
  }
}

void AclHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// Arity, flags and categories as Redis 7.0 declares them.
// clang-format off
const CommandSpec kAclSubcommands[] = {
    {.name = "cat", .arity = -2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclCat},
    {.name = "deluser", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclDelUser},
    {.name = "dryrun", .arity = -4, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclDryRun},
    {.name = "genpass", .arity = -2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclGenPass},
    {.name = "getuser", .arity = 3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclGetUser},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = AclHelp},
    {.name = "list", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclList},
    {.name = "load", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclLoad},
    {.name = "log", .arity = -2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclLog},
    {.name = "save", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclSave},
    {.name = "setuser", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclSetUser},
    {.name = "users", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclUsers},
    {.name = "whoami", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = AclWhoAmI},
};
// clang-format on

// clang-format off
const CommandSpec kAclCommands[] = {
    {.name = "acl", .arity = -2, .subcommands = kAclSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> AclCommands() { return kAclCommands; }

}  // namespace dynakv::server
