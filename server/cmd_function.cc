// Functions (Redis 7.0's functions.c): FCALL, FCALL_RO and FUNCTION LOAD/DELETE/FLUSH/LIST/
// STATS/KILL/HELP. Libraries run in the same Lua engine as EVAL's scripts (scripting/) and are
// kept in the data dir's functions.lua (ScriptRunner), so they survive a restart as Redis's
// survive in its RDB and AOF. Not here: FUNCTION DUMP and RESTORE.

#include <string>
#include <vector>

#include "ascii.h"
#include "client.h"
#include "cluster_scripts.h"
#include "command.h"
#include "glob.h"
#include "number_parse.h"
#include "script_runner.h"
#include "server.h"

namespace dynakv::server {
namespace {

void FcallGeneric(CommandContext& ctx, bool read_only_command) {
  ClusterExecutor* cluster = ctx.server.cluster_executor();
  if (cluster != nullptr && ScriptKeysCrossSlot(ctx)) return;
  ScriptRunner& runner = ctx.server.scripts();
  const scripting::Function* function = runner.engine().FindFunction(ctx.argv[1]);
  if (function == nullptr) return ctx.reply.Error("ERR Function not found");
  long long numkeys = 0;
  // FCALL words a numkeys that is not a number its own way; the rest as EVAL.
  if (!ParseLongLong(ctx.argv[2], &numkeys))
    return ctx.reply.Error("ERR Bad number of keys provided");
  if (!ParseNumKeys(ctx, &numkeys)) return;
  if (const std::string refusal = RefusalByFlags(ctx.server, function->flags, read_only_command);
      !refusal.empty()) {
    return ctx.reply.Error(refusal);
  }
  Keyspace* in_exec = cluster != nullptr ? ExecSnapshot(ctx) : nullptr;
  if (cluster != nullptr && in_exec == nullptr) {
    return RunScriptInCluster(ctx, *cluster, ScriptRef{true, function->name, ""}, numkeys,
                              read_only_command);
  }
  const auto first_key = ctx.argv.begin() + 3;
  const std::vector<std::string_view> keys(first_key, first_key + numkeys);
  const std::vector<std::string_view> args(first_key + numkeys, ctx.argv.end());
  runner.RunFunction(ctx.client, *function, keys, args, read_only_command, ctx.reply, in_exec);
}

void FcallCommand(CommandContext& ctx) { FcallGeneric(ctx, false); }
void FcallRoCommand(CommandContext& ctx) { FcallGeneric(ctx, true); }

void FunctionLoad(CommandContext& ctx) {
  bool replace = false;
  std::size_t pos = 2;
  while (pos < ctx.argv.size() - 1) {
    const std::string_view option = ctx.argv[pos++];
    if (EqualsIgnoreCase(option, "replace")) {
      replace = true;
      continue;
    }
    return ctx.reply.Error("ERR Unknown option given: " + std::string(option));
  }
  if (pos >= ctx.argv.size()) return ctx.reply.Error("ERR Function code is missing");
  std::string name;
  std::string error;
  if (!ctx.server.scripts().LoadLibrary(ctx.argv[pos], replace, &name, &error)) {
    return ctx.reply.Error(error);
  }
  ctx.reply.Bulk(name);
}

void FunctionDelete(CommandContext& ctx) {
  std::string error;
  if (!ctx.server.scripts().DeleteLibrary(ctx.argv[2], &error)) return ctx.reply.Error(error);
  ctx.reply.Ok();
}

void FunctionFlush(CommandContext& ctx) {
  // ASYNC and SYNC both flush at once.
  if (ctx.argv.size() > 3 || (ctx.argv.size() == 3 && !EqualsIgnoreCase(ctx.argv[2], "sync") &&
                              !EqualsIgnoreCase(ctx.argv[2], "async"))) {
    return ctx.reply.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  std::string error;
  if (!ctx.server.scripts().FlushLibraries(&error)) return ctx.reply.Error(error);
  ctx.reply.Ok();
}

void ReplyFlags(resp::ReplyWriter& reply, std::uint32_t flags) {
  static constexpr std::pair<std::uint32_t, std::string_view> kNames[] = {
      {scripting::kFlagNoWrites, "no-writes"},
      {scripting::kFlagAllowOom, "allow-oom"},
      {scripting::kFlagAllowStale, "allow-stale"},
      {scripting::kFlagNoCluster, "no-cluster"},
      {scripting::kFlagAllowCrossSlot, "allow-cross-slot-keys"},
  };
  std::size_t count = 0;
  for (const auto& [flag, name] : kNames) count += (flags & flag) != 0;
  reply.SetHeader(count);
  for (const auto& [flag, name] : kNames) {
    if (flags & flag) reply.Simple(name);
  }
}

void FunctionList(CommandContext& ctx) {
  bool with_code = false;
  bool has_pattern = false;
  std::string_view pattern;
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    const std::string_view arg = ctx.argv[i];
    if (!with_code && EqualsIgnoreCase(arg, "withcode")) {
      with_code = true;
      continue;
    }
    if (!has_pattern && EqualsIgnoreCase(arg, "libraryname")) {
      if (i >= ctx.argv.size() - 1) {
        return ctx.reply.Error("ERR library name argument was not given");
      }
      pattern = ctx.argv[++i];
      has_pattern = true;
      continue;
    }
    return ctx.reply.Error("ERR Unknown argument " + std::string(arg));
  }
  const scripting::Engine& engine = ctx.server.scripts().engine();
  std::vector<const scripting::Library*> libraries;
  for (const scripting::Library* library : engine.Libraries()) {
    if (!has_pattern || GlobMatch(pattern, library->name, /*nocase=*/true)) {
      libraries.push_back(library);
    }
  }
  resp::ReplyWriter& reply = ctx.reply;
  reply.ArrayHeader(libraries.size());
  for (const scripting::Library* library : libraries) {
    reply.MapHeader(with_code ? 4 : 3);
    reply.Bulk("library_name");
    reply.Bulk(library->name);
    reply.Bulk("engine");
    reply.Bulk("LUA");
    reply.Bulk("functions");
    reply.ArrayHeader(library->functions.size());
    for (const std::string& name : library->functions) {
      const scripting::Function* function = engine.FunctionOf(*library, name);
      reply.MapHeader(3);
      reply.Bulk("name");
      reply.Bulk(name);
      reply.Bulk("description");
      if (function != nullptr && function->has_description) {
        reply.Bulk(function->description);
      } else {
        reply.Null();
      }
      reply.Bulk("flags");
      ReplyFlags(reply, function != nullptr ? function->flags : 0);
    }
    if (with_code) {
      reply.Bulk("library_code");
      reply.Bulk(library->code);
    }
  }
}

void FunctionStats(CommandContext& ctx) {
  // Never called while a function runs (the node answers -BUSY then): no running script.
  const scripting::Engine& engine = ctx.server.scripts().engine();
  resp::ReplyWriter& reply = ctx.reply;
  reply.MapHeader(2);
  reply.Bulk("running_script");
  reply.Null();
  reply.Bulk("engines");
  reply.MapHeader(1);
  reply.Bulk("LUA");
  reply.MapHeader(2);
  reply.Bulk("libraries_count");
  reply.Integer(static_cast<long long>(engine.Libraries().size()));
  reply.Bulk("functions_count");
  reply.Integer(static_cast<long long>(engine.function_count()));
}

void FunctionKill(CommandContext& ctx) {
  ctx.reply.Error("NOTBUSY No scripts in execution right now.");
}

void FunctionHelp(CommandContext& ctx) {
  // Redis 7.0's text, without DUMP and RESTORE.
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// clang-format off
const CommandSpec kFunctionSubcommands[] = {
    {.name = "delete", .arity = 3, .flags = kCmdWrite | kCmdNoScript, .acl = kAclScripting,
     .tips = "request_policy:all_shards response_policy:all_succeeded", .handler = FunctionDelete},
    {.name = "flush", .arity = -2, .flags = kCmdWrite | kCmdNoScript, .acl = kAclScripting,
     .tips = "request_policy:all_shards response_policy:all_succeeded", .handler = FunctionFlush},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclScripting,
     .handler = FunctionHelp},
    {.name = "kill", .arity = 2, .flags = kCmdNoScript | kCmdAllowBusy, .acl = kAclScripting,
     .tips = "request_policy:all_shards response_policy:one_succeeded", .handler = FunctionKill},
    {.name = "list", .arity = -2, .flags = kCmdNoScript, .acl = kAclScripting,
     .tips = "nondeterministic_output_order", .handler = FunctionList},
    {.name = "load", .arity = -3, .flags = kCmdWrite | kCmdDenyOom | kCmdNoScript,
     .acl = kAclScripting, .tips = "request_policy:all_shards response_policy:all_succeeded",
     .handler = FunctionLoad},
    {.name = "stats", .arity = 2, .flags = kCmdNoScript | kCmdAllowBusy, .acl = kAclScripting,
     .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
     .handler = FunctionStats},
};

const CommandSpec kFunctionCommands[] = {
    {.name = "fcall", .arity = -3,
     .flags = kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys | kCmdOwnReplication,
     .acl = kAclScripting,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRW | kKeyAccess | kKeyUpdate,
                          "We cannot tell how the keys will be used so we assume the worst, RW "
                          "and UPDATE")},
     .handler = FcallCommand},
    {.name = "fcall_ro", .arity = -3,
     .flags = kCmdReadOnly | kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys | kCmdOwnReplication,
     .acl = kAclScripting,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess,
                          "We cannot tell how the keys will be used so we assume the worst, RO "
                          "and ACCESS")},
     .handler = FcallRoCommand},
    {.name = "function", .arity = -2, .subcommands = kFunctionSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> FunctionCommands() { return kFunctionCommands; }

}  // namespace dynakv::server
