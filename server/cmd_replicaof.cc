// REPLICAOF / SLAVEOF (issue 17): this node becomes the replica of a running Redis master, or
// (NO ONE) a master again with the data it has. Replies and errors are Redis 7.0's; the link
// itself is replica_link.h. In cluster mode the node that runs it follows the master and writes
// what it receives through the ring (replica_link.h).
#include <span>
#include <string>

#include "ascii.h"
#include "command.h"
#include "command_util.h"
#include "log.h"
#include "number_parse.h"
#include "replica_link.h"
#include "server.h"

namespace dynakv::server {
namespace {

void ReplicaofCommand(CommandContext& ctx) {
  ReplicaLink& link = ctx.server.replication();
  if (link.IsMasterClient(ctx.client)) {
    // Redis never sends it down a replication stream; it would end the link running it.
    ctx.reply.Error("ERR Command is not valid from the master's replication stream.");
    return;
  }
  if (EqualsIgnoreCase(ctx.argv[1], "no") && EqualsIgnoreCase(ctx.argv[2], "one")) {
    link.Unset();
    ctx.reply.Ok();
    return;
  }
  long long port = 0;
  if (!ParseLongLong(ctx.argv[2], &port) || port < 0 || port > 65535) {
    ctx.reply.Error("ERR Invalid master port");
    return;
  }
  const std::string host(ctx.argv[1]);
  if (link.active() && EqualsIgnoreCase(link.host(), host) && link.port() == port) {
    Log(ctx.server.log_level(), LogLevel::kNotice,
        "REPLICAOF would result into synchronization with the master we are already connected "
        "with. No operation performed.");
    ctx.reply.Simple("OK Already connected to specified master");
    return;
  }
  link.SetMaster(host, static_cast<int>(port));
  ctx.reply.Ok();
}

// clang-format off
constexpr CommandSpec kReplicaofCommands[] = {
    {.name = "replicaof", .arity = 3,
     .flags = kCmdAdmin | kCmdNoScript | kCmdStale | kCmdNoAsyncLoading,
     .handler = ReplicaofCommand},
    {.name = "slaveof", .arity = 3,
     .flags = kCmdAdmin | kCmdNoScript | kCmdStale | kCmdNoAsyncLoading,
     .handler = ReplicaofCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ReplicaofCommands() { return kReplicaofCommands; }

}  // namespace dynakv::server
