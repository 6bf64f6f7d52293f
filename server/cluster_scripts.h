// EVAL, EVALSHA, their _RO forms and FCALL/FCALL_RO in cluster mode, at the coordinator (README
// "Transactions and scripts in cluster mode"). A script's declared KEYS must share a hash tag
// (else CROSSSLOT, checked first as Redis Cluster does before running anything); the script then
// runs as one ClusterExecutor::RunAtomic operation: its keys locked and read at the connection's
// R, the script run against that snapshot (a redis.call on an undeclared key gets Redis
// Cluster's non-local key error), every key it changed written at W before the reply.
#pragma once

#include <string>

#include "command.h"

namespace dynakv::server {

class ClusterExecutor;

// CROSSSLOT for a script command whose numkeys (argv[2]) is valid and names keys of different
// hash tags: replied, and true. False otherwise (the command's own checks follow).
bool ScriptKeysCrossSlot(CommandContext& ctx);

// What to run once the keys were read, found again by name then: a SCRIPT FLUSH or FUNCTION
// DELETE in between leaves nothing dangling.
struct ScriptRef {
  bool function = false;  // FCALL: `name` is the function's
  std::string name;       // a script's SHA1 or a function's name
  std::string source;     // EVAL's body, loaded again if flushed meanwhile ("" for the others)
};

// The snapshot of a cluster EXEC when ctx is one of its queued commands (EVAL inside MULTI: its
// declared keys were read with the transaction's, and it runs against them inline); nullptr
// otherwise.
Keyspace* ExecSnapshot(CommandContext& ctx);

// Whether MULTI may queue the script command `spec` in cluster mode (EVAL and FCALL families).
bool IsScriptCommand(const CommandSpec& spec);

// Runs the script or function for ctx.client with argv[3..3+numkeys) as KEYS and the rest as
// ARGV, the checks on its flags already passed; the reply follows when its writes met W.
void RunScriptInCluster(CommandContext& ctx, ClusterExecutor& cluster, ScriptRef script,
                        long long numkeys, bool read_only_command);

}  // namespace dynakv::server
