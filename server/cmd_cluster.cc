// Cluster commands: CONSISTENCY (per-connection levels), VGET / VSET (versioned access with
// siblings and causal contexts, Riak's model), RING (membership and ownership), LEAVE
// (decommissioning this node) and the DEBUG
// drills: PARTITION (simulated network partitions), ANTIENTROPY (an exchange now) and LOCALGET
// (this replica's own copy of a key). On a single node they reply "ERR cluster mode is not
// enabled".

#include <algorithm>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "client.h"
#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster/versioned_value.h"
#include "cluster_config.h"
#include "cluster_executor.h"
#include "command.h"
#include "command_util.h"
#include "debug_commands.h"
#include "expire_options.h"
#include "server.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {
namespace {

constexpr std::string_view kErrNotCluster = "ERR cluster mode is not enabled";

// The executor, or nullptr after replying the single-node error.
ClusterExecutor* Executor(CommandContext& ctx) {
  ClusterExecutor* executor = ctx.server.cluster_executor();
  if (executor == nullptr) ctx.reply.Error(kErrNotCluster);
  return executor;
}

// CONSISTENCY                 -> ["read", <level>, "write", <level>]
// CONSISTENCY <level>         -> both levels
// CONSISTENCY <read> <write>
void ConsistencyCommand(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  if (ctx.argv.size() > 3) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (ctx.argv.size() == 1) {
    ctx.reply.ArrayHeader(4);
    ctx.reply.Bulk("read");
    ctx.reply.Bulk(cluster::ToString(executor->ReadLevel(ctx.client, nullptr)));
    ctx.reply.Bulk("write");
    ctx.reply.Bulk(cluster::ToString(executor->WriteLevel(ctx.client, nullptr)));
    return;
  }
  const int n = EffectiveReplicationFactor(ctx.server.config());
  cluster::ConsistencyLevel read;
  cluster::ConsistencyLevel write;
  std::string error;
  if (!ParseLevelArgument(ctx.argv[1], n, &read, &error) ||
      !ParseLevelArgument(ctx.argv.back(), n, &write, &error)) {
    ctx.reply.Error(error);
    return;
  }
  ctx.client.set_levels(read, write);
  ctx.reply.Ok();
}

// KEYSCOPE [LOCAL|CLUSTER]: whether this connection's KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHALL
// and FLUSHDB cover the whole cluster (the default) or this node's replica only (an operator's
// view: what this node holds, tombstones and keys it is not the primary of aside). No argument:
// the current scope.
void KeyScopeCommand(CommandContext& ctx) {
  if (Executor(ctx) == nullptr) return;
  if (ctx.argv.size() > 2) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (ctx.argv.size() == 1) {
    ctx.reply.Bulk(ctx.client.local_keyscope() ? "local" : "cluster");
    return;
  }
  if (EqualsIgnoreCase(ctx.argv[1], "local")) {
    ctx.client.set_local_keyscope(true);
  } else if (EqualsIgnoreCase(ctx.argv[1], "cluster")) {
    ctx.client.set_local_keyscope(false);
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  ctx.reply.Ok();
}

// VGET key [R level] -> [context, [value ...]]
void VGetCommand(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  executor->VersionedGet(ctx.client, std::string(ctx.argv[1]),
                         executor->ReadLevel(ctx.client, ctx.levels));
}

// VSET key value CONTEXT token [EX seconds|PX milliseconds] [W level]
void VSetCommand(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  const auto& argv = ctx.argv;
  if (!EqualsIgnoreCase(argv[3], "context")) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  cluster::VectorClock context;
  if (!cluster::SiblingSet::DecodeContextToken(argv[4], &context)) {
    ctx.reply.Error("ERR invalid context");
    return;
  }
  std::int64_t expire_at = 0;
  if (argv.size() != 5) {
    const bool seconds = EqualsIgnoreCase(argv[5], "ex");
    if (argv.size() != 7 || (!seconds && !EqualsIgnoreCase(argv[5], "px"))) {
      ctx.reply.Error(kErrSyntax);
      return;
    }
    const ExpireError error = ResolveStringExpire(seconds ? ExpireKind::kEx : ExpireKind::kPx,
                                                  argv[6], NowMs(), &expire_at);
    if (ReplyExpireError(ctx.reply, error, "vset")) return;
  }
  if (argv[2].size() > static_cast<std::uint64_t>(ctx.server.config().proto_max_bulk_len)) {
    ctx.reply.Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return;
  }
  executor->VersionedSet(ctx.client, std::string(argv[1]), std::string(argv[2]), context,
                         expire_at, executor->WriteLevel(ctx.client, ctx.levels));
}

std::string StateText(const cluster::MemberStatus& member) {
  if (!member.self) return cluster::MemberStateName(member.state);
  if (member.state == cluster::MemberState::kLeaving) return "myself,leaving";
  if (member.state == cluster::MemberState::kLeft) return "myself,left";
  return "myself";
}

// One entry per member this node knows of, in id order: "<id> <host:port> dc=<dc> weight=<w>
// state=<state> owns=<pct>% phi=<phi> silence_ms=<ms>". The state is this node's failure
// detector's verdict combined with what the member announced (myself, up, suspect, down,
// leaving, left; this node itself is "myself", "myself,leaving" or "myself,left"); phi is its
// suspicion and silence_ms the time since its heartbeat last advanced here, so an operator sees
// a member drifting towards down before it gets there. A member that left owns nothing.
void RingCommand(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  cluster::ClusterNode& node = executor->node();
  std::map<std::string, double, std::less<>> owned;
  for (const cluster::NodeOwnership& owner : node.ring().Owners()) {
    owned[owner.node->id] = owner.fraction;
  }
  const std::vector<cluster::MemberStatus> members = node.Members();
  ctx.reply.ArrayHeader(members.size());
  for (const cluster::MemberStatus& member : members) {
    const cluster::NodeInfo& info = member.node;
    const auto found = owned.find(info.id);
    const double fraction = found == owned.end() ? 0 : found->second;  // left: owns nothing
    char numbers[96];
    std::snprintf(numbers, sizeof(numbers), " owns=%.2f%% phi=%.2f silence_ms=%lld",
                  fraction * 100, member.phi, static_cast<long long>(member.silence_ms));
    ctx.reply.Bulk(info.id + " " + FormatHostPort(info) + " dc=" +
                   (info.dc.empty() ? "-" : info.dc) + " weight=" + std::to_string(info.weight) +
                   " state=" + StateText(member) + numbers);
  }
}

// LEAVE: decommissions this node (ClusterNode::Leave). Like Cassandra's nodetool decommission
// it returns only when it is over: +OK once every key this node held is on the nodes that took
// over its ranges and the others have dropped it from their rings; meanwhile the node keeps
// serving, and RING / INFO cluster (cluster_rebalance_state) on any node show the progress.
void LeaveCommand(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  Server* server = &ctx.server;
  const std::uint64_t client_id = ctx.client.id();
  std::string error;
  const bool started = executor->node().Leave(
      [server, client_id](std::string failure) {
        Client* client = server->FindClient(client_id);
        if (client == nullptr || client->closing()) return;
        if (failure.empty()) {
          client->reply().Ok();
        } else {
          const std::string error = "ERR " + failure;
          client->reply().Error(error);
          server->NoteErrorReply(error);
        }
        client->FinishAsyncCommand();
      },
      &error);
  if (!started) {
    ctx.reply.Error("ERR cannot leave: " + error);
    return;
  }
  // The reply comes from the callback, which never runs inside Leave.
  ctx.client.BeginAsyncCommand();
}

// DEBUG PARTITION [node-id ...]: drop bus traffic with these members (none: heal).
void DebugPartition(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  cluster::ClusterNode& node = executor->node();
  std::vector<std::string> ids;
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    const std::string_view id = ctx.argv[i];
    if (node.ring().Find(id) == nullptr) {
      ctx.reply.Error("ERR unknown node '" + std::string(id) + "'");
      return;
    }
    if (id == node.self_id()) {
      ctx.reply.Error("ERR a node cannot be partitioned from itself");
      return;
    }
    ids.emplace_back(id);
  }
  node.SetPartitionedFrom(std::move(ids));
  ctx.reply.Ok();
}

// DEBUG PAXOS-FAILPOINT NONE|STOP-AFTER-ACCEPT|STOP-AFTER-SELF-ACCEPT|STOP-AFTER-SELF-COMMIT:
// this node's SERIAL rounds stop (never answer, as if the coordinator died) once a majority
// accepted their proposal, or once only this node did, or once a majority accepted and only
// this node has the commit; NONE restores them. For the crash drills.
void DebugPaxosFailpoint(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  const std::string_view mode = ctx.argv[2];
  cluster::PaxosFailpoint failpoint;
  if (EqualsIgnoreCase(mode, "NONE")) {
    failpoint = cluster::PaxosFailpoint::kNone;
  } else if (EqualsIgnoreCase(mode, "STOP-AFTER-ACCEPT")) {
    failpoint = cluster::PaxosFailpoint::kStopAfterAccept;
  } else if (EqualsIgnoreCase(mode, "STOP-AFTER-SELF-ACCEPT")) {
    failpoint = cluster::PaxosFailpoint::kStopAfterSelfAccept;
  } else if (EqualsIgnoreCase(mode, "STOP-AFTER-SELF-COMMIT")) {
    failpoint = cluster::PaxosFailpoint::kStopAfterSelfCommit;
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  executor->node().SetPaxosFailpoint(failpoint);
  ctx.reply.Ok();
}

// DEBUG ANTIENTROPY [node-id]: one Merkle-tree exchange now (with the next peer in turn).
void DebugAntiEntropy(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  std::string peer;
  if (ctx.argv.size() == 3) {
    peer.assign(ctx.argv[2]);
    if (executor->node().ring().Find(peer) == nullptr || peer == executor->node().self_id()) {
      ctx.reply.Error("ERR unknown peer '" + peer + "'");
      return;
    }
  }
  executor->AntiEntropy(ctx.client, std::move(peer));
}

// DEBUG LOCALGET key: this replica's own copy of `key`, resolved as GET resolves it (nil when it
// holds no live version), without asking any other replica. Shows what hinted handoff, read
// repair or anti-entropy delivered to this node. An error when this node is not one of the key's
// replicas, so "missing" and "not mine" are told apart.
void DebugLocalGet(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  cluster::ClusterNode& node = executor->node();
  const std::string_view key = ctx.argv[2];
  if (!node.IsReplicaOf(key)) {
    ctx.reply.Error("ERR this node is not a replica of that key");
    return;
  }
  const cluster::SiblingSet set = node.LocalSiblings(key);
  const cluster::Version* winner = set.Resolve();
  if (winner == nullptr || !winner->IsLive(NowMs())) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(PlainValue(*winner));
}

// DEBUG LOCALRAW key: the bytes of this replica's own copy of `key` (its encoded sibling set,
// nil when it holds none): replicas that saw the same writes hold identical bytes, which is
// what anti-entropy compares.
void DebugLocalRaw(CommandContext& ctx) {
  ClusterExecutor* executor = Executor(ctx);
  if (executor == nullptr) return;
  cluster::ClusterNode& node = executor->node();
  const std::string_view key = ctx.argv[2];
  if (!node.IsReplicaOf(key)) {
    ctx.reply.Error("ERR this node is not a replica of that key");
    return;
  }
  const cluster::SiblingSet set = node.LocalSiblings(key);
  if (set.empty()) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(set.Encode());
}

void DebugHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "SLEEP <seconds>",
      "    Stop the server for <seconds>. Decimals allowed.",
      "SET-ACTIVE-EXPIRE <0|1>",
      "    Setting it to 0 disables expiring keys in background when they are not",
      "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
      "    default.",
      "OBJECT <key>",
      "    Show low level info about `key` and associated value.",
      "PARTITION [<node-id> ...]",
      "    Cluster mode: drop all bus traffic between this node and the given members, as if",
      "    the network had lost it. Without arguments, heal. For tests and failure drills.",
      "ANTIENTROPY [<node-id>]",
      "    Cluster mode: run one anti-entropy (Merkle tree) exchange now, with the given member",
      "    or the next one in turn, and reply what it repaired.",
      "LOCALGET <key>",
      "    Cluster mode: this node's own replica of the key, resolved as GET does (nil when it",
      "    holds none; an error when it is not one of the key's replicas), without asking",
      "    other replicas. For tests and failure drills.",
      "PAXOS-FAILPOINT NONE|STOP-AFTER-ACCEPT|STOP-AFTER-SELF-ACCEPT|STOP-AFTER-SELF-COMMIT",
      "    Cluster mode: this node's SERIAL rounds stop without answering (as if it died)",
      "    once a majority accepted their proposal, or once only this node did, or once a",
      "    majority accepted and only this node committed. For drills.",
      "LOCALRAW <key>",
      "    Cluster mode: the bytes of this node's own replica of the key (its encoded versions),",
      "    nil when it holds none. Replicas that saw the same writes hold the same bytes.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

const Subcommand kDebugSubcommands[] = {
    {"sleep", 3, DebugSleep},  // Redis's own subcommands (debug_commands.h)
    {"set-active-expire", 3, DebugSetActiveExpire},
    {"object", 3, DebugObject},
    {"partition", -2, DebugPartition},
    {"antientropy", -2, DebugAntiEntropy},
    {"localget", 3, DebugLocalGet},
    {"paxos-failpoint", 3, DebugPaxosFailpoint},
    {"localraw", 3, DebugLocalRaw},
    {"help", 2, DebugHelp},
};

void DebugCommand(CommandContext& ctx) {
  // Redis's DEBUG has no subcommand table: an unknown subcommand or a wrong argument count gets
  // its syntax error.
  for (const Subcommand& sub : kDebugSubcommands) {
    if (!EqualsIgnoreCase(sub.name, ctx.argv[1])) continue;
    const auto argc = static_cast<long long>(ctx.argv.size());
    if (sub.arity >= 0 ? argc == sub.arity : argc >= -static_cast<long long>(sub.arity)) {
      sub.handler(ctx);
      return;
    }
    break;
  }
  ctx.reply.Error("ERR unknown subcommand or wrong number of arguments for '" +
                  std::string(ctx.argv[1].substr(0, 128)) + "'. Try DEBUG HELP.");
}

constexpr std::uint32_t kOwn = kCmdOwnReplication;

// clang-format off
constexpr CommandSpec kClusterCommands[] = {
    // Not in Redis: categories as its nearest Redis relatives (CLIENT SETNAME, GET, SET, CLUSTER
    // NODES, CLUSTER RESET).
    {.name = "consistency", .arity = -1, .flags = kCmdFast, .acl = kAclConnection,
     .handler = ConsistencyCommand},
    {.name = "keyscope", .arity = -1, .flags = kCmdFast, .acl = kAclConnection,
     .handler = KeyScopeCommand},
    {.name = "vget", .arity = 2, .flags = kCmdReadOnly | kOwn | kCmdLevelOption,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = VGetCommand},
    {.name = "vset", .arity = -5, .flags = kCmdWrite | kCmdDenyOom | kOwn | kCmdLevelOption,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate)}, .handler = VSetCommand},
    {.name = "ring", .arity = 1, .handler = RingCommand},
    {.name = "leave", .arity = 1, .flags = kCmdAdmin, .handler = LeaveCommand},
    {.name = "debug", .arity = -2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = DebugCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ClusterCommands() { return kClusterCommands; }

}  // namespace dynakv::server
