// DEBUG's Redis subcommands (the cluster ones are in cmd_cluster.cc, whose table lists these):
// SLEEP, SET-ACTIVE-EXPIRE, OBJECT and JMAP, with Redis 7.0's replies.
#pragma once

namespace dynakv::server {

struct CommandContext;

// DEBUG SLEEP <seconds>: blocks the node that long (a fraction is fine), as Redis does; for
// latency and timeout tests.
void DebugSleep(CommandContext& ctx);
// DEBUG SET-ACTIVE-EXPIRE 0|1: accepted as Redis does (OK); the engine's reaping of expired keys
// keeps running (reads never return an expired key either way).
void DebugSetActiveExpire(CommandContext& ctx);
// DEBUG OBJECT <key>: Redis's one-line description (cmd_object.cc, which knows encodings);
// "ERR no such key" for a missing one.
void DebugObject(CommandContext& ctx);
// DEBUG JMAP: Redis's reply to it (OK); there is no Java heap.
void DebugJmap(CommandContext& ctx);

}  // namespace dynakv::server
