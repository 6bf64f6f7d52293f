// DEBUG's Redis subcommands (the cluster ones are in cmd_cluster.cc, whose table lists these):
// SLEEP, SET-ACTIVE-EXPIRE and OBJECT, with Redis 7.0's replies. Any other subcommand Redis 7.0
// has (JMAP is not one) gets its unknown-subcommand error here too.
#pragma once

namespace dynakv::server {

struct CommandContext;

// DEBUG SLEEP <seconds>: blocks the node that long (a fraction is fine), as Redis does; for
// latency and timeout tests.
void DebugSleep(CommandContext& ctx);
// DEBUG SET-ACTIVE-EXPIRE 0|1: turns the engine's background reaping of expired keys off and on,
// as Redis does (reads never return an expired key either way).
void DebugSetActiveExpire(CommandContext& ctx);
// DEBUG OBJECT <key>: Redis's one-line description (cmd_object.cc, which knows encodings);
// "ERR no such key" for a missing one.
void DebugObject(CommandContext& ctx);

}  // namespace dynakv::server
