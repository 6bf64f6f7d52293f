#include "cluster_scripts.h"

#include <memory>
#include <utility>
#include <vector>

#include "client.h"
#include "cluster_executor.h"
#include "cross_slot.h"
#include "number_parse.h"
#include "script_runner.h"
#include "server.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {

bool ScriptKeysCrossSlot(CommandContext& ctx) {
  long long numkeys = 0;
  if (ctx.argv.size() < 3 || !ParseLongLong(ctx.argv[2], &numkeys) || numkeys < 0 ||
      numkeys > static_cast<long long>(ctx.argv.size()) - 3) {
    return false;
  }
  const std::vector<std::string_view> keys(ctx.argv.begin() + 3, ctx.argv.begin() + 3 + numkeys);
  if (SameHashTag(keys)) return false;
  ctx.reply.Error(kErrCrossSlot);
  return true;
}

Keyspace* ExecSnapshot(CommandContext& ctx) {
  return dynamic_cast<SnapshotKeyspace*>(&ctx.keyspace);
}

bool IsScriptCommand(const CommandSpec& spec) {
  // The scripting rows that take keys (SCRIPT and FUNCTION take none).
  return (spec.acl & kAclScripting) != 0 && HasKeys(spec);
}

void RunScriptInCluster(CommandContext& ctx, ClusterExecutor& cluster, ScriptRef script,
                        long long numkeys, bool read_only_command) {
  const auto first_key = ctx.argv.begin() + 3;
  // Owned: the request's buffer moves on while the keys are read.
  auto keys = std::make_shared<const std::vector<std::string>>(first_key, first_key + numkeys);
  auto args = std::make_shared<const std::vector<std::string>>(first_key + numkeys, ctx.argv.end());
  std::vector<std::string> distinct;
  AddDistinct(&distinct, *keys);
  Server& server = ctx.server;
  cluster.RunAtomic(
      ctx.client, std::move(distinct),
      [&server, script = std::move(script), keys, args, read_only_command](AtomicView& view) {
        ScriptRunner& runner = server.scripts();
        const std::vector<std::string_view> key_views(keys->begin(), keys->end());
        const std::vector<std::string_view> arg_views(args->begin(), args->end());
        if (script.function) {
          const scripting::Function* function = runner.engine().FindFunction(script.name);
          if (function == nullptr) return view.reply.Error("ERR Function not found");
          return runner.RunFunction(view.client, *function, key_views, arg_views, read_only_command,
                                    view.reply, &view.snapshot);
        }
        const scripting::Script* found = runner.engine().Find(script.name);
        std::string error;
        if (found == nullptr && !script.source.empty()) {
          found = runner.engine().Load(script.source, &error);
        }
        if (found == nullptr) {
          return view.reply.Error("NOSCRIPT No matching script. Please use EVAL.");
        }
        runner.Run(view.client, *found, key_views, arg_views, read_only_command, view.reply,
                   &view.snapshot);
      },
      /*may_serial=*/true);
}

}  // namespace dynakv::server
