// ROLE and WAIT as a Redis master without replicas answers them: a dynakv node has no Redis-style
// replicas (a cluster's copies are written by the coordinator at the request's consistency
// level, which a write's reply already waited for).

#include <span>

#include "command.h"
#include "number_parse.h"
#include "replica_link.h"
#include "server.h"

namespace dynakv::server {
namespace {

// ["master", replication offset 0, no replicas]; as a replica of a Redis master (REPLICAOF),
// ["slave", host, port, state, offset] (offset -1 before the first sync).
void RoleCommand(CommandContext& ctx) {
  if (const ReplicaLink& link = ctx.server.replication(); link.active()) {
    ctx.reply.ArrayHeader(5);
    ctx.reply.Bulk("slave");
    ctx.reply.Bulk(link.host());
    ctx.reply.Integer(link.port());
    ctx.reply.Bulk(ReplicaLink::StateName(link.state()));
    ctx.reply.Integer(link.offset());
    return;
  }
  ctx.reply.ArrayHeader(3);
  ctx.reply.Bulk("master");
  ctx.reply.Integer(0);
  ctx.reply.ArrayHeader(0);
}

// WAIT numreplicas timeout: Redis's checks, then 0 at once (no replica acknowledges anything;
// in cluster mode the write already reached its W replicas before it was acknowledged).
void WaitCommand(CommandContext& ctx) {
  long long replicas = 0;
  if (!ParseLongLong(ctx.argv[1], &replicas)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  long long timeout = 0;
  if (!ParseLongLong(ctx.argv[2], &timeout)) {
    ctx.reply.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.Error("ERR timeout is negative");
    return;
  }
  ctx.reply.Integer(0);
}

// clang-format off
constexpr CommandSpec kReplicationCommands[] = {
    {.name = "role", .arity = 1, .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast,
     .acl = kAclAdmin | kAclDangerous, .handler = RoleCommand},
    {.name = "wait", .arity = 3, .flags = kCmdNoScript, .acl = kAclConnection,
     .tips = "request_policy:all_shards response_policy:agg_min", .handler = WaitCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ReplicationCommands() { return kReplicationCommands; }

}  // namespace dynakv::server
