// Lua scripting commands (Redis 7.0's eval.c): EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.
// The scripts themselves run in scripting/ through ScriptRunner.

#include <string>
#include <vector>

#include "ascii.h"
#include "client.h"
#include "cluster_scripts.h"
#include "command.h"
#include "command_util.h"
#include "number_parse.h"
#include "script_runner.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

using scripting::Script;

void EvalGeneric(CommandContext& ctx, bool by_sha, bool read_only_command) {
  const auto& argv = ctx.argv;
  // The rows are kCmdOwnReplication so that cluster mode hands them here without reading any
  // replica: RunScriptInCluster reads the declared keys (cluster_scripts.h).
  ClusterExecutor* cluster = ctx.server.cluster_executor();
  if (cluster != nullptr && ScriptKeysCrossSlot(ctx)) return;
  // A SHA1 of another length cannot match: NOSCRIPT before anything else, as Redis.
  if (by_sha && argv[1].size() != 40) {
    return ctx.reply.Error("NOSCRIPT No matching script. Please use EVAL.");
  }
  long long numkeys = 0;
  if (!ParseNumKeys(ctx, &numkeys)) return;
  ScriptRunner& runner = ctx.server.scripts();
  const Script* script = nullptr;
  if (by_sha) {
    script = runner.engine().Find(argv[1]);
    if (script == nullptr) return ctx.reply.Error("NOSCRIPT No matching script. Please use EVAL.");
  } else {
    std::string error;
    script = runner.engine().Load(argv[1], &error);
    if (script == nullptr) return ctx.reply.Error(error);
  }
  if (const std::string refusal = RefusalByFlags(ctx.server, script->flags, read_only_command);
      !refusal.empty()) {
    return ctx.reply.Error(refusal);
  }
  Keyspace* in_exec = cluster != nullptr ? ExecSnapshot(ctx) : nullptr;
  if (cluster != nullptr && in_exec == nullptr) {
    return RunScriptInCluster(ctx, *cluster,
                              ScriptRef{false, script->sha, by_sha ? "" : std::string(argv[1])},
                              numkeys, read_only_command);
  }
  const auto first_key = argv.begin() + 3;
  const std::vector<std::string_view> keys(first_key, first_key + numkeys);
  const std::vector<std::string_view> args(first_key + numkeys, argv.end());
  runner.Run(ctx.client, *script, keys, args, read_only_command, ctx.reply, in_exec);
}

void EvalCommand(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
void EvalShaCommand(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
void EvalRoCommand(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
void EvalShaRoCommand(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

void ScriptLoad(CommandContext& ctx) {
  std::string error;
  const Script* script = ctx.server.scripts().engine().Load(ctx.argv[2], &error);
  if (script == nullptr) return ctx.reply.Error(error);
  ctx.reply.Bulk(script->sha);
}

void ScriptExists(CommandContext& ctx) {
  ctx.reply.ArrayHeader(ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    ctx.reply.Integer(ctx.server.scripts().engine().Find(ctx.argv[i]) != nullptr ? 1 : 0);
  }
}

void ScriptFlush(CommandContext& ctx) {
  // ASYNC and SYNC both flush at once: the cache is small next to a keyspace.
  if (ctx.argv.size() > 3 || (ctx.argv.size() == 3 && !EqualsIgnoreCase(ctx.argv[2], "sync") &&
                              !EqualsIgnoreCase(ctx.argv[2], "async"))) {
    return ctx.reply.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  ctx.server.scripts().engine().Flush();
  ctx.reply.Ok();
}

void ScriptKill(CommandContext& ctx) {
  // A client's SCRIPT KILL runs between scripts: a script never yields to other clients here.
  ctx.reply.Error("NOTBUSY No scripts in execution right now.");
}

void ScriptHelp(CommandContext& ctx) {
  // Redis 7.0's text, without DEBUG (no Lua debugger).
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// clang-format off
const CommandSpec kScriptSubcommands[] = {
    {.name = "exists", .arity = -3, .flags = kCmdNoScript, .acl = kAclScripting,
     .tips = "request_policy:all_shards response_policy:agg_logical_and", .handler = ScriptExists},
    {.name = "flush", .arity = -2, .flags = kCmdNoScript, .acl = kAclScripting,
     .tips = "request_policy:all_nodes response_policy:all_succeeded", .handler = ScriptFlush},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclScripting,
     .handler = ScriptHelp},
    {.name = "kill", .arity = 2, .flags = kCmdNoScript | kCmdAllowBusy, .acl = kAclScripting,
     .tips = "request_policy:all_shards response_policy:one_succeeded", .handler = ScriptKill},
    {.name = "load", .arity = 3, .flags = kCmdNoScript | kCmdStale, .acl = kAclScripting,
     .tips = "request_policy:all_nodes response_policy:all_succeeded", .handler = ScriptLoad},
};

const CommandSpec kScriptingCommands[] = {
    {.name = "eval", .arity = -3,
     .flags = kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys |
              kCmdOwnReplication,
     .acl = kAclScripting,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRW | kKeyAccess | kKeyUpdate,
                          "We cannot tell how the keys will be used so we assume the worst, RW "
                          "and UPDATE")},
     .handler = EvalCommand},
    {.name = "evalsha", .arity = -3,
     .flags = kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys |
              kCmdOwnReplication,
     .acl = kAclScripting, .keys = {IndexKeynum(2, 0, 1, 1, kKeyRW | kKeyAccess | kKeyUpdate)},
     .handler = EvalShaCommand},
    {.name = "eval_ro", .arity = -3,
     .flags = kCmdReadOnly | kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys |
              kCmdOwnReplication,
     .acl = kAclScripting,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess,
                          "We cannot tell how the keys will be used so we assume the worst, RO "
                          "and ACCESS")},
     .handler = EvalRoCommand},
    {.name = "evalsha_ro", .arity = -3,
     .flags = kCmdReadOnly | kCmdNoScript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys |
              kCmdOwnReplication,
     .acl = kAclScripting, .keys = {IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess)},
     .handler = EvalShaRoCommand},
    {.name = "script", .arity = -2, .subcommands = kScriptSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ScriptingCommands() { return kScriptingCommands; }

}  // namespace dynakv::server
