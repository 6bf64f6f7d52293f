// ROLE as a Redis master without replicas answers it, and WAIT: on a single node as such a master
// (0 at once), on a REPLICAOF replica Redis's refusal, in cluster mode counting the replicas of
// the key that hold the connection's last write (cluster_wait.h).

#include <span>

#include "cluster_executor.h"
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

// WAIT numreplicas timeout (milliseconds, 0 = forever): Redis's checks, then the count.
void WaitCommand(CommandContext& ctx) {
  // A replica of a Redis master (REPLICAOF) refuses before looking at its arguments, as Redis's
  // waitCommand does when server.masterhost is set.
  if (ctx.server.replication().active()) {
    ctx.reply.Error(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
        "if a replica is configured to be writable (which is not the default) writes to "
        "replicas are just local and are not propagated.");
    return;
  }
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
  if (ClusterExecutor* executor = ctx.server.cluster_executor()) {
    executor->waits().Wait(ctx, replicas, static_cast<std::uint64_t>(timeout));
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
